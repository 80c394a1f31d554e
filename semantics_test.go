package aio_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiotest"
)

// asyncio's fine print, where aio claims its semantics.

// TestWaitForNonPositiveTimeout: wait_for with a timeout <= 0 raises
// TimeoutError without starting the coroutine (aio ran it).
func TestWaitForNonPositiveTimeout(t *testing.T) { // test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started
	aiotest.Run(t, func(ctx context.Context) error {
		for _, d := range []time.Duration{0, -time.Second} {
			ran := false
			_, err := aio.WaitFor(ctx, d, func(ctx context.Context) (int, error) { ran = true; return 1, nil })
			if !errors.Is(err, context.DeadlineExceeded) || ran {
				t.Errorf("WaitFor(%v) = %v, ran %v; want DeadlineExceeded, not run", d, err, ran)
			}
		}
		return nil
	})
}

// TestWithThreadsZero: WithThreads(0) keeps the default pool, not one thread.
func TestWithThreadsZero(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var running atomic.Int32
		both := make(chan struct{}) // closed when two jobs run at once
		job := func(context.Context) (struct{}, error) {
			n := running.Add(1)
			defer running.Add(-1)
			if n == 2 {
				close(both)
			}
			select { // the other job comes, unless the pool has one thread
			case <-both:
			case <-time.After(5 * time.Second):
			}
			return struct{}{}, nil
		}
		inThread := func(ctx context.Context) (struct{}, error) { return aio.ToThread(ctx, job) }
		if _, err := aio.Gather(ctx, inThread, inThread); err != nil {
			return err
		}
		select {
		case <-both:
		default:
			t.Error("WithThreads(0) ran the ToThread functions one at a time; want the default pool")
		}
		return nil
	}, aio.WithThreads(0))
}

// TestSleepForever: Sleep(ctx, Forever) waits for the cancellation, with no
// timer, and only the task waits.
func TestSleepForever(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		l := aio.LoopOf(ctx)
		start := l.Now()
		sleeper := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, aio.Forever) })
		if err := aio.Sleep(ctx, time.Hour); err != nil {
			return err
		}
		if sleeper.Done() {
			t.Fatal("Sleep(Forever) ended by itself")
		}
		sleeper.Cancel()
		if _, err := sleeper.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep(Forever) after Cancel = %v", err)
		}
		if took := l.Now().Sub(start); took != time.Hour {
			t.Errorf("took %v", took)
		}
		return nil
	})
}

// TestGroupPassesOnForeignCancellation: a body that returns a cancellation
// neither the group nor its caller made (it awaited a task someone else
// cancelled) cancels the group's tasks, and Group returns that cancellation
// (it returned nil, and the siblings were cancelled silently).
func TestGroupPassesOnForeignCancellation(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		other := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
		other.CancelWithMessage("someone else")
		var sibling *aio.Task[struct{}]
		err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			sibling = tg.Go(func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
			_, err := other.Await(ctx)
			return err
		})
		var ce *aio.CancelledError
		if !errors.As(err, &ce) || ce.Msg != "someone else" {
			t.Errorf("Group = %v; want the awaited task's cancellation", err)
		}
		if !sibling.Cancelled() {
			t.Errorf("the sibling was not cancelled")
		}
		return nil
	})
}

// TestCancelAfterFailureRetrieves: cancelling a task or future that already
// failed counts as retrieving its error: no "exception was never retrieved".
func TestCancelAfterFailureRetrieves(t *testing.T) { // test_cancel_doesnt_log_exception (futures), test_task_cancel_... (tasks)
	var reports []aio.ExceptionContext
	aiotest.Run(t, func(ctx context.Context) error {
		task := aio.Go(ctx, func(ctx context.Context) error { return errors.New("boom") })
		fut := aio.NewFuture[int](ctx)
		fut.SetError(errors.New("bang"))
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return err
		}
		if task.Cancel() || fut.Cancel() {
			t.Error("Cancel of a done task or future reported true")
		}
		return nil
	}, aio.WithExceptionHandler(func(c aio.ExceptionContext) { reports = append(reports, c) }))
	if len(reports) != 0 {
		t.Errorf("reported %v after Cancel", reports)
	}
}

// TestLoopCallsFromToThread: Spawn and Queue.Put called from a ToThread
// function, with its context, return ErrNoTask: the task or the item went
// nowhere silently (and the loop was touched from another goroutine).
func TestLoopCallsFromToThread(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		q := aio.NewQueue[int](0)
		type key struct{}
		ctx = context.WithValue(ctx, key{}, "kept")
		_, err := aio.ToThread(ctx, func(ctx context.Context) (struct{}, error) {
			if ctx.Value(key{}) != "kept" {
				t.Error("the thread's context lost the task's values")
			}
			if _, err := aio.Spawn(ctx, func(context.Context) (int, error) { return 1, nil }).Result(); !errors.Is(err, aio.ErrNoTask) {
				t.Errorf("Spawn from a thread: %v; want ErrNoTask", err)
			}
			if err := q.Put(ctx, 1); !errors.Is(err, aio.ErrNoTask) {
				t.Errorf("Put from a thread: %v; want ErrNoTask", err)
			}
			if err := aio.Sleep(ctx, time.Second); !errors.Is(err, aio.ErrNoTask) {
				t.Errorf("Sleep from a thread: %v; want ErrNoTask", err)
			}
			return struct{}{}, nil
		})
		if q.Len() != 0 {
			t.Errorf("the queue holds %d items", q.Len())
		}
		return err
	})
}

// TestRunEndsDespiteStubbornTask: a leftover task that keeps awaiting after
// each cancelled Await no longer keeps aio.Run from returning (it spun a core
// for ever); it is unwound, its deferred calls run, and it is reported.
func TestRunEndsDespiteStubbornTask(t *testing.T) {
	var reports []aio.ExceptionContext
	cleaned := false
	done := make(chan error, 1)
	go func() {
		done <- aio.Run(context.Background(), func(ctx context.Context) error {
			aio.Go(ctx, func(ctx context.Context) error {
				defer func() { cleaned = true }()
				for {
					aio.Sleep(ctx, time.Second) // the error is ignored: so is the cancellation
				}
			}, aio.WithName("stubborn"))
			return aio.Sleep(ctx, time.Second)
		}, aio.WithClock(aio.NewVirtualClock(time.Time{})), aio.WithInterrupt(false),
			aio.WithExceptionHandler(func(c aio.ExceptionContext) { reports = append(reports, c) }))
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("aio.Run did not return: a task ignoring its cancellation holds it")
	}
	if !cleaned || len(reports) != 1 || reports[0].Task != "stubborn" || !errors.Is(reports[0].Err, aio.ErrIgnoredCancellation) {
		t.Errorf("cleaned %v, reports %+v; want the stubborn task unwound and reported", cleaned, reports)
	}
}

// TestTimeoutScopeCancel: a scope cancelled by hand cancels its Awaits and
// the tasks spawned under it with context.Canceled, not a deadline; it does
// not reach the task around it, and cancels once.
func TestTimeoutScopeCancel(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var child *aio.Task[struct{}]
		var scope *aio.TimeoutScope
		err := aio.TimeoutAt(ctx, time.Time{}, func(ctx context.Context) error {
			scope = aio.TimeoutOf(ctx)
			child = aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
			aio.LoopOf(ctx).CallLater(time.Second, func() { scope.Cancel("enough") })
			return aio.Sleep(ctx, time.Hour)
		})
		var ce *aio.CancelledError
		if !errors.As(err, &ce) || ce.Msg != "enough" || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the scope's Sleep = %v; want the scope's cancellation", err)
		}
		if _, err := child.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("the task under the scope = %v", err)
		}
		if scope.Expired() || scope.Cancel("again") {
			t.Error("Expired, or a second Cancel took effect")
		}
		return aio.Sleep(ctx, time.Second) // the task around it goes on
	})
}

// TestWaitFirstCompletedSeesTheNextPass: Wait(FirstCompleted) reports every
// waitable done by the time the waiter runs, as asyncio's does: one that
// finishes in the pass after the first is reported too (aio reported only
// the first).
func TestWaitFirstCompletedSeesTheNextPass(t *testing.T) { // test_wait_first_completed
	aiotest.Run(t, func(ctx context.Context) error {
		a := aio.Go(ctx, func(ctx context.Context) error { return nil })
		b := aio.Go(ctx, func(ctx context.Context) error { return aio.Yield(ctx) })
		done, pending, err := aio.Wait(ctx, aio.FirstCompleted, 0, a, b)
		if err != nil {
			return err
		}
		if len(done) != 2 || len(pending) != 0 {
			t.Errorf("done %d, pending %d; want both done", len(done), len(pending))
		}
		return nil
	})
}

// TestCancelDelivered: a true from Cancel means the task ends cancelled
// unless it sees the cancellation (an Await returns it, or ctx.Err) and goes
// on; nothing handed to it is lost.
func TestCancelDelivered(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		// test_cancel_at_end: the task cancels itself and returns.
		self := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			aio.CurrentTask(ctx).Cancel()
			return 12, nil
		})
		if _, err := self.Await(ctx); !self.Cancelled() || !errors.Is(err, context.Canceled) {
			t.Errorf("self-cancelled task: cancelled %v, err %v", self.Cancelled(), err)
		}

		// Woken by its future's result, cancelled before it ran: the
		// cancellation wins and the result stays in the future.
		f := aio.NewFuture[string](ctx)
		var got error
		waiter := aio.Spawn(ctx, func(ctx context.Context) (string, error) {
			v, err := f.Await(ctx)
			got = err
			return v, nil // returns even when cancelled: it saw it
		})
		if err := aio.Yield(ctx); err != nil {
			return err
		}
		f.SetResult("kept")
		if !waiter.Cancel() {
			t.Error("Cancel of a woken task returned false")
		}
		if _, err := waiter.Await(ctx); err != nil || !errors.Is(got, context.Canceled) {
			t.Errorf("woken then cancelled: Await gave %v, task ended with %v", got, err)
		}
		if v, err := f.Result(); v != "kept" || err != nil {
			t.Errorf("the future lost its result: %q, %v", v, err)
		}

		// Woken by a timer, cancelled before it ran, returns without
		// awaiting again: it ends cancelled.
		sleeper := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			_ = aio.Sleep(ctx, time.Second)
			return 1, nil
		})
		wake := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			if err := aio.Sleep(ctx, time.Second); err != nil { // the same instant, after sleeper's timer
				return 0, err
			}
			sleeper.Cancel()
			return 0, nil
		})
		if _, err := wake.Await(ctx); err != nil {
			return err
		}
		if v, err := sleeper.Await(ctx); err != nil || v != 1 {
			// The sleep returned the cause; the task ignored the error it
			// was handed and returned a value: it saw the cancellation.
			t.Errorf("sleeper: %d, %v", v, err)
		}

		// Cancelled after its last Await, unseen: ends cancelled.
		late := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			aio.CurrentTask(ctx).Cancel()
			return 2, nil
		})
		// Seen through ctx.Err, then the task chose to return a value.
		seen := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			aio.CurrentTask(ctx).Cancel()
			if ctx.Err() != nil {
				return 3, nil
			}
			return 0, nil
		})
		if _, err := late.Await(ctx); !late.Cancelled() {
			t.Errorf("late: %v, cancelled %v", err, late.Cancelled())
		}
		if v, err := seen.Await(ctx); v != 3 || err != nil || seen.Cancelled() {
			t.Errorf("seen: %d, %v, cancelled %v", v, err, seen.Cancelled())
		}

		// A Gather that finished, its task cancelled before it ran: the
		// Gather returns the cause, the children keep their results.
		a := aio.Spawn(ctx, func(ctx context.Context) (int, error) { return 4, aio.Yield(ctx) })
		var gerr error
		gatherer := aio.Go(ctx, func(ctx context.Context) error {
			_, gerr = aio.Gather(ctx, a.Await)
			return nil
		})
		for range 2 { // gatherer parks, then a finishes and wakes it
			if err := aio.Yield(ctx); err != nil {
				return err
			}
		}
		gatherer.Cancel()
		_, _ = gatherer.Await(ctx)
		if v, err := a.Result(); !errors.Is(gerr, context.Canceled) || v != 4 || err != nil {
			t.Errorf("gather: %v; child %d, %v", gerr, v, err)
		}
		return nil
	})
}

// TestSemaphoreFIFO: permits go to waiters in the order they came, ahead of a
// task that releases and at once acquires again, and the semaphore reads as
// locked while a released permit is on its way to a woken waiter.
func TestSemaphoreFIFO(t *testing.T) {
	tag := func(result *[]int, sem *aio.Semaphore, n int) func(context.Context) error {
		return func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			*result = append(*result, n)
			return nil
		}
	}
	t.Run("release and reacquire", func(t *testing.T) { // test_acquire_fifo_order_2
		aiotest.Run(t, func(ctx context.Context) error {
			sem := aio.NewSemaphore(1)
			var result []int
			t1 := aio.Go(ctx, tag(&result, sem, 1))
			t2 := aio.Go(ctx, func(ctx context.Context) error {
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				result = append(result, 2)
				sem.Release()
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				result = append(result, 4)
				return nil
			})
			t3 := aio.Go(ctx, tag(&result, sem, 3))
			if err := aio.Yield(ctx); err != nil {
				return err
			}
			sem.Release()
			sem.Release()
			if _, err := aio.Gather(ctx, t1.Await, t2.Await, t3.Await); err != nil {
				return err
			}
			if fmt.Sprint(result) != "[1 2 3 4]" {
				t.Errorf("order %v, want [1 2 3 4]", result)
			}
			return nil
		})
	})
	t.Run("cancelled waiter", func(t *testing.T) { // test_acquire_fifo_order_3
		aiotest.Run(t, func(ctx context.Context) error {
			sem := aio.NewSemaphore(0)
			var result []int
			t1 := aio.Go(ctx, tag(&result, sem, 1))
			t2 := aio.Go(ctx, tag(&result, sem, 2))
			t3 := aio.Go(ctx, tag(&result, sem, 3))
			if err := aio.Yield(ctx); err != nil {
				return err
			}
			t1.Cancel()
			if err := aio.Yield(ctx); err != nil {
				return err
			}
			sem.Release()
			sem.Release()
			for _, tk := range []*aio.Task[struct{}]{t1, t2, t3} {
				_, _ = tk.Await(ctx)
			}
			if fmt.Sprint(result) != "[2 3]" {
				t.Errorf("order %v, want [2 3]", result)
			}
			return nil
		})
	})
	t.Run("locked while handed over", func(t *testing.T) { // test_acquire_fifo_order_4
		aiotest.Run(t, func(ctx context.Context) error {
			sem := aio.NewSemaphore(0)
			var result []int
			var t4 *aio.Task[struct{}]
			t1 := aio.Go(ctx, func(ctx context.Context) error {
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				t4 = aio.Go(ctx, func(context.Context) error { result = append(result, 4); return nil })
				result = append(result, 1)
				return nil
			})
			t2 := aio.Go(ctx, func(ctx context.Context) error {
				sem.Release()
				sem.Release()
				sem.Release()
				if !sem.Locked() {
					t.Error("not locked while the first waiter has not woken")
				}
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				result = append(result, 2)
				return nil
			})
			t3 := aio.Go(ctx, func(ctx context.Context) error {
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				if !sem.Locked() {
					t.Error("c3: not locked")
				}
				result = append(result, 3)
				return nil
			})
			for range 2 {
				if err := aio.Yield(ctx); err != nil {
					return err
				}
			}
			if _, err := aio.Gather(ctx, t1.Await, t2.Await, t3.Await, t4.Await); err != nil {
				return err
			}
			if fmt.Sprint(result) != "[1 2 3 4]" {
				t.Errorf("order %v, want [1 2 3 4]", result)
			}
			return nil
		})
	})
}
