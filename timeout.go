package aio

import (
	"context"
	"time"
)

// Timeout calls fn with a context that is cancelled once d has passed on the
// loop's clock (asyncio.timeout). Awaits inside fn then return
// context.DeadlineExceeded, and the context's Err reports it too, so a timeout
// is told from an outer cancellation (whose cause matches context.Canceled) by
// errors.Is on the error fn returns, or by [TimeoutScope.Expired]. Timeout
// returns what fn returns. A d of zero or less expires at fn's first Await.
//
// fn runs in the current task; tasks it spawns with its context inherit the
// deadline, even if they outlive Timeout.
func Timeout(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	return timeoutNs(ctx, t, n, addSat(t.loop.now(), d), true, fn)
}

// TimeoutAt is Timeout with an instant on the loop's clock (asyncio.timeout_at).
// A zero when means no deadline yet; fn may set one with
// [TimeoutScope.Reschedule].
func TimeoutAt(ctx context.Context, when time.Time, fn func(ctx context.Context) error) error {
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	return timeoutNs(ctx, t, n, int64(when.Sub(t.loop.epoch)), !when.IsZero(), fn)
}

// WaitFor calls fn with a context that times out after d and returns what fn
// returns (asyncio.wait_for): on timeout, fn's Awaits fail with
// context.DeadlineExceeded, and WaitFor returns once fn has finished its
// cleanup. A d of zero or less times out at once: fn does not run.
func WaitFor[T any](ctx context.Context, d time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	var v T
	if d <= 0 {
		return v, context.DeadlineExceeded
	}
	err := Timeout(ctx, d, func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	})
	return v, err
}

func timeoutNs(ctx context.Context, t *task, n *node, ns int64, has bool, fn func(context.Context) error) error {
	s := n.loop.newNode(ctx, n, nil)
	s.scope = scopeTimeout
	if has {
		(*TimeoutScope)(s).rescheduleNs(ns)
	}
	outer := t.inner
	t.inner = s
	defer func() {
		t.inner = outer
		s.finish()
	}()
	return fn(s)
}

// TimeoutScope is the deadline of a Timeout or TimeoutAt call (asyncio's
// Timeout object). Get it with TimeoutOf from inside fn. Its methods belong to
// the loop's goroutine.
type TimeoutScope node

// TimeoutOf returns the innermost timeout scope around ctx, or nil.
func TimeoutOf(ctx context.Context) *TimeoutScope {
	for n := nodeOf(ctx); n != nil; n = n.parent {
		if n.scope == scopeTimeout {
			return (*TimeoutScope)(n)
		}
	}
	return nil
}

// When returns the deadline on the loop's clock, and false if there is none.
func (s *TimeoutScope) When() (time.Time, bool) {
	n := (*node)(s)
	ns := int64(noDeadline)
	if n.ext != nil {
		ns = n.ext.deadline.Load()
	}
	if ns == noDeadline {
		return time.Time{}, false
	}
	return n.loop.timeAt(ns), true
}

// Reschedule moves the deadline to when; the zero time removes it. It reports
// false, and changes nothing, once the scope has expired or been cancelled.
func (s *TimeoutScope) Reschedule(when time.Time) bool {
	if when.IsZero() {
		return s.rescheduleNs(noDeadline)
	}
	return s.rescheduleNs(int64(when.Sub((*node)(s).loop.epoch)))
}

// Cancel cancels the scope now (Trio's CancelScope.cancel): its context and
// every task and scope under it are cancelled with a *CancelledError
// carrying msg, and their Awaits fail with it; the deadline is dropped and
// Expired stays false. It reports false, and changes nothing, once the scope
// has expired, been cancelled or ended. TimeoutAt with the zero time makes a
// scope that only this ends early: the loop's own context.WithCancel, with no
// goroutine behind it.
func (s *TimeoutScope) Cancel(msg string) bool {
	n := (*node)(s)
	if n.cause != nil || n.done {
		return false
	}
	if x := n.ext; x != nil && x.timer != nil {
		x.timer.Cancel()
		x.timer = nil
	}
	n.cancel(n.loop.cancelErr(msg))
	return true
}

// Expired reports whether the scope's deadline has passed while it was active.
// A scope cancelled by an outer cancellation before its deadline has not
// expired.
func (s *TimeoutScope) Expired() bool { return (*node)(s).expired }

func (s *TimeoutScope) rescheduleNs(ns int64) bool {
	n := (*node)(s)
	if n.cause != nil || n.done {
		return false
	}
	x := n.extra()
	if x.timer != nil {
		x.timer.Cancel()
		x.timer = nil
	}
	x.deadline.Store(ns)
	if ns != noDeadline {
		expire := func() {
			x.timer = nil
			n.expired = true
			n.cancel(context.DeadlineExceeded)
		}
		if ns <= n.loop.now() {
			// Already due: expire before the task's next step, as asyncio does.
			x.timer = n.loop.CallSoon(expire)
		} else {
			x.timer = n.loop.callAtNs(ns, expire, nil)
		}
	}
	return true
}

// Shield calls fn in a new task that the cancellation of ctx does not reach
// (asyncio.shield) and awaits it:
//
//	err := aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
//		return aio.Shield(ctx, save) // save goes on if the timeout expires
//	})
//
// If ctx is cancelled first, Shield returns the cause at once and the task
// goes on to its end; its error, if nobody awaits it, goes to the loop's
// exception handler. Its context keeps ctx's values. A result comes back
// through fn's closure.
func Shield(ctx context.Context, fn func(ctx context.Context) error) error {
	_, err := Go(context.WithoutCancel(ctx), fn).Await(ctx)
	return err
}
