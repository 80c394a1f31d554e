package aio

import (
	"context"
	"testing"
	"time"
)

// Cleanup contexts leave the tree with the code that made them: a server whose
// handlers each make one must not grow its main task's node for as long as it
// runs, nor keep looking below cancelled nodes.
func TestCleanupLeavesNothing(t *testing.T) {
	l := NewLoop(WithClock(NewVirtualClock(time.Time{})))
	defer l.Close()
	main := Spawn(l.Context(), func(ctx context.Context) (int, error) {
		for range 100 {
			Go(ctx, func(ctx context.Context) error {
				defer Sleep(Cleanup(ctx), time.Millisecond)
				Timeout(ctx, time.Millisecond, func(ctx context.Context) error {
					defer Sleep(Cleanup(ctx), time.Millisecond)
					return Sleep(ctx, time.Hour)
				})
				return nil
			})
		}
		defer Sleep(Cleanup(ctx), 0)
		Sleep(ctx, time.Second)
		n := 0
		for c := nodeOf(ctx).first; c != nil; c = c.next {
			n++
		}
		return n, nil
	})
	if err := l.RunUntilComplete(main); err != nil {
		t.Fatal(err)
	}
	if n, _ := main.Result(); n != 1 { // the main task's own, still in use
		t.Errorf("%d nodes under the main task after its children ended; want 1", n)
	}
	if l.cleanups != 0 {
		t.Errorf("%d cleanup contexts linked after every task ended; want 0", l.cleanups)
	}
}
