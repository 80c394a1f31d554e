package aio_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestReadyQueueFIFO(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop(aio.WithClock(aio.NewVirtualClock(time.Time{})))
	defer l.Close()
	var order []string
	log := func(s string) func() { return func() { order = append(order, s) } }
	l.CallSoon(func() {
		order = append(order, "a")
		l.CallSoon(log("c")) // made ready during a pass: runs in the next one
	})
	l.CallSoon(log("b"))
	h := l.CallSoon(log("cancelled"))
	h.Cancel()
	for _, name := range []string{"t1", "t2", "t3"} {
		aio.Go(l.Context(), func(ctx context.Context) error {
			order = append(order, name)
			aio.Yield(ctx)
			order = append(order, name+"'")
			return nil
		})
	}
	l.CallSoon(l.Stop)
	l.RunForever()
	l.CallSoon(l.Stop)
	l.RunForever()
	if got := strings.Join(order, " "); got != "a b t1 t2 t3 c t1' t2' t3'" {
		t.Fatalf("order: %s", got)
	}
}

func TestTimers(t *testing.T) {
	defer noLeaks(t)()
	clk := aio.NewVirtualClock(time.Time{})
	l := aio.NewLoop(aio.WithClock(clk))
	defer l.Close()
	var order []string
	at := func(s string) func() {
		return func() { order = append(order, s+"@"+clk.Since().String()) }
	}
	l.CallLater(2*time.Second, at("x"))
	l.CallLater(time.Second, at("first"))
	l.CallLater(time.Second, at("second")) // same instant: FIFO
	l.CallAt(l.Now().Add(1500*time.Millisecond), at("at"))
	h := l.CallLater(time.Second, at("cancelled"))
	h.Cancel()
	h.Cancel()
	if !h.Cancelled() {
		t.Error("Cancelled() false")
	}
	if w := l.CallLater(3*time.Second, l.Stop).When(); !w.Equal(l.Now().Add(3 * time.Second)) {
		t.Errorf("When() = %v", w)
	}
	l.RunForever()
	if got := strings.Join(order, " "); got != "first@1s second@1s at@1.5s x@2s" {
		t.Fatalf("order: %s", got)
	}
	if clk.Since() != 3*time.Second {
		t.Fatalf("virtual clock at %v", clk.Since())
	}
}

func TestRealClockTimers(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop()
	defer l.Close()
	start := time.Now()
	var order []int
	l.CallLater(20*time.Millisecond, func() { order = append(order, 2); l.Stop() })
	l.CallLater(10*time.Millisecond, func() { order = append(order, 1) })
	l.RunForever()
	// Real time: only the order and a lower bound are certain.
	if len(order) != 2 || order[0] != 1 || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("order %v after %v", order, time.Since(start))
	}
}

func TestCallSoonThreadsafe(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop() // real clock: the loop really sleeps until woken
	got := make(chan int, 1)
	var wg sync.WaitGroup
	const n = 100
	sum := 0
	wg.Add(n)
	for i := range n {
		go func() {
			defer wg.Done()
			if err := l.CallSoonThreadsafe(func() { sum += i }); err != nil {
				t.Error(err)
			}
		}()
	}
	go func() {
		wg.Wait()
		l.CallSoonThreadsafe(func() { got <- sum; l.Stop() })
	}()
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != n*(n-1)/2 {
		t.Fatalf("sum = %d", s)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.CallSoonThreadsafe(func() {}); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestRunUntilCompleteStopped(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop(aio.WithClock(aio.NewVirtualClock(time.Time{})))
	defer l.Close()
	tk := aio.Go(l.Context(), failer(time.Hour, nil))
	l.CallLater(time.Second, l.Stop)
	if err := l.RunUntilComplete(tk); !errors.Is(err, aio.ErrStopped) {
		t.Fatalf("err = %v", err)
	}
	other := aio.NewLoop()
	defer other.Close()
	if err := other.RunUntilComplete(tk); err == nil {
		t.Fatal("RunUntilComplete of another loop's task succeeded")
	}
	tk.Cancel()
	if err := l.RunUntilComplete(tk); err != nil || !tk.Cancelled() {
		t.Fatalf("err = %v, cancelled %v", err, tk.Cancelled())
	}
}

func TestLoopReentrancy(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop(aio.WithClock(aio.NewVirtualClock(time.Time{})))
	var runErr, closeErr error
	l.CallSoon(func() {
		runErr = l.RunForever()
		closeErr = l.Close()
		l.Stop()
	})
	l.RunForever()
	if !errors.Is(runErr, aio.ErrRunning) || !errors.Is(closeErr, aio.ErrRunning) {
		t.Fatalf("nested RunForever = %v, Close = %v", runErr, closeErr)
	}
	if err := l.Close(); err != nil || !l.IsClosed() || l.Close() != nil {
		t.Fatalf("Close = %v", err)
	}
}

func TestCloseUnwindsPendingTasks(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop(aio.WithClock(aio.NewVirtualClock(time.Time{})))
	var unwound []string
	var errs []error
	var tasks []*aio.Task[struct{}]
	for _, name := range []string{"a", "b"} {
		tasks = append(tasks, aio.Go(l.Context(), func(ctx context.Context) error {
			defer func() { unwound = append(unwound, name) }()
			err := aio.Sleep(ctx, time.Hour)
			errs = append(errs, err)
			// A task that keeps awaiting while the loop closes is unwound.
			for {
				if aio.Yield(ctx) == nil {
					return nil
				}
			}
		}))
	}
	ctx := l.Context()
	l.CallLater(time.Second, l.Stop)
	l.RunForever()
	notStarted := aio.Go(ctx, func(context.Context) error { t.Error("ran"); return nil })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(unwound, "") != "ab" && strings.Join(unwound, "") != "ba" {
		t.Errorf("unwound %v", unwound)
	}
	for _, err := range errs {
		if !errors.Is(err, aio.ErrClosed) {
			t.Errorf("Await during Close = %v", err)
		}
	}
	for _, tk := range append(tasks, notStarted) {
		if !errors.Is(tk.Err(), aio.ErrClosed) {
			t.Errorf("task err = %v", tk.Err())
		}
	}
	if ctx.Err() == nil || !errors.Is(context.Cause(ctx), aio.ErrClosed) {
		t.Errorf("loop context: %v", context.Cause(ctx))
	}
}

func TestManyLoopsInParallel(t *testing.T) {
	defer noLeaks(t)()
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			aio.Run(context.Background(), func(ctx context.Context) error {
				counter := 0 // shared by this loop's tasks only: no mutex
				return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
					for range 100 {
						g.Go(func(ctx context.Context) error {
							for range 10 {
								counter++
								if err := aio.Yield(ctx); err != nil {
									return err
								}
							}
							results[i] = counter
							return nil
						})
					}
					return nil
				})
			})
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r != 1000 {
			t.Errorf("loop %d counted %d", i, r)
		}
	}
}

func TestHugeDurationsSaturate(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		sleeper := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, math.MaxInt64) })
		fired := false
		aio.LoopOf(ctx).CallLater(math.MaxInt64, func() { fired = true })
		err := aio.Timeout(ctx, math.MaxInt64, func(ctx context.Context) error { return aio.Sleep(ctx, time.Second) })
		aio.Sleep(ctx, time.Second)
		if sleeper.Done() || fired || err != nil {
			t.Errorf("a sleep forever ended (%v), a callback in forever ran (%v), timeout err %v", sleeper.Done(), fired, err)
		}
		sleeper.Cancel()
		return nil
	})
	if err != nil || took != 2*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

// TestRunOn: run_until_complete of a coroutine on a loop driven by hand,
// returning its value; the loop can run more afterwards.
func TestRunOn(t *testing.T) {
	clk := aio.NewVirtualClock(time.Time{})
	loop := aio.NewLoop(aio.WithClock(clk))
	defer loop.Close()
	var v int
	err := aio.RunOn(loop, func(ctx context.Context) error {
		v = 3 + 5
		return aio.Sleep(ctx, time.Second)
	})
	if v != 8 || err != nil || clk.Since() != time.Second {
		t.Fatalf("RunOn = %v, %v after %v; want 8, nil after 1s", v, err, clk.Since())
	}
	if err := aio.RunOn(loop, func(ctx context.Context) error { return errMy }); err != errMy {
		t.Fatalf("RunOn = %v; want errMy", err)
	}
	if err := aio.RunOn(nil, func(ctx context.Context) error { return nil }); err == nil {
		t.Fatal("RunOn with a nil loop: no error")
	}
	loop.Close()
	if err := aio.RunOn(loop, func(ctx context.Context) error { return nil }); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("RunOn on a closed loop = %v; want ErrClosed", err)
	}
}
