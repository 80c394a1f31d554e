package aio

import (
	"context"
	"errors"
)

// ErrNestedRun is returned by Run when it is called from a task of a running
// loop, which it would block; await the function instead.
var ErrNestedRun = errors.New("aio: Run called from a running task")

// Run runs main as the first task of a new loop and returns its error
// (asyncio.run). When main returns, the tasks still pending are cancelled and
// Run waits for their cleanup; errors they return other than the cancellation
// go to the loop's exception handler. Then the loop is closed.
//
// main's context derives from ctx: cancelling ctx (for instance a context from
// signal.NotifyContext) cancels main.
func Run(ctx context.Context, main func(ctx context.Context) error, opts ...Option) error {
	if n := nodeOf(ctx); n != nil && n.loop.running && n.loop.current != nil {
		return ErrNestedRun
	}
	l := NewLoop(opts...)
	defer l.Close()
	t := newTask(func(ctx context.Context) (struct{}, error) { return struct{}{}, main(ctx) })
	l.start(&t.task, ctx, nodeOf(ctx), []TaskOption{WithName("main")})
	if err := l.RunUntilComplete(t); err != nil {
		return err
	}
	if err := l.cancelAll(); err != nil {
		return err
	}
	_, err := t.Result()
	return err
}

// cancelAll cancels every task of the loop and runs the loop until they are
// done, reporting the errors they end with other than their cancellation
// (asyncio.run's shutdown).
func (l *Loop) cancelAll() error {
	var tasks []*task
	for t := l.tasks; t != nil; t = t.nextAll {
		tasks = append(tasks, t)
	}
	for _, t := range tasks {
		t.body.Cancel()
	}
	for _, t := range tasks {
		if err := l.RunUntilComplete(t.body); err != nil {
			return err
		}
		if err := t.body.Err(); err != nil && !isCancellation(err) {
			l.reportException(ExceptionContext{
				Message: "unhandled error during aio.Run() shutdown", Err: err, Task: t.Name(),
			})
		}
	}
	return nil
}
