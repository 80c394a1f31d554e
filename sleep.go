package aio

import (
	"context"
	"math"
	"time"
)

// Forever, given to Sleep, sleeps until the context is cancelled (Trio's
// sleep_forever, asyncio's await Future()): what a task that only serves,
// or waits for its cancellation, awaits. Unlike <-ctx.Done(), which would
// block the whole loop, it suspends only the task.
const Forever time.Duration = math.MaxInt64

// Sleep suspends the current task for d on its loop's clock (asyncio.sleep).
// A d of zero or less yields to the loop once, as [Yield] does; Forever
// sleeps until ctx is cancelled, with no timer. If ctx is cancelled first,
// Sleep returns the cancellation's cause at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return Yield(ctx)
	}
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	wc := classify(ctx, n)
	if c := wc.cause(); c != nil {
		return c
	}
	t.w.waitKind = waitSleep
	if d == Forever {
		for {
			if t.park(&wc) {
				return ErrClosed
			}
			if c := wc.cause(); c != nil {
				return c
			}
		}
	}
	l := t.loop
	h := l.getTimer()
	defer l.putTimer(h)
	l.schedule(h, addSat(l.now(), d), t)
	for h.index >= 0 {
		closing := t.park(&wc)
		if closing {
			h.Cancel()
			return ErrClosed
		}
		if c := wc.cause(); c != nil { // even if the timer fired: asyncio's sleep raises
			h.Cancel()
			return c
		}
	}
	return nil
}

// Yield gives the loop to the other ready tasks and callbacks, and resumes the
// current task on the loop's next pass (asyncio.sleep(0)). It returns the
// cancellation's cause if ctx is cancelled.
func Yield(ctx context.Context) error {
	// The common case, kept short: a task yielding with its own context.
	if n, ok := ctx.(*node); ok {
		l := n.loop
		if t := l.current; t != nil && !l.closing && n.cause == nil {
			t.phase = stReady
			l.ready.push(readyItem{t: t})
			if l.traced != nil {
				if !t.yieldTraced() {
					return ErrClosed
				}
				return n.cause
			}
			if !t.w.yield(struct{}{}) || l.closing {
				return ErrClosed
			}
			return n.cause
		}
	}
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	wc := classify(ctx, n)
	if c := wc.cause(); c != nil {
		return c
	}
	t.phase = stReady
	t.loop.ready.push(readyItem{t: t})
	if t.loop.traced != nil {
		if !t.yieldTraced() {
			return ErrClosed
		}
		return wc.cause()
	}
	if !t.w.yield(struct{}{}) || t.loop.closing {
		return ErrClosed
	}
	t.phase = stRunning
	return wc.cause()
}

// yieldTraced is Yield's switch to the loop when steps are traced or
// observed: a yield ends a step, as an await does. It reports false if the
// loop is closing.
func (t *task) yieldTraced() bool {
	l := t.loop
	t.w.waitKind = waitReady
	l.stepEnds(t)
	if !t.w.yield(struct{}{}) || l.closing {
		return false
	}
	t.phase = stRunning
	l.stepResumes(t)
	return true
}
