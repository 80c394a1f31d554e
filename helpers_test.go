package aio_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// transcript records lines stamped with the virtual time elapsed since the
// start of a test's loop.
type transcript struct {
	clock *aio.VirtualClock
	lines []string
}

func (tr *transcript) printf(format string, args ...any) {
	tr.lines = append(tr.lines, fmt.Sprintf("%v %s", tr.clock.Since(), fmt.Sprintf(format, args...)))
}

func (tr *transcript) String() string { return strings.Join(tr.lines, "\n") }

// vrun runs main with aio.Run on a virtual clock, checks that no goroutine
// is left behind, and returns main's error, the virtual time it took and the
// transcript.
func vrun(t *testing.T, main func(ctx context.Context, tr *transcript) error, opts ...aio.Option) (error, time.Duration, *transcript) {
	t.Helper()
	defer noLeaks(t)()
	clk := aio.NewVirtualClock(time.Time{})
	tr := &transcript{clock: clk}
	opts = append([]aio.Option{aio.WithClock(clk)}, opts...)
	err := aio.Run(context.Background(), func(ctx context.Context) error { return main(ctx, tr) }, opts...)
	return err, clk.Since(), tr
}

// wantTranscript fails the test if the transcript differs from want.
func wantTranscript(t *testing.T, tr *transcript, want string) {
	t.Helper()
	want = strings.TrimSpace(want)
	if got := tr.String(); got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
}

// noLeaks records the number of goroutines; the returned function fails the
// test if more are still running after a grace period for exiting ones.
func noLeaks(t testing.TB) func() {
	base := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines left running (had %d):\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			runtime.Gosched()
			time.Sleep(time.Millisecond)
		}
	}
}

// sleeper returns a task function that sleeps d and returns v.
func sleeper[T any](d time.Duration, v T) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		if err := aio.Sleep(ctx, d); err != nil {
			var zero T
			return zero, err
		}
		return v, nil
	}
}

// failer returns a task function that sleeps d and fails with err.
func failer(d time.Duration, err error) func(context.Context) error {
	return func(ctx context.Context) error {
		if e := aio.Sleep(ctx, d); e != nil {
			return e
		}
		return err
	}
}

// awaits returns the Await methods of tasks already running, for Gather.
func awaits[T any](aws []aio.Awaitable[T]) []func(context.Context) (T, error) {
	fns := make([]func(context.Context) (T, error), len(aws))
	for i, a := range aws {
		fns[i] = a.Await
	}
	return fns
}
