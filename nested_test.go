package aio_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestNestedPullAwaits(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		ticker := func(n int) iter.Seq2[int, error] {
			return func(yield func(int, error) bool) {
				for i := range n {
					if err := aio.Sleep(ctx, time.Second); err != nil {
						yield(0, err)
						return
					}
					if !yield(i, nil) {
						return
					}
				}
			}
		}
		next, stop := iter.Pull2(ticker(3))
		defer stop()
		other := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, 1500*time.Millisecond) })
		for {
			v, err, ok := next()
			if !ok {
				break
			}
			tr.printf("%d %v", v, err)
		}
		other.Await(ctx)
		return nil
	})
	if err != nil || took != 3*time.Second {
		t.Fatal(err, took)
	}
}
