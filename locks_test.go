package aio_test

// Cases of CPython's test_locks.py, ported, and cancellation while waiting on
// each primitive.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// mustPanic fails the test unless fn panics with a message containing want.
func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, want) {
			t.Errorf("panic %v; want one containing %q", r, want)
		}
	}()
	fn()
}

func TestLock(t *testing.T) { // test_lock, test_acquire (FIFO), test_release_not_acquired
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var mu aio.Lock
		var order []int
		inside := 0
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			for i := range 5 {
				g.Go(func(ctx context.Context) error {
					if err := mu.Lock(ctx); err != nil {
						return err
					}
					defer mu.Unlock()
					inside++
					if inside != 1 {
						t.Errorf("%d tasks inside the lock", inside)
					}
					order = append(order, i)
					err := aio.Sleep(ctx, time.Second) // held across an await
					inside--
					return err
				})
			}
			return nil
		})
		if !slices.Equal(order, []int{0, 1, 2, 3, 4}) || mu.Locked() {
			t.Errorf("order %v, locked %v", order, mu.Locked())
		}
		if !mu.TryLock() || mu.TryLock() {
			t.Error("TryLock")
		}
		mu.Unlock()
		mustPanic(t, "Unlock of an unlocked Lock", mu.Unlock)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLockCancel(t *testing.T) { // test_acquire_cancel, test_cancel_race, test_cancel_release_race
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var mu aio.Lock
		mu.Lock(ctx)
		a := aio.Go(ctx, func(ctx context.Context) error { return mu.Lock(ctx) })
		aio.Yield(ctx)
		a.Cancel()
		if _, err := a.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Lock = %v", err)
		}
		mu.Unlock()
		if mu.Locked() {
			t.Fatal("the cancelled waiter took the lock")
		}
		// A holds the lock, B and C wait; B is cancelled just as A releases:
		// the lock goes to C.
		fa := aio.NewFuture[struct{}](ctx)
		var got []string
		lockit := func(name string, blocker *aio.Future[struct{}]) func(context.Context) error {
			return func(ctx context.Context) error {
				if err := mu.Lock(ctx); err != nil {
					return err
				}
				defer mu.Unlock()
				got = append(got, name)
				if blocker != nil {
					_, err := blocker.Await(ctx)
					return err
				}
				return nil
			}
		}
		ta := aio.Go(ctx, lockit("A", fa))
		aio.Yield(ctx)
		tb := aio.Go(ctx, lockit("B", nil))
		aio.Yield(ctx)
		tc := aio.Go(ctx, lockit("C", nil))
		aio.Yield(ctx)
		fa.SetResult(struct{}{})
		tb.Cancel()
		if _, err := aio.GatherAll(ctx, ta.Await, tb.Await, tc.Await); err != nil {
			return err
		}
		if !tb.Cancelled() || ta.Err() != nil || tc.Err() != nil || strings.Join(got, "") != "AC" || mu.Locked() {
			t.Errorf("got %v; tb cancelled %v; ta %v tc %v; locked %v", got, tb.Cancelled(), ta.Err(), tc.Err(), mu.Locked())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLockOtherLoop(t *testing.T) {
	var mu aio.Lock
	vrun(t, func(ctx context.Context, tr *transcript) error {
		mu.Lock(ctx)
		aio.Go(ctx, func(ctx context.Context) error { return mu.Lock(ctx) }) // binds the lock to this loop
		return aio.Yield(ctx)
	})
	vrun(t, func(ctx context.Context, tr *transcript) error {
		if err := mu.Lock(ctx); !errors.Is(err, aio.ErrOtherLoop) {
			t.Errorf("Lock from another loop = %v", err)
		}
		return nil
	})
}

func TestEvent(t *testing.T) { // test_wait, test_wait_on_set, test_wait_cancel, test_clear, test_clear_with_waiters
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var ev aio.Event
		var woke []int
		ts := make([]aio.Awaitable[struct{}], 3)
		for i := range ts {
			ts[i] = aio.Go(ctx, func(ctx context.Context) error {
				err := ev.Wait(ctx)
				woke = append(woke, i)
				return err
			})
		}
		aio.Sleep(ctx, time.Second)
		if len(woke) != 0 {
			t.Fatal("woke before Set")
		}
		ev.Set()
		ev.Clear() // cleared before the waiters run: they were woken already
		if _, err := aio.Gather(ctx, awaits(ts)...); err != nil || !slices.Equal(woke, []int{0, 1, 2}) {
			t.Errorf("woke %v err %v", woke, err)
		}
		ev.Set()
		if err := ev.Wait(ctx); err != nil || !ev.IsSet() {
			t.Errorf("Wait on a set event: %v", err)
		}
		ev.Clear()
		err := aio.Timeout(ctx, time.Second, ev.Wait)
		if !errors.Is(err, context.DeadlineExceeded) || ev.IsSet() {
			t.Errorf("Wait on a cleared event: %v", err)
		}
		return nil
	})
	if err != nil || took != 2*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestCondition(t *testing.T) { // test_wait, test_notify, test_notify_all, test_wait_for
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		cond := aio.NewCondition(nil)
		var result []int
		for i := 1; i <= 3; i++ {
			aio.Go(ctx, func(ctx context.Context) error {
				if err := cond.Lock(ctx); err != nil {
					return err
				}
				defer cond.Unlock()
				if err := cond.Wait(ctx); err != nil {
					return err
				}
				if !cond.Locked() {
					t.Error("woken without the lock")
				}
				result = append(result, i)
				return nil
			})
		}
		aio.Yield(ctx)
		cond.Lock(ctx)
		cond.Notify(1)
		cond.Unlock()
		aio.Sleep(ctx, time.Millisecond)
		if !slices.Equal(result, []int{1}) {
			t.Errorf("after Notify(1): %v", result)
		}
		cond.Lock(ctx)
		cond.NotifyAll()
		cond.Unlock()
		aio.Sleep(ctx, time.Millisecond)
		if !slices.Equal(result, []int{1, 2, 3}) {
			t.Errorf("after NotifyAll: %v", result)
		}
		// WaitFor with a predicate.
		presult := false
		w := aio.Go(ctx, func(ctx context.Context) error {
			cond.Lock(ctx)
			defer cond.Unlock()
			return cond.WaitFor(ctx, func() bool { return presult })
		})
		for range 3 {
			aio.Yield(ctx)
			cond.Lock(ctx)
			cond.NotifyAll()
			cond.Unlock()
		}
		aio.Yield(ctx)
		if w.Done() {
			t.Error("WaitFor returned before its predicate held")
		}
		cond.Lock(ctx)
		presult = true
		cond.NotifyAll()
		cond.Unlock()
		if _, err := w.Await(ctx); err != nil {
			t.Error(err)
		}
		mustPanic(t, "without holding its lock", func() { cond.Notify(1) })
		mustPanic(t, "without holding its lock", func() { cond.Wait(ctx) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConditionCancel(t *testing.T) { // test_wait_cancel, test_wait_cancel_contested, test_wait_cancel_after_notify
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var cond aio.Condition
		cond.Lock(ctx) // the zero Condition has a lock of its own
		tk := aio.Go(ctx, func(ctx context.Context) error {
			cond.Lock(ctx)
			defer cond.Unlock()
			err := cond.Wait(ctx)
			if !cond.Locked() {
				t.Error("a cancelled Wait returned without the lock")
			}
			return err
		})
		cond.Unlock()
		aio.Yield(ctx) // tk takes the lock and waits
		cond.Lock(ctx)
		tk.Cancel() // cancelled while the lock is held by main: contested
		aio.Yield(ctx)
		if tk.Done() {
			t.Error("Wait returned without its lock")
		}
		cond.Unlock()
		if _, err := tk.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Wait = %v", err)
		}
		// Notified, then cancelled before it used the notification: the
		// cancellation wins and the notification goes to the next waiter.
		waited := false
		tk = aio.Go(ctx, func(ctx context.Context) error {
			cond.Lock(ctx)
			defer cond.Unlock()
			waited = true
			return cond.Wait(ctx)
		})
		other := aio.Go(ctx, func(ctx context.Context) error {
			cond.Lock(ctx)
			defer cond.Unlock()
			return cond.Wait(ctx)
		})
		aio.Yield(ctx)
		cond.Lock(ctx)
		cond.Notify(1)
		aio.Yield(ctx) // tk is woken and waits for the lock
		tk.Cancel()
		aio.Yield(ctx)
		cond.Unlock()
		if _, err := tk.Await(ctx); !errors.Is(err, context.Canceled) || !waited {
			t.Errorf("Wait cancelled after notify = %v", err)
		}
		if _, err := other.Await(ctx); err != nil {
			t.Errorf("the notification was not passed on: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSemaphore(t *testing.T) { // test_semaphore, test_acquire, test_acquire_fifo_order, test_release_not_acquired
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		sem := aio.NewSemaphore(2)
		var order []int
		active, most := 0, 0
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			for i := range 6 {
				g.Go(func(ctx context.Context) error {
					if err := sem.Acquire(ctx); err != nil {
						return err
					}
					defer sem.Release()
					order = append(order, i)
					active++
					most = max(most, active)
					err := aio.Sleep(ctx, time.Second)
					active--
					return err
				})
			}
			return nil
		})
		if !slices.Equal(order, []int{0, 1, 2, 3, 4, 5}) || most != 2 || sem.Value() != 2 {
			t.Errorf("order %v, at most %d at once, value %d", order, most, sem.Value())
		}
		b := aio.NewBoundedSemaphore(1)
		mustPanic(t, "released too many times", b.Release)
		mustPanic(t, "negative", func() { aio.NewSemaphore(-1) })
		s := aio.NewSemaphore(1)
		if !s.TryAcquire() || s.TryAcquire() || !s.Locked() {
			t.Error("TryAcquire")
		}
		s.Release()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSemaphoreCancel(t *testing.T) { // test_acquire_cancel_before_awoken, test_acquire_hang, test_acquire_no_hang
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		sem := aio.NewSemaphore(0)
		acquire := func(ctx context.Context) error { return sem.Acquire(ctx) }
		t1, t2, t3, t4 := aio.Go(ctx, acquire), aio.Go(ctx, acquire), aio.Go(ctx, acquire), aio.Go(ctx, acquire)
		aio.Yield(ctx)
		t1.Cancel()
		t2.Cancel()
		sem.Release() // goes to t3, not to the cancelled t1
		aio.Yield(ctx)
		aio.Yield(ctx)
		if !t1.Cancelled() || !t2.Cancelled() || !t3.Done() || t3.Err() != nil || t4.Done() {
			t.Errorf("t1 %v t2 %v t3 %v/%v t4 %v", t1.Cancelled(), t2.Cancelled(), t3.Done(), t3.Err(), t4.Done())
		}
		t4.Cancel()
		t4.Await(ctx)
		if sem.Value() != 0 {
			t.Errorf("value %d; a permit leaked", sem.Value())
		}
		// test_acquire_no_hang
		sem = aio.NewSemaphore(1)
		var tk2 *aio.Task[struct{}]
		tk1 := aio.Go(ctx, func(ctx context.Context) error {
			sem.Acquire(ctx)
			aio.Yield(ctx)
			sem.Release()
			tk2.Cancel()
			return nil
		})
		tk2 = aio.Go(ctx, func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			t.Error("tk2 acquired")
			return nil
		})
		aio.GatherAll(ctx, tk1.Await, tk2.Await)
		if err := aio.Timeout(ctx, time.Second, sem.Acquire); err != nil {
			t.Errorf("the semaphore hangs: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBarrier(t *testing.T) { // test_barrier, test_filling_*, test_draining_state, test_blocking_tasks_while_draining
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		b := aio.NewBarrier(3)
		for round := range 2 {
			var idx []int
			ts := make([]aio.Awaitable[int], 3)
			for i := range ts {
				ts[i] = aio.Spawn(ctx, func(ctx context.Context) (int, error) {
					aio.Sleep(ctx, time.Duration(i)*time.Second)
					return b.Wait(ctx)
				})
			}
			aio.Sleep(ctx, 1500*time.Millisecond)
			if b.Waiting() != 2 {
				t.Errorf("round %d: %d waiting", round, b.Waiting())
			}
			rs, err := aio.Gather(ctx, awaits(ts)...)
			if err != nil {
				return err
			}
			idx = append(idx, rs...)
			slices.Sort(idx)
			if !slices.Equal(idx, []int{0, 1, 2}) || b.Waiting() != 0 || b.Broken() {
				t.Errorf("round %d: indexes %v", round, idx)
			}
		}
		mustPanic(t, "fewer than one", func() { aio.NewBarrier(0) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBarrierCancelResetAbort(t *testing.T) { // test_filling_tasks_cancel_one, test_reset_barrier*, test_abort_barrier*
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		b := aio.NewBarrier(3)
		t1 := aio.Spawn(ctx, b.Wait)
		t2 := aio.Spawn(ctx, b.Wait)
		aio.Yield(ctx)
		t1.Cancel()
		aio.Yield(ctx)
		if !t1.Cancelled() || b.Waiting() != 1 {
			t.Errorf("after a cancel: %v, %d waiting", t1.Err(), b.Waiting())
		}
		t3 := aio.Spawn(ctx, b.Wait)
		aio.Yield(ctx)
		if b.Waiting() != 2 {
			t.Errorf("%d waiting", b.Waiting())
		}
		b.Reset()
		for _, tk := range []*aio.Task[int]{t2, t3} {
			if _, err := tk.Await(ctx); !errors.Is(err, aio.ErrBrokenBarrier) {
				t.Errorf("after Reset: %v", err)
			}
		}
		// The barrier works again after a reset.
		if _, err := aio.Gather(ctx, b.Wait, b.Wait, b.Wait); err != nil {
			t.Errorf("after reset: %v", err)
		}
		w := aio.Spawn(ctx, b.Wait)
		aio.Yield(ctx)
		b.Abort()
		if _, err := w.Await(ctx); !errors.Is(err, aio.ErrBrokenBarrier) || !b.Broken() {
			t.Errorf("after Abort: %v", err)
		}
		if _, err := b.Wait(ctx); !errors.Is(err, aio.ErrBrokenBarrier) {
			t.Errorf("Wait on a broken barrier: %v", err)
		}
		b.Reset()
		if b.Broken() {
			t.Error("still broken after Reset")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
