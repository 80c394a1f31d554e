package aio

import (
	"context"
	"iter"
	"time"
)

// WaitMode says when Wait returns.
type WaitMode uint8

const (
	// AllCompleted returns when every waitable is done.
	AllCompleted WaitMode = iota
	// FirstCompleted returns when any waitable is done.
	FirstCompleted
	// FirstError returns when any waitable fails with an error other than a
	// cancellation, or when all are done.
	FirstError
)

// Wait waits until the waitables satisfy mode, or until timeout passes (zero
// or less: no timeout), and returns them split into done and pending, each in
// argument order (asyncio.wait). It never cancels them and a timeout is not an
// error: err is non-nil only if ctx is cancelled (its cause) or the loop closes.
func Wait[W Waitable](ctx context.Context, mode WaitMode, timeout time.Duration, ws ...W) (done, pending []W, err error) {
	if !waitSatisfied(mode, ws) {
		err = waitFor(ctx, mode, timeout, ws)
	}
	for _, w := range ws {
		if w.Done() {
			done = append(done, w)
		} else {
			pending = append(pending, w)
		}
	}
	return done, pending, err
}

func waitSatisfied[W Waitable](mode WaitMode, ws []W) bool {
	ndone := 0
	for _, w := range ws {
		f := w.base()
		if f.state == futPending {
			continue
		}
		ndone++
		if mode == FirstCompleted || (mode == FirstError && f.state == futDone && f.err != nil) {
			return true
		}
	}
	return ndone == len(ws)
}

func waitFor[W Waitable](ctx context.Context, mode WaitMode, timeout time.Duration, ws []W) error {
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	var wake fut
	wake.loop, wake.kind = t.loop, futTasks
	remaining := 0
	cb := func(f *fut) {
		remaining--
		if wake.state == futPending && (remaining == 0 || mode == FirstCompleted ||
			(mode == FirstError && f.state == futDone && f.err != nil)) {
			wake.complete(nil)
		}
	}
	links := make([]waiter, len(ws))
	for i, w := range ws {
		f := w.base()
		if f.loop != t.loop {
			return ErrOtherLoop
		}
		if f.state == futPending {
			remaining++
			links[i].cb = cb
			f.add(&links[i])
		}
	}
	var timer *Handle
	if timeout > 0 {
		timer = t.loop.CallLater(timeout, func() {
			if wake.state == futPending {
				wake.complete(nil)
			}
		})
	}
	wc := classify(ctx, n)
	err = wake.awaitIn(t, &wc)
	if timer != nil {
		timer.Cancel()
	}
	for i, w := range ws {
		w.base().unlink(&links[i])
	}
	if err == nil && mode != AllCompleted && remaining > 0 {
		// asyncio's waiter hears of the first completion through two
		// callbacks, so it also reports what finishes in the pass after:
		// look once more after a pass.
		if wc.cause() == nil {
			_ = Yield(ctx)
		}
	}
	return err
}

// AsCompleted runs each function as a task of its own, concurrently, and
// returns an iterator over their results in the order they complete
// (asyncio.as_completed). Range over it inside a task; each step suspends
// the task until the next one is done. If ctx is cancelled the iterator
// yields the cause once and stops. Breaking out of the loop cancels the tasks
// not yet yielded. The tasks start when the iteration does; the iterator is
// single-use.
func AsCompleted[T any](ctx context.Context, fns ...func(context.Context) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		aws := spawnAll(ctx, fns)
		var queue []*Task[T]
		var wake fut
		links := make([]waiter, len(aws))
		defer func() {
			for i, a := range aws {
				a.base().unlink(&links[i])
				a.Cancel() // a no-op for those done
			}
		}()
		var t *task
		var wc waitCtx
		for i, a := range aws {
			f := a.base()
			if f.state != futPending {
				queue = append(queue, a)
				continue
			}
			if t == nil {
				var n *node
				var err error
				if t, n, err = enter(ctx); err != nil {
					var zero T
					yield(zero, err)
					return
				}
				wc = classify(ctx, n)
				wake.loop, wake.kind = t.loop, futTasks
			}
			if f.loop != t.loop {
				var zero T
				yield(zero, ErrOtherLoop)
				return
			}
			links[i].cb = func(*fut) {
				queue = append(queue, a)
				if wake.state == futPending {
					wake.complete(nil)
				}
			}
			f.add(&links[i])
		}
		for got := 0; got < len(aws); got++ {
			if len(queue) == 0 {
				wake = fut{loop: t.loop, kind: futTasks}
				if err := wake.awaitIn(t, &wc); err != nil {
					var zero T
					yield(zero, err)
					return
				}
			}
			a := queue[0]
			queue = queue[1:]
			if !yield(a.Result()) {
				return
			}
		}
	}
}
