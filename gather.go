package aio

import "context"

// Result is the outcome of one awaitable, as GatherAll returns it.
type Result[T any] struct {
	Value T
	Err   error
}

// Gather runs each function as a task of its own, concurrently, and returns
// their results in argument order (asyncio.gather of coroutines):
//
//	results, err := aio.Gather(ctx,
//		func(ctx context.Context) (int, error) { return factorial(ctx, "A", 2) },
//		func(ctx context.Context) (int, error) { return factorial(ctx, "B", 3) },
//	)
//
// The first error, a cancellation included, is returned as soon as it
// happens, and the other tasks go on running (asyncio's gather; a TaskGroup
// cancels them instead). The tasks' contexts derive from ctx: cancelling ctx
// cancels those not done yet, and Gather returns the cause. To gather tasks
// that already run, pass their Await methods: aio.Gather(ctx, t1.Await,
// t2.Await).
func Gather[T any](ctx context.Context, fns ...func(context.Context) (T, error)) ([]T, error) {
	tasks := spawnAll(ctx, fns)
	if err := gather(ctx, tasks, true); err != nil {
		return nil, err
	}
	out := make([]T, len(tasks))
	for i, t := range tasks {
		out[i] = t.value
	}
	return out, nil
}

// GatherAll is Gather that waits for every function to finish and returns
// each one's value and error in argument order (asyncio.gather with
// return_exceptions=True). If ctx is cancelled, GatherAll waits until the
// tasks, cancelled with it, are all done, and returns their outcomes together
// with the cause.
func GatherAll[T any](ctx context.Context, fns ...func(context.Context) (T, error)) ([]Result[T], error) {
	tasks := spawnAll(ctx, fns)
	err := gather(ctx, tasks, false)
	out := make([]Result[T], len(tasks))
	for i, t := range tasks {
		if t.Done() {
			out[i].Value, out[i].Err = t.Result()
		}
	}
	return out, err
}

// spawnAll starts each function as a task with ctx, in order.
func spawnAll[T any](ctx context.Context, fns []func(context.Context) (T, error)) []*Task[T] {
	tasks := make([]*Task[T], len(fns))
	for i, fn := range fns {
		tasks[i] = Spawn(ctx, fn)
	}
	return tasks
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

func gather[T any](ctx context.Context, aws []*Task[T], firstErr bool) error {
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
	g.done.loop, g.done.kind = t.loop, futTasks
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
