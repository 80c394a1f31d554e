package aio_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

//go:noinline
func blockOnChannel(ch chan struct{}) { <-ch }

//go:noinline
func spin(stop *atomic.Bool) {
	for !stop.Load() {
	}
}

// TestWatchdogReportsWhileBlocked: a task that blocks the loop in a channel
// receive, a time.Sleep or a busy loop is reported while it still blocks,
// with its name and a stack naming the blocking call, and again with the
// total when it ends (real clock; the blocking ends when the report comes,
// or after 300 ms for the sleep).
func TestWatchdogReportsWhileBlocked(t *testing.T) {
	release := make(chan struct{})
	var stop, finished atomic.Bool
	cases := []struct {
		name, want string
		block      func()
		unblock    func()
	}{
		{"receiver", "blockOnChannel", func() { blockOnChannel(release) }, func() { close(release) }},
		{"sleeper", "time.Sleep", func() { time.Sleep(300 * time.Millisecond) }, func() {}},
		{"spinner", "aio_test.spin", func() { spin(&stop) }, func() { stop.Store(true) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var reports []aio.ExceptionContext
			var blockedWhileReported bool
			once := sync.Once{}
			finished.Store(false)
			handler := func(ec aio.ExceptionContext) {
				mu.Lock()
				defer mu.Unlock()
				if errors.Is(ec.Err, aio.ErrBlocked) {
					blockedWhileReported = !finished.Load()
				}
				reports = append(reports, ec)
				once.Do(c.unblock)
			}
			var loop *aio.Loop
			err := aio.Run(context.Background(), func(ctx context.Context) error {
				loop = aio.LoopOf(ctx)
				tk := aio.Go(ctx, func(ctx context.Context) error {
					c.block()
					finished.Store(true)
					return nil
				}, aio.WithName(c.name))
				_, err := tk.Await(ctx)
				return err
			}, aio.WithWatchdog(20*time.Millisecond), aio.WithExceptionHandler(handler), aio.WithInterrupt(false))
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reports) != 2 {
				t.Fatalf("%d reports, want 2 (blocked, then its total): %+v", len(reports), reports)
			}
			b, end := reports[0], reports[1]
			if !errors.Is(b.Err, aio.ErrBlocked) || b.Task != c.name || !strings.Contains(b.Stack, c.want) || !blockedWhileReported {
				t.Errorf("report %q task %q (blocked at the time: %v), stack:\n%s", b.Message, b.Task, blockedWhileReported, b.Stack)
			}
			if end.Task != c.name || !strings.Contains(end.Message, "blocked for") {
				t.Errorf("end report %+v", end)
			}
			if st := loop.Stalls(); len(st) != 1 || st[0].Task != c.name || st[0].Ongoing || st[0].Held < 20*time.Millisecond || !strings.Contains(st[0].Stack, c.want) {
				t.Errorf("Stalls() = %+v; want the one stall, ended", st)
			}
		})
	}
}

// TestWatchdogQuiet: a loop that awaits, sleeps and idles is not reported,
// and the watchdog can be turned off.
func TestWatchdogQuiet(t *testing.T) {
	var n atomic.Int32
	for _, d := range []time.Duration{20 * time.Millisecond, -1} {
		err := aio.Run(context.Background(), func(ctx context.Context) error {
			for range 5 {
				if err := aio.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
			}
			if d < 0 {
				time.Sleep(50 * time.Millisecond) // blocks, but nobody watches
			}
			return aio.Sleep(ctx, 60*time.Millisecond) // idle longer than the threshold
		}, aio.WithWatchdog(d), aio.WithExceptionHandler(func(aio.ExceptionContext) { n.Add(1) }), aio.WithInterrupt(false))
		if err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 0 {
		t.Errorf("%d reports of a loop that never blocked (or was not watched)", n.Load())
	}
}
