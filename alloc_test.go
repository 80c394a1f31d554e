//go:build !race

package aio_test

import (
	"context"
	"testing"

	"github.com/aio-go/aio"
)

// TestToGoroutineAllocatesOnce: a call off the loop from a task that passes
// its own context allocates one object (the call: future, job and function
// together); the cancellable context its function runs with is the task's,
// made at its first call.
func TestToGoroutineAllocatesOnce(t *testing.T) {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		fn := func(context.Context) (int, error) { return 1, nil }
		var failed error
		call := func() {
			if _, err := aio.ToGoroutine(ctx, fn); err != nil {
				failed = err
			}
		}
		call()
		if allocs := testing.AllocsPerRun(1000, call); allocs > 1 {
			t.Errorf("a call allocates %v times, want 1", allocs)
		}
		return failed
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
}
