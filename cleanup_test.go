package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// TestCleanup: the lecture's another_eternity — a finally block that awaits
// after the task timed out — and what may still interrupt the cleanup.
func TestCleanup(t *testing.T) {
	eternity := func(ctx context.Context, tr *transcript, cleanup time.Duration) error {
		defer func() {
			tr.printf("cancelled")
			err := aio.Sleep(aio.Cleanup(ctx), cleanup)
			tr.printf("cleanup done: %v", err)
		}()
		return aio.Sleep(ctx, time.Hour)
	}
	tests := []struct {
		name string
		main func(ctx context.Context, tr *transcript) error
		want string
	}{{
		name: "the cleanup awaits after a timeout",
		main: func(ctx context.Context, tr *transcript) error {
			err := aio.Timeout(ctx, time.Second, func(ctx context.Context) error { return eternity(ctx, tr, 5*time.Second) })
			tr.printf("timeout: %v", errors.Is(err, context.DeadlineExceeded))
			return nil
		},
		want: `
1s cancelled
6s cleanup done: <nil>
6s timeout: true`,
	}, {
		name: "a second Cancel interrupts the cleanup",
		main: func(ctx context.Context, tr *transcript) error {
			task := aio.Go(ctx, func(ctx context.Context) error { return eternity(ctx, tr, 5*time.Second) })
			cancelAt(ctx, task, time.Second, 3*time.Second)
			_, err := task.Await(ctx)
			tr.printf("task: %v", errors.Is(err, context.Canceled))
			return nil
		},
		want: `
1s cancelled
3s cleanup done: aio: cancelled
3s task: true`,
	}, {
		name: "an outer timeout expiring later interrupts the cleanup",
		main: func(ctx context.Context, tr *transcript) error {
			err := aio.Timeout(ctx, 4*time.Second, func(ctx context.Context) error {
				return aio.Timeout(ctx, time.Second, func(ctx context.Context) error { return eternity(ctx, tr, 5*time.Second) })
			})
			tr.printf("outer: %v", errors.Is(err, context.DeadlineExceeded))
			return nil
		},
		want: `
1s cancelled
4s cleanup done: context deadline exceeded
4s outer: true`,
	}, {
		name: "a task spawned with the cleanup context is cancelled by the later cancellation",
		main: func(ctx context.Context, tr *transcript) error {
			task := aio.Go(ctx, func(ctx context.Context) error {
				defer func() {
					child := aio.Go(aio.Cleanup(ctx), func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
					_, err := child.Await(aio.Cleanup(ctx))
					tr.printf("child: %v", errors.Is(err, context.Canceled))
				}()
				return aio.Sleep(ctx, time.Hour)
			})
			cancelAt(ctx, task, time.Second, 2*time.Second)
			return nil
		},
		want: `2s child: true`,
	}, {
		name: "made by a defer statement before the cancellation, it outlives that one",
		main: func(ctx context.Context, tr *transcript) error {
			goodbye := func(ctx context.Context) {
				err := aio.Sleep(ctx, 2*time.Second)
				tr.printf("goodbye: %v", err)
			}
			eternity := func(ctx context.Context) error {
				defer goodbye(aio.Cleanup(ctx))
				return aio.Sleep(ctx, time.Hour)
			}
			cancelAt(ctx, aio.Go(ctx, eternity), time.Second)
			cancelAt(ctx, aio.Go(ctx, eternity), time.Second, 2*time.Second)
			return nil
		},
		want: `
3s goodbye: <nil>
5s goodbye: aio: cancelled`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, _, tr := vrun(t, tt.main)
			if err != nil {
				t.Fatal(err)
			}
			wantTranscript(t, tr, tt.want)
		})
	}
}

// cancelAt cancels task at each of the given times since now, then waits for
// it to end.
func cancelAt(ctx context.Context, task *aio.Task[struct{}], at ...time.Duration) {
	start := aio.LoopOf(ctx).Now()
	for _, d := range at {
		aio.Sleep(ctx, d-aio.LoopOf(ctx).Now().Sub(start))
		task.Cancel()
	}
	task.Await(ctx)
}

// TestCleanupOutsideATask: a context of no loop, or none, gets a context that
// cannot be cancelled, never a panic.
func TestCleanupOutsideATask(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), errMy, 1))
	cancel()
	if c := aio.Cleanup(parent); c.Err() != nil || c.Value(errMy) != 1 {
		t.Errorf("Cleanup of a cancelled stdlib context: Err %v, value %v", c.Err(), c.Value(errMy))
	}
	if c := aio.Cleanup(nil); c == nil || c.Err() != nil { //nolint:staticcheck // nil on purpose
		t.Errorf("Cleanup(nil) = %v", c)
	}
}
