package aio

import (
	"context"
	"sync"
	"time"
)

// Bridges between tasks and goroutines: goroutines hand work to a loop with
// Submit; tasks wait for goroutines with Recv, Send and AwaitContext, without
// blocking the loop.

// Promise is the result of a function submitted to a loop from another
// goroutine (what asyncio.run_coroutine_threadsafe returns). Its methods are
// safe for concurrent use.
type Promise[T any] struct {
	done   chan struct{}
	value  T
	err    error
	loop   *Loop
	mu     sync.Mutex
	task   *Task[T] // set on the loop once the task exists
	cancel bool     // Cancel came before the task existed
}

// Submit starts fn as a task on loop l from any goroutine and returns at once
// (asyncio.run_coroutine_threadsafe). The task's context is the loop's root
// context. If the loop is closed, the promise is done with ErrClosed.
func Submit[T any](l *Loop, fn func(ctx context.Context) (T, error), opts ...TaskOption) *Promise[T] {
	p := &Promise[T]{done: make(chan struct{}), loop: l}
	err := l.CallSoonThreadsafe(func() {
		t := Spawn(l.Context(), fn, opts...)
		p.mu.Lock()
		p.task = t
		cancel := p.cancel
		p.mu.Unlock()
		if cancel {
			t.Cancel()
		}
		finish := func(*fut) {
			v, err := t.Result()
			p.value, p.err = v, err
			close(p.done)
		}
		if t.Done() {
			finish(nil)
			return
		}
		t.fut.add(&waiter{cb: finish})
	})
	if err != nil {
		p.err = err
		close(p.done)
	}
	return p
}

// Done returns a channel that is closed when the task has finished.
func (p *Promise[T]) Done() <-chan struct{} { return p.done }

// Wait blocks the calling goroutine until the task has finished, or ctx is
// done, and returns the task's result (or ctx's cause). Call it from a
// goroutine that is not a task of the loop, which it would block: tasks use
// Await.
func (p *Promise[T]) Wait(ctx context.Context) (T, error) {
	select {
	case <-p.done:
		return p.value, p.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

// Await suspends the current task, of any loop, until the submitted task has
// finished, and returns its result.
func (p *Promise[T]) Await(ctx context.Context) (T, error) {
	if err := AwaitContext(ctx, doneContext(p.done)); err != nil {
		var zero T
		return zero, err
	}
	return p.value, p.err
}

// Result returns the task's result without waiting: ErrNotDone if it is still
// running.
func (p *Promise[T]) Result() (T, error) {
	select {
	case <-p.done:
		return p.value, p.err
	default:
		var zero T
		return zero, ErrNotDone
	}
}

// Cancel requests the cancellation of the submitted task. It reports false if
// the task has finished.
func (p *Promise[T]) Cancel() bool {
	select {
	case <-p.done:
		return false
	default:
	}
	err := p.loop.CallSoonThreadsafe(func() {
		p.mu.Lock()
		t := p.task
		if t == nil {
			p.cancel = true
		}
		p.mu.Unlock()
		if t != nil {
			t.Cancel()
		}
	})
	return err == nil
}

// doneContext is a context that is done when a channel is closed, for
// AwaitContext.
type doneContext <-chan struct{}

func (doneContext) Deadline() (d time.Time, ok bool) { return }
func (c doneContext) Done() <-chan struct{}          { return c }
func (c doneContext) Err() error {
	select {
	case <-c:
		return context.Canceled
	default:
		return nil
	}
}
func (doneContext) Value(any) any { return nil }

// AwaitContext suspends the current task until other is done, and returns
// nil; or the cause, if ctx is cancelled first. It starts no goroutine until
// other is done.
func AwaitContext(ctx context.Context, other context.Context) error {
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	if other.Err() != nil {
		return nil
	}
	l := t.loop
	f := &fut{loop: l, kind: futOutside}
	stop := context.AfterFunc(other, func() {
		_ = l.CallSoonThreadsafe(func() {
			if f.state == futPending {
				f.complete(nil)
			}
		})
	})
	defer stop()
	wc := classify(ctx, n)
	return f.awaitIn(t, &wc)
}

// Recv receives a value from ch, suspending the current task (not the loop)
// until one is there; ok is false if ch is closed. If ctx is cancelled first,
// Recv returns its cause and receives nothing: a value is never taken from ch
// and dropped.
func Recv[T any](ctx context.Context, ch <-chan T) (v T, ok bool, err error) {
	select { // ready already: no goroutine needed
	case v, ok = <-ch:
		return v, ok, nil
	default:
	}
	err = bridge(ctx, func(stop <-chan struct{}) bool {
		select {
		case v, ok = <-ch:
			return true
		case <-stop:
			return false
		}
	})
	return v, ok, err
}

// Send sends v on ch, suspending the current task (not the loop) until the
// channel takes it. If ctx is cancelled first, Send returns its cause and v is
// not sent.
func Send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	default:
	}
	return bridge(ctx, func(stop <-chan struct{}) bool {
		select {
		case ch <- v:
			return true
		case <-stop:
			return false
		}
	})
}

// bridge runs op on a goroutine and suspends the current task until it
// reports. If ctx is cancelled first, it stops op and waits for its answer: an
// operation that went through in the meantime wins over the cancellation, so
// nothing is lost.
func bridge(ctx context.Context, op func(stop <-chan struct{}) bool) error {
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	l := t.loop
	f := &fut{loop: l, kind: futOutside}
	var done, counted bool
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ok := op(stop)
		_ = l.CallSoonThreadsafe(func() {
			done = ok
			if counted {
				l.inflight.Add(-1)
			}
			if f.state == futPending {
				f.complete(nil)
			}
		})
	}()
	wc := classify(ctx, n)
	err = f.awaitIn(t, &wc)
	if err == nil {
		return nil
	}
	close(stop)
	if err == ErrClosed {
		<-finished // the loop is closing: the answer cannot arrive
		return err
	}
	if f.state == futPending {
		// The goroutine answers at once now: a virtual clock must wait for
		// it rather than jump to the next timer.
		counted = true
		l.inflight.Add(1)
	}
	never := waitCtx{mode: waitNever}
	if f.awaitIn(t, &never) == nil && done {
		return nil
	}
	return err
}
