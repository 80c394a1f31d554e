package aio_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiotest"
)

// TestLectureToThread is the lecture's three blocking calls: with ToThread
// they run at the same time, and the loop serves its other tasks meanwhile.
// Concurrency is shown by a rendezvous, not by timing: each call blocks until
// all three have started, which would deadlock if they ran in turn.
func TestLectureToThread(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var started sync.WaitGroup
		started.Add(3)
		release := make(chan struct{})
		blockingIO := func(ctx context.Context) (struct{}, error) {
			started.Done()
			started.Wait() // all three are running at once
			<-release      // blocks its goroutine, not the loop
			return struct{}{}, nil
		}
		ticks := 0
		ticker := aio.Go(ctx, func(ctx context.Context) error {
			for ticks < 100 {
				ticks++
				if err := aio.Yield(ctx); err != nil {
					return err
				}
			}
			close(release)
			return nil
		})
		inThread := func(ctx context.Context) (struct{}, error) { return aio.ToThread(ctx, blockingIO) }
		if _, err := aio.Gather(ctx, inThread, inThread, inThread); err != nil {
			return err
		}
		ticker.Await(ctx)
		if ticks != 100 {
			t.Errorf("the loop ran %d ticks while the threads blocked", ticks)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestToThreadPoolLimit(t *testing.T) {
	var running, most atomic.Int32
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		ts := make([]aio.Awaitable[int], 7)
		for i := range ts {
			ts[i] = aio.Spawn(ctx, func(ctx context.Context) (int, error) {
				return aio.ToThread(ctx, func(context.Context) (int, error) {
					n := running.Add(1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(time.Millisecond)
					running.Add(-1)
					return i * i, nil
				})
			})
		}
		rs, err := aio.Gather(ctx, awaits(ts)...)
		if err != nil || rs[6] != 36 {
			t.Errorf("results %v %v", rs, err)
		}
		return nil
	}, aio.WithThreads(2))
	if err != nil || most.Load() != 2 {
		t.Fatalf("err=%v; at most %d at once, want 2", err, most.Load())
	}
}

func TestToThreadCancelAndPanic(t *testing.T) {
	fnCause := make(chan error, 1)
	rep := newReports()
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		tk := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			return aio.ToThread(ctx, func(ctx context.Context) (int, error) {
				<-ctx.Done() // blocks until the await is cancelled
				fnCause <- context.Cause(ctx)
				return 1, nil
			})
		})
		aio.Yield(ctx)
		aio.Yield(ctx)
		tk.CancelWithMessage("enough")
		if _, err := tk.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled ToThread = %v", err)
		}
		if c := <-fnCause; !errors.Is(c, context.Canceled) {
			t.Errorf("fn's context cause = %v", c)
		}
		// A timeout ends the await the same way, with its own error.
		err := awaitExpiring(ctx, aio.ToThread[int])
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ToThread under an expired timeout = %v", err)
		}
		_, err = aio.ToThread(ctx, func(context.Context) (int, error) { panic("in a thread") })
		var pe *aio.PanicError
		if !errors.As(err, &pe) || pe.Value != "in a thread" {
			t.Errorf("panic in ToThread = %v", err)
		}
		// The virtual clock waits for the thread: a timeout does not fire
		// while it works.
		v, err := aio.WaitFor(ctx, time.Second, func(ctx context.Context) (int, error) {
			return aio.ToThread(ctx, func(context.Context) (int, error) {
				time.Sleep(20 * time.Millisecond)
				return 5, nil
			})
		})
		if v != 5 || err != nil {
			t.Errorf("WaitFor(ToThread) = %d %v", v, err)
		}
		return nil
	}, aio.WithExceptionHandler(rep.handle))
	if err != nil || took != 0 {
		t.Fatalf("err=%v took=%v", err, took)
	}
	// Every error above was seen by its caller: nothing was left unretrieved
	// (the cancelled ToThread's own future included).
	if got := rep.all(); len(got) != 0 {
		t.Errorf("reported as never retrieved: %+v", got)
	}
}

func TestToThreadLoopClose(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop()
	stopped := make(chan error, 1)
	tk := aio.Spawn(l.Context(), func(ctx context.Context) (int, error) {
		return aio.ToThread(ctx, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			stopped <- context.Cause(ctx)
			return 0, nil
		})
	})
	l.CallLater(10*time.Millisecond, l.Stop)
	l.RunForever()
	l.Close() // waits for the thread to end
	if err := <-stopped; !errors.Is(err, aio.ErrClosed) {
		t.Errorf("thread's cause = %v", err)
	}
	if !errors.Is(tk.Err(), aio.ErrClosed) {
		t.Errorf("task err = %v", tk.Err())
	}
}

func TestSubmit(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop()
	exited := make(chan struct{})
	go func() { l.RunForever(); close(exited) }()
	p := aio.Submit(l, func(ctx context.Context) (string, error) {
		if err := aio.Sleep(ctx, time.Millisecond); err != nil {
			return "", err
		}
		return "from the loop", nil
	})
	if v, err := p.Wait(context.Background()); v != "from the loop" || err != nil {
		t.Errorf("Wait = %q %v", v, err)
	}
	if v, err := p.Result(); v != "from the loop" || err != nil {
		t.Errorf("Result = %q %v", v, err)
	}
	// Cancel from this goroutine.
	slow := aio.Submit(l, func(ctx context.Context) (int, error) { return 0, aio.Sleep(ctx, time.Hour) })
	if _, err := slow.Result(); err != aio.ErrNotDone {
		t.Errorf("Result of a running task = %v", err)
	}
	if !slow.Cancel() {
		t.Error("Cancel reported false")
	}
	if _, err := slow.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled = %v", err)
	}
	// Wait gives up with its own context.
	never := aio.Submit(l, func(ctx context.Context) (int, error) { return 0, aio.Sleep(ctx, time.Hour) })
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errMy)
	if _, err := never.Wait(ctx); err != errMy {
		t.Errorf("Wait with a cancelled context = %v", err)
	}
	// Awaited from a task of another loop.
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		v, err := aio.Submit(l, func(context.Context) (int, error) { return 7, nil }).Await(ctx)
		if v != 7 || err != nil {
			t.Errorf("Await from another loop = %d %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l.CallSoonThreadsafe(l.Stop)
	<-exited
	l.Close()
	if _, err := aio.Submit(l, func(context.Context) (int, error) { return 0, nil }).Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Submit to a closed loop = %v", err)
	}
}

func TestRecvSendNothingLost(t *testing.T) {
	defer noLeaks(t)()
	const n = 500
	ch := make(chan int)
	back := make(chan int)
	go func() {
		for i := range n {
			ch <- i
		}
		close(ch)
	}()
	var got []int
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		for attempt := 0; ; attempt++ {
			// Every other attempt gives up at once: a value is either
			// received or left in the channel, never dropped.
			d := time.Duration(attempt%2) * time.Millisecond
			var v int
			var ok bool
			err := aio.Timeout(ctx, d, func(ctx context.Context) (err error) {
				v, ok, err = aio.Recv(ctx, ch)
				return err
			})
			if errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			got = append(got, v)
		}
		// Send to a goroutine.
		go func() { back <- <-back + 1 }()
		if err := aio.Send(ctx, back, 41); err != nil {
			return err
		}
		v, _, err := aio.Recv(ctx, back)
		if v != 42 || err != nil {
			t.Errorf("round trip = %d %v", v, err)
		}
		other, cancel := context.WithCancel(context.Background())
		go cancel()
		return aio.AwaitContext(ctx, other)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("received %d values; want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("value %d is %d: lost or reordered", i, v)
		}
	}
}

func TestToThreadContextValues(t *testing.T) { // test_to_thread_contextvars, test_to_thread_once
	type key struct{}
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		ctx = context.WithValue(ctx, key{}, "parrot")
		calls := 0
		v, err := aio.ToThread(ctx, func(ctx context.Context) (any, error) {
			calls++
			return ctx.Value(key{}), nil
		})
		if v != "parrot" || err != nil || calls != 1 {
			t.Errorf("value seen in the thread = %v, %v, %d calls", v, err, calls)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecvCancelledDoesNotJumpTime: a Recv ended by its timeout waits for
// its goroutine to let go of the channel; meanwhile a virtual clock must not
// jump to the next timer (it jumped to the other task's hour-long sleep).
func TestRecvCancelledDoesNotJumpTime(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		l := aio.LoopOf(ctx)
		sleeper := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
		defer func() { sleeper.Cancel(); sleeper.Await(ctx) }()
		for range 20 {
			start := l.Now()
			err := aio.Timeout(ctx, 3*time.Second, func(ctx context.Context) error {
				_, _, err := aio.Recv(ctx, make(chan int))
				return err
			})
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("Recv under Timeout = %v", err)
			}
			if took := l.Now().Sub(start); took != 3*time.Second {
				t.Fatalf("the timed-out Recv returned after %v; want 3s", took)
			}
		}
		return nil
	})
}

// TestToGoroutine: functions sent with ToGoroutine all run at once, whatever
// the pool's limit (they wait for one another here), and cancellation
// reaches them as ToThread's.
func TestToGoroutine(t *testing.T) {
	const n = 7
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var started sync.WaitGroup
		started.Add(n)
		all := make(chan struct{})
		go func() { started.Wait(); close(all) }()
		ts := make([]aio.Awaitable[int], n)
		for i := range ts {
			ts[i] = aio.Spawn(ctx, func(ctx context.Context) (int, error) {
				return aio.ToGoroutine(ctx, func(context.Context) (int, error) {
					started.Done()
					select {
					case <-all:
						return i, nil
					case <-time.After(10 * time.Second):
						return 0, errors.New("the others never started")
					}
				})
			})
		}
		if _, err := aio.Gather(ctx, awaits(ts)...); err != nil {
			return err
		}
		tk := aio.Spawn(ctx, func(ctx context.Context) (error, error) {
			return aio.ToGoroutine(ctx, func(ctx context.Context) (error, error) {
				<-ctx.Done()
				return context.Cause(ctx), nil
			})
		})
		aio.Yield(ctx)
		tk.Cancel()
		if _, err := tk.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled ToGoroutine = %v", err)
		}
		return nil
	}, aio.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
}

// TestToThreadContextBetweenCalls: the context a function gets off the loop
// may be kept from one call of a task to the next, but never handed out
// cancelled: a call after one whose await was cancelled (here by a timeout)
// runs with a live context, a context derived with values passes them, and
// a context kept past its call is cancelled when the task ends.
func TestToThreadContextBetweenCalls(t *testing.T) {
	type key struct{}
	var kept context.Context
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		tk := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			live := func(ctx context.Context) (int, error) {
				kept = ctx
				return 0, ctx.Err()
			}
			if _, err := aio.ToGoroutine(ctx, live); err != nil {
				return 0, fmt.Errorf("first call: %w", err)
			}
			if err := awaitExpiring(ctx, aio.ToGoroutine[int]); !errors.Is(err, context.DeadlineExceeded) {
				return 0, fmt.Errorf("expired call: %v", err)
			}
			for i := range 3 {
				if _, err := aio.ToGoroutine(ctx, live); err != nil {
					return 0, fmt.Errorf("call %d after the expired one: %w", i, err)
				}
			}
			return aio.ToGoroutine(context.WithValue(ctx, key{}, 7), func(ctx context.Context) (int, error) {
				v, _ := ctx.Value(key{}).(int)
				return v, ctx.Err()
			})
		})
		v, err := tk.Await(ctx)
		if err != nil || v != 7 {
			t.Errorf("task = %d, %v; want 7, nil", v, err)
		}
		if kept.Err() == nil {
			t.Error("a function's context kept past its call is not cancelled after its task ended")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// awaitExpiring calls offload (ToThread or ToGoroutine) with a function that
// waits for its context's end, under a timeout that another task expires as
// soon as the call is awaited, and returns the call's error.
func awaitExpiring(ctx context.Context, offload func(context.Context, func(context.Context) (int, error)) (int, error)) error {
	return aio.Timeout(ctx, time.Hour, func(ctx context.Context) error {
		scope := aio.TimeoutOf(ctx)
		aio.Go(context.WithoutCancel(ctx), func(ctx context.Context) error {
			scope.Reschedule(aio.LoopOf(ctx).Now()) // expire it now
			return nil
		})
		_, err := offload(ctx, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, nil
		})
		return err
	})
}
