package aio

import "context"

// Result is the outcome of one awaitable, as GatherAll returns it.
type Result[T any] struct {
	Value T
	Err   error
}

// Gather waits for every awaitable and returns their results in argument order
// (asyncio.gather). The first error, a cancellation included, is returned as
// soon as it happens, and the other awaitables go on running. If ctx is
// cancelled, Gather cancels the awaitables that are not done yet and returns
// the cause. Start functions as tasks with Spawn or Go to pass them here.
func Gather[T any](ctx context.Context, aws ...Awaitable[T]) ([]T, error) {
	if err := gather(ctx, aws, true); err != nil {
		return nil, err
	}
	out := make([]T, len(aws))
	for i, a := range aws {
		out[i], _ = a.Result()
	}
	return out, nil
}

// GatherAll waits for every awaitable to finish and returns each one's value
// and error in argument order (asyncio.gather with return_exceptions=True). If
// ctx is cancelled, GatherAll cancels the awaitables, waits until they are all
// done, and returns their outcomes together with the cause.
func GatherAll[T any](ctx context.Context, aws ...Awaitable[T]) ([]Result[T], error) {
	err := gather(ctx, aws, false)
	out := make([]Result[T], len(aws))
	for i, a := range aws {
		if a.Done() {
			out[i].Value, out[i].Err = a.Result()
		}
	}
	return out, err
}

// gatherer counts the awaitables of a Gather still running.
type gatherer struct {
	done      fut
	remaining int
	firstErr  bool // finish at the first error
	err       error
}

func (g *gatherer) child(f *fut) {
	f.markRetrieved()
	g.remaining--
	if g.done.state != futPending {
		return
	}
	if g.firstErr && f.err != nil {
		g.err = f.err
		g.done.complete(nil)
	} else if g.remaining == 0 {
		g.done.complete(nil)
	}
}

func gather[T any](ctx context.Context, aws []Awaitable[T], firstErr bool) error {
	g := &gatherer{firstErr: firstErr}
	for _, a := range aws {
		f := a.base()
		if f.state == futPending {
			g.remaining++
			continue
		}
		f.markRetrieved()
		if firstErr && f.err != nil {
			return f.err
		}
	}
	if g.remaining == 0 {
		return nil
	}
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	g.done.loop = t.loop
	shared := &waiter{cb: g.child}
	for _, a := range aws {
		f := a.base()
		if f.loop != t.loop {
			return ErrOtherLoop
		}
		if f.state == futPending {
			f.addShared(shared)
		}
	}
	wc := classify(ctx, n)
	if err := g.done.awaitIn(t, &wc); err != nil {
		// Cancelled (or the loop is closing): cancel what is left.
		for _, a := range aws {
			if !a.Done() {
				a.Cancel()
			}
		}
		if !firstErr && err != ErrClosed {
			never := waitCtx{mode: waitNever}
			g.done.awaitIn(t, &never)
		}
		return err
	}
	return g.err
}
