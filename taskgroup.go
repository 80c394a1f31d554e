package aio

import (
	"context"
	"errors"
	"runtime/debug"
)

// TaskGroup is a set of tasks whose lifetime is bounded by a call to Group
// (asyncio.TaskGroup). Its methods belong to the loop's goroutine.
type TaskGroup struct {
	node     *node
	active   int
	errs     []error
	aborting bool
	finished bool
	idle     fut // completed when the last task ends while Group waits
	onDone   *waiter
}

// errGroupAborted is the cause the tasks of a group are cancelled with when
// one of them fails.
var errGroupAborted = &CancelledError{Msg: "another task of the TaskGroup failed"}

// Group calls body with a task group and returns once body and every task
// started in the group have finished (asyncio's async with TaskGroup()).
//
// The first task to fail, or body returning an error, cancels the group's
// context: the other tasks and body see the cancellation at their next Await.
// Group then returns every error, other than those cancellations, joined with
// errors.Join, so that errors.Is and errors.As see each one. If ctx is
// cancelled, the group's tasks are cancelled with it, and Group returns the
// cause once they have finished. If body returns a cancellation that neither
// the group nor ctx caused (it awaited a task someone cancelled), the tasks
// are cancelled and Group returns that cancellation. Groups nest.
func Group(ctx context.Context, body func(ctx context.Context, tg *TaskGroup) error) (err error) {
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	l := t.loop
	g := &TaskGroup{}
	g.node = l.newNode(ctx, n, nil)
	g.node.scope = scopeGroup
	g.idle.loop, g.idle.kind = l, futTasks
	g.onDone = &waiter{cb: g.childDone}
	wc := classify(ctx, n)

	returned := false
	var foreign error // a cancellation body returned that nobody here asked for
	defer func() {
		if !returned { // body panicked: stop the tasks before the panic goes on
			g.abort()
		}
		for g.active > 0 {
			g.idle = fut{loop: l, kind: futTasks}
			never := waitCtx{mode: waitNever}
			if g.idle.awaitIn(t, &never) == ErrClosed {
				break
			}
		}
		g.finished = true
		g.node.finish()
		if !returned {
			return
		}
		switch c := wc.cause(); {
		case len(g.errs) > 0:
			err = errors.Join(g.errs...)
		case c != nil:
			err = c
		case foreign != nil:
			err = foreign
		}
	}()
	berr := body(g.node, g)
	returned = true
	if berr != nil {
		switch {
		case !isCancellation(berr) && (g.node.cause == nil || !errors.Is(berr, g.node.cause)):
			g.errs = append(g.errs, berr)
		case isCancellation(berr) && g.node.cause == nil && wc.cause() == nil:
			// Neither the group nor its caller was cancelled: body met a
			// cancellation of something else (it awaited a cancelled task).
			// It goes on up, as asyncio's TaskGroup lets it.
			foreign = berr
		}
		g.abort()
	}
	return nil
}

// Go starts fn as a task of the group, with the group's context (asyncio's
// TaskGroup.create_task). Once the group is shutting down because a task
// failed, the new task is cancelled before it runs. Go panics if called after
// Group has returned.
func (g *TaskGroup) Go(fn func(ctx context.Context) error, opts ...TaskOption) *Task[struct{}] {
	if g.finished {
		panic("aio: TaskGroup.Go called after the group finished")
	}
	t := Go(g.node, fn, opts...)
	g.add(&t.fut)
	return t
}

// SpawnIn starts fn as a task of the group, as TaskGroup.Go does, for
// functions that return a value: read it from the task once Group has
// returned, or await it (asyncio's tg.create_task returning a task).
func SpawnIn[T any](g *TaskGroup, fn func(ctx context.Context) (T, error), opts ...TaskOption) *Task[T] {
	if g.finished {
		panic("aio: SpawnIn called after the group finished")
	}
	t := Spawn(g.node, fn, opts...)
	g.add(&t.fut)
	return t
}

// add makes the task of f a member of the group.
func (g *TaskGroup) add(f *fut) {
	if f.state == futPending {
		g.active++
		f.addShared(g.onDone)
	}
}

// ErrNotStarted is returned by TaskGroup.Start when its function returned
// without calling ready.
var ErrNotStarted = errors.New("aio: the function given to TaskGroup.Start returned without calling ready")

// Start starts fn as a task of the group and waits until fn calls ready
// (Trio's nursery.start): a server that listens before it serves, a worker
// that connects before it takes jobs. Start returns nil once ready is
// called, and the task goes on in the group. If fn returns first, Start
// returns its error (ErrNotStarted if it returned nil, a *PanicError if it
// panicked) and the group does not see it; if the group is cancelled first, Start returns the cause and the
// task is cancelled with the group. Call Start from a task of the group's
// loop. A value for the caller (an address, a port) comes back through fn's
// closure.
func (g *TaskGroup) Start(fn func(ctx context.Context, ready func()) error, opts ...TaskOption) error {
	if g.finished {
		panic("aio: TaskGroup.Start called after the group finished")
	}
	started := NewFuture[struct{}](g.node)
	g.Go(func(ctx context.Context) (err error) {
		defer func() {
			if started.Done() {
				return // started: what follows is the group's to see, a panic too
			}
			if r := recover(); r != nil {
				err = &PanicError{Value: r, Stack: debug.Stack()}
			}
			if err == nil {
				err = ErrNotStarted
			}
			started.SetError(err) // Start's caller's, not the group's
			err = nil
		}()
		return fn(ctx, func() { started.SetResult(struct{}{}) })
	}, opts...)
	_, err := started.Await(g.node)
	if err != nil && !started.Done() {
		started.Cancel() // the caller gave up waiting: nobody reads it
	}
	return err
}

func (g *TaskGroup) childDone(f *fut) {
	f.markRetrieved()
	g.active--
	if f.state == futDone && f.err != nil {
		g.errs = append(g.errs, f.err)
		g.abort()
	}
	if g.active == 0 && g.idle.state == futPending {
		g.idle.complete(nil)
	}
}

func (g *TaskGroup) abort() {
	if !g.aborting {
		g.aborting = true
		g.node.cancel(errGroupAborted)
	}
}
