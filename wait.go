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
	wake.loop = t.loop
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

// unique drops the repeats of an awaitable, keeping the first (asyncio's
// as_completed takes a set). It allocates only when there are repeats.
func unique[T any](aws []Awaitable[T]) []Awaitable[T] {
	for i := 1; i < len(aws); i++ {
		for j := range i {
			if aws[j].base() == aws[i].base() {
				return dedupe(aws)
			}
		}
		if i >= 16 { // past a few, a map is cheaper than comparing pairs
			return dedupe(aws)
		}
	}
	return aws
}

func dedupe[T any](aws []Awaitable[T]) []Awaitable[T] {
	seen := make(map[*fut]struct{}, len(aws))
	out := make([]Awaitable[T], 0, len(aws))
	for _, a := range aws {
		if _, ok := seen[a.base()]; !ok {
			seen[a.base()] = struct{}{}
			out = append(out, a)
		}
	}
	return out
}

// AsCompleted returns an iterator over the results of the awaitables in the
// order they complete (asyncio.as_completed); an awaitable given twice is
// yielded once. Range over it inside a task; each
// step suspends the task until the next awaitable is done. If ctx is cancelled
// the iterator yields the cause once and stops. Breaking out of the loop leaves
// the awaitables running. It returns a single-use iterator.
func AsCompleted[T any](ctx context.Context, aws ...Awaitable[T]) iter.Seq2[T, error] {
	aws = unique(aws)
	return func(yield func(T, error) bool) {
		var queue []Awaitable[T]
		var wake fut
		links := make([]waiter, len(aws))
		defer func() {
			for i, a := range aws {
				a.base().unlink(&links[i])
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
				wake.loop = t.loop
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
				wake = fut{loop: t.loop}
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
