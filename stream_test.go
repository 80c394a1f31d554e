package aio_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// ticker is the lecture's async generator: it awaits between elements.
func ticker(ctx context.Context, upto int, every time.Duration, cleanup *[]string) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		defer func() {
			if cleanup != nil {
				*cleanup = append(*cleanup, "closed")
			}
		}()
		for i := range upto {
			if err := aio.Sleep(ctx, every); err != nil {
				yield(0, err)
				return
			}
			if !yield(i, nil) {
				return
			}
		}
	}
}

func TestLectureAsyncFor(t *testing.T) {
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		var got []int
		for i, err := range ticker(ctx, 3, time.Second, nil) { // async for i in ticker(3)
			if err != nil {
				return err
			}
			got = append(got, i)
		}
		tr.printf("%v", got)
		// aiter/anext: iter.Pull2, from inside the task.
		next, stop := iter.Pull2(ticker(ctx, 2, time.Second, nil))
		defer stop()
		for range 3 {
			v, err, ok := next()
			tr.printf("anext: %d %v %v", v, err, ok)
		}
		return nil
	})
	if err != nil || took != 5*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
	wantTranscript(t, tr, `
3s [0 1 2]
4s anext: 0 <nil> true
5s anext: 1 <nil> true
5s anext: 0 <nil> false`)
}

func TestAsyncForBreakRunsCleanup(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var cleanup []string
		for i := range ticker(ctx, 10, time.Second, &cleanup) {
			if i == 1 {
				break
			}
		}
		if !slices.Equal(cleanup, []string{"closed"}) {
			t.Errorf("cleanup %v after break", cleanup)
		}
		return nil
	})
	if err != nil || took != 2*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestPullerNextWithTimeout(t *testing.T) {
	err, _, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		var cleanup []string
		p := aio.Pull(ctx, func(ctx context.Context) iter.Seq2[int, error] {
			return ticker(ctx, 3, time.Second, &cleanup)
		})
		for {
			var v int
			err := aio.Timeout(ctx, 700*time.Millisecond, func(ctx context.Context) (err error) {
				v, err = p.Next(ctx)
				return err
			})
			if errors.Is(err, context.DeadlineExceeded) {
				tr.printf("timeout")
				continue
			}
			if err == io.EOF {
				tr.printf("end")
				break
			}
			tr.printf("got %d", v)
		}
		if !slices.Equal(cleanup, []string{"closed"}) {
			t.Errorf("cleanup %v", cleanup)
		}
		// Close stops a stream early and waits for its cleanup.
		cleanup = nil
		p = aio.Pull(ctx, func(ctx context.Context) iter.Seq2[int, error] {
			return ticker(ctx, 100, time.Second, &cleanup)
		})
		p.Next(ctx)
		if err := p.Close(ctx); err != nil || !slices.Equal(cleanup, []string{"closed"}) {
			t.Errorf("Close = %v, cleanup %v", err, cleanup)
		}
		if _, err := p.Next(ctx); err != io.EOF {
			t.Errorf("Next after Close = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Elements are computed only when asked for, and none is lost to a timeout.
	wantTranscript(t, tr, `
700ms timeout
1s got 0
1.7s timeout
2s got 1
2.7s timeout
3s got 2
3s end`)
}

func TestMerge(t *testing.T) {
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		stream := func(name string, every time.Duration, n int, cleanup *[]string) aio.Stream[string] {
			return func(ctx context.Context) iter.Seq2[string, error] {
				return func(yield func(string, error) bool) {
					for i, err := range ticker(ctx, n, every, cleanup) {
						if !yield(name+string(rune('0'+i)), err) {
							return
						}
					}
				}
			}
		}
		for v, err := range aio.Merge(ctx, stream("a", 2*time.Second, 2, nil), stream("b", 3*time.Second, 2, nil)) {
			tr.printf("%s %v", v, err)
		}
		var cleanup []string
		for v := range aio.Merge(ctx, stream("x", time.Second, 100, &cleanup), stream("y", time.Second, 100, &cleanup)) {
			if v == "x2" {
				break
			}
		}
		if len(cleanup) != 2 {
			t.Errorf("cleanup after break: %v", cleanup)
		}
		return nil
	})
	if err != nil || took != 9*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
	wantTranscript(t, tr, `
2s a0 <nil>
3s b0 <nil>
4s a1 <nil>
6s b1 <nil>`)
}
