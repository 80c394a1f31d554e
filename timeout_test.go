package aio_test

// Cases of CPython's test_timeouts.py and test_waitfor.py, ported.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestTimeoutBasic(t *testing.T) { // test_timeout_basic, test_timeout_at_basic, test_waiter_cancelled
	for _, at := range []bool{false, true} {
		err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
			var scope *aio.TimeoutScope
			var sleepErr error
			body := func(ctx context.Context) error {
				scope = aio.TimeoutOf(ctx)
				sleepErr = aio.Sleep(ctx, 10*time.Second)
				return sleepErr
			}
			var err error
			if at {
				err = aio.TimeoutAt(ctx, aio.LoopOf(ctx).Now().Add(10*time.Millisecond), body)
			} else {
				err = aio.Timeout(ctx, 10*time.Millisecond, body)
			}
			if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(sleepErr, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, sleep err = %v; want DeadlineExceeded", err, sleepErr)
			}
			if !scope.Expired() {
				t.Error("scope not expired")
			}
			return nil
		})
		if err != nil || took != 10*time.Millisecond {
			t.Fatalf("err=%v took=%v", err, took)
		}
	}
}

func TestTimeoutContext(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		start := aio.LoopOf(ctx).Now()
		return aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			if d, ok := ctx.Deadline(); !ok || !d.Equal(start.Add(time.Second)) {
				t.Errorf("Deadline() = %v, %v; want start+1s", d, ok)
			}
			if ctx.Err() != nil {
				t.Errorf("Err() = %v before the deadline", ctx.Err())
			}
			// A context derived with the standard library sees the timeout too.
			std, cancel := context.WithCancel(ctx)
			defer cancel()
			aio.Sleep(ctx, 2*time.Second)
			if ctx.Err() != context.DeadlineExceeded || context.Cause(ctx) != context.DeadlineExceeded {
				t.Errorf("Err() = %v, Cause = %v; want DeadlineExceeded", ctx.Err(), context.Cause(ctx))
			}
			if std.Err() == nil || context.Cause(std) != context.DeadlineExceeded {
				t.Errorf("derived: Err() = %v, Cause = %v", std.Err(), context.Cause(std))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimeoutNested(t *testing.T) { // test_nested_timeouts, test_nested_timeout_in_finally
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		deadline := aio.LoopOf(ctx).Now().Add(10 * time.Millisecond)
		var cm1, cm2 *aio.TimeoutScope
		var innerErr error
		err := aio.TimeoutAt(ctx, deadline, func(ctx context.Context) error {
			cm1 = aio.TimeoutOf(ctx)
			innerErr = aio.TimeoutAt(ctx, deadline, func(ctx context.Context) error {
				cm2 = aio.TimeoutOf(ctx)
				return aio.Sleep(ctx, 10*time.Second)
			})
			return innerErr
		})
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(innerErr, context.DeadlineExceeded) {
			t.Errorf("err = %v, inner = %v", err, innerErr)
		}
		if !cm1.Expired() || !cm2.Expired() {
			t.Errorf("expired: %v %v", cm1.Expired(), cm2.Expired())
		}
		// The inner scope expires first; the outer goes on and expires later.
		var inner *aio.TimeoutScope
		err = aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			err := aio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context) error {
				inner = aio.TimeoutOf(ctx)
				return aio.Sleep(ctx, time.Hour)
			})
			if !errors.Is(err, context.DeadlineExceeded) || aio.TimeoutOf(ctx).Expired() || !inner.Expired() {
				t.Errorf("inner err = %v; outer expired %v", err, aio.TimeoutOf(ctx).Expired())
			}
			return aio.Sleep(ctx, time.Hour)
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("outer err = %v", err)
		}
		return nil
	})
	if err != nil || took != 1010*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestTimeoutDisabledAndReschedule(t *testing.T) { // test_timeout_disabled, test_timeout_at_disabled, test_reschedule, test_timeout_not_called
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		l := aio.LoopOf(ctx)
		err := aio.TimeoutAt(ctx, time.Time{}, func(ctx context.Context) error {
			s := aio.TimeoutOf(ctx)
			if _, ok := s.When(); ok {
				t.Error("a disabled scope has a deadline")
			}
			if err := aio.Sleep(ctx, 10*time.Millisecond); err != nil {
				return err
			}
			if s.Expired() {
				t.Error("disabled scope expired")
			}
			d1 := l.Now().Add(10 * time.Second)
			s.Reschedule(d1)
			if w, ok := s.When(); !ok || !w.Equal(d1) {
				t.Errorf("When() = %v; want %v", w, d1)
			}
			s.Reschedule(d1.Add(20 * time.Second))
			s.Reschedule(time.Time{})
			if _, ok := s.When(); ok {
				t.Error("rescheduled to none, still has a deadline")
			}
			s.Reschedule(l.Now().Add(time.Second))
			return aio.Sleep(ctx, time.Hour)
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		var s *aio.TimeoutScope
		err = aio.Timeout(ctx, 10*time.Second, func(ctx context.Context) error {
			s = aio.TimeoutOf(ctx)
			return aio.Sleep(ctx, 10*time.Millisecond)
		})
		if err != nil || s.Expired() || s.Reschedule(l.Now()) {
			t.Errorf("err=%v expired=%v; a finished scope must not reschedule", err, s.Expired())
		}
		return nil
	})
	if err != nil || took != 1020*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestTimeoutZeroAndPast(t *testing.T) { // test_timeout_zero, _zero_sleep_zero, _in_the_past_sleep_zero
	for _, c := range []struct {
		d     time.Duration
		sleep time.Duration
	}{{0, 10 * time.Second}, {0, 0}, {-11 * time.Second, 0}} {
		err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
			var s *aio.TimeoutScope
			err := aio.Timeout(ctx, c.d, func(ctx context.Context) error {
				s = aio.TimeoutOf(ctx)
				return aio.Sleep(ctx, c.sleep)
			})
			if !errors.Is(err, context.DeadlineExceeded) || !s.Expired() {
				t.Errorf("%+v: err = %v, expired %v", c, err, s.Expired())
			}
			return nil
		})
		if err != nil || took != 0 {
			t.Fatalf("err=%v took=%v", err, took)
		}
	}
}

func TestTimeoutForeignErrors(t *testing.T) { // test_foreign_exception_passed, _on_timeout, test_foreign_cancel_doesnt_timeout_if_not_expired
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var s *aio.TimeoutScope
		err := aio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context) error {
			s = aio.TimeoutOf(ctx)
			return errMy
		})
		if err != errMy || s.Expired() {
			t.Errorf("err = %v, expired %v", err, s.Expired())
		}
		err = aio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context) error {
			aio.Sleep(ctx, time.Second)
			return errZeroDivision // an error raised by the cleanup wins
		})
		if err != errZeroDivision {
			t.Errorf("err = %v", err)
		}
		tk := aio.Go(ctx, func(ctx context.Context) error {
			return aio.Timeout(ctx, 10*time.Second, func(ctx context.Context) error {
				s = aio.TimeoutOf(ctx)
				aio.CurrentTask(ctx).CancelWithMessage("foreign")
				return aio.Sleep(ctx, 10*time.Second)
			})
		})
		_, err = tk.Await(ctx)
		if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || s.Expired() || !tk.Cancelled() {
			t.Errorf("err = %v, expired %v; want the outer cancellation", err, s.Expired())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimeoutOuterTaskNotCancelled(t *testing.T) { // test_outer_task_is_not_cancelled
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		tk := aio.Go(ctx, func(ctx context.Context) error {
			err := aio.Timeout(ctx, time.Millisecond, func(ctx context.Context) error { return aio.Sleep(ctx, 10*time.Second) })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v", err)
			}
			return nil
		})
		tk.Await(ctx)
		if tk.Cancelled() || !tk.Done() || tk.Err() != nil {
			t.Errorf("task cancelled=%v err=%v", tk.Cancelled(), tk.Err())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimeoutAfterCancellation(t *testing.T) { // test_timeout_after_cancellation, test_cancel_in_timeout_after_cancellation
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		tk := aio.Go(ctx, func(ctx context.Context) error {
			aio.CurrentTask(ctx).Cancel()
			if err := aio.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
				t.Errorf("sleep err = %v", err)
			}
			// Cleanup: bounded by its own timeout, out of the cancellation's reach.
			cleanup := context.WithoutCancel(ctx)
			err := aio.Timeout(cleanup, 0, func(ctx context.Context) error { return aio.Sleep(ctx, time.Second) })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("cleanup timeout err = %v", err)
			}
			// Cancellation inside the timeout's reach wins over the timeout.
			err = aio.Timeout(ctx, time.Second, func(ctx context.Context) error { return aio.Sleep(ctx, 2*time.Second) })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v; want the task's cancellation", err)
			}
			return err
		})
		tk.Await(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWaitFor(t *testing.T) { // test_wait_for, test_wait_for_race_condition, test_wait_for_cancellation_race_condition
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		v, err := aio.WaitFor(ctx, 200*time.Millisecond, sleeper(100*time.Millisecond, "ok"))
		if v != "ok" || err != nil {
			t.Errorf("WaitFor = %q, %v", v, err)
		}
		// A future completed by a callback before the deadline.
		fut := aio.NewFuture[string](ctx)
		aio.LoopOf(ctx).CallLater(100*time.Millisecond, func() { fut.SetResult("ok") })
		if v, err := aio.WaitFor(ctx, 200*time.Millisecond, fut.Await); v != "ok" || err != nil {
			t.Errorf("WaitFor(future) = %q, %v", v, err)
		}
		// The inner function swallows the timeout and returns a value: the value wins.
		v2, err := aio.WaitFor(ctx, 10*time.Millisecond, func(ctx context.Context) (int, error) {
			if err := aio.Sleep(ctx, time.Second); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("inner sleep err = %v", err)
			}
			return 1, nil
		})
		if v2 != 1 || err != nil {
			t.Errorf("WaitFor = %d, %v; want 1, nil", v2, err)
		}
		return nil
	})
	if err != nil || took != 210*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestWaitForWaitsForCleanup(t *testing.T) { // test_wait_for_waits_for_task_cancellation, _reraises_exception_during_cancellation
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		done := false
		_, err := aio.WaitFor(ctx, time.Millisecond, func(ctx context.Context) (int, error) {
			defer func() { done = true }()
			if err := aio.Sleep(ctx, 10*time.Second); err != nil {
				aio.Sleep(context.WithoutCancel(ctx), time.Millisecond)
				return 0, err
			}
			return 0, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) || !done {
			t.Errorf("err=%v done=%v", err, done)
		}
		_, err = aio.WaitFor(ctx, time.Millisecond, func(ctx context.Context) (int, error) {
			aio.Sleep(ctx, 200*time.Millisecond)
			return 0, errMy
		})
		if err != errMy {
			t.Errorf("err = %v; want the error raised during cancellation", err)
		}
		return nil
	})
	if err != nil || took != 3*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestWaitForCancelledFromOutside(t *testing.T) { // test_wait_for_self_cancellation, test_cancel_wait_for
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		inner := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			aio.Sleep(ctx, 300*time.Millisecond)
			return 42, nil
		})
		wait := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			return aio.WaitFor(ctx, 100*time.Millisecond, inner.Await)
		})
		aio.Sleep(ctx, 50*time.Millisecond)
		wait.Cancel()
		if _, err := wait.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("wait err = %v; want cancelled", err)
		}
		// Awaiting a task never cancels it: it still delivers its result.
		if v, err := inner.Await(ctx); v != 42 || err != nil {
			t.Errorf("inner = %d, %v", v, err)
		}
		return nil
	})
	if err != nil || took != 300*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
}
