package aio

import (
	"context"
	"io"
	"iter"
)

// Asynchronous iteration. An async generator is a function that takes a
// context and returns an iter.Seq2[T, error] whose body awaits; Generate
// writes one whose errors are returned rather than yielded. Range over it
// inside a task: breaking out of the loop runs the generator's deferred
// cleanup (the guarantee of aclose). iter.Pull2 works too, from inside a task,
// as aiter/anext do.
//
// A Stream is such a generator not yet given its context: Pull and Merge run
// it in a task of their own, with a context they can cancel, so that a
// consumer can give up waiting (a timeout) without losing an element, and so
// that several generators can be merged.
type Stream[T any] func(ctx context.Context) iter.Seq2[T, error]

// Generate returns an async generator whose body yields values and returns
// its error (an async def with yield): a non-nil error ends the iteration as
// its last element, (zero, err). Break out of the loop and yield returns
// false: the body returns, running its deferred cleanup.
//
//	func ticker(ctx context.Context, upto int) iter.Seq2[int, error] {
//		return aio.Generate(func(yield func(int) bool) error {
//			for i := range upto {
//				if err := aio.Sleep(ctx, time.Second); err != nil {
//					return err
//				}
//				if !yield(i) {
//					return nil
//				}
//			}
//			return nil
//		})
//	}
func Generate[T any](body func(yield func(T) bool) error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		more := true
		err := body(func(v T) bool {
			more = more && yield(v, nil)
			return more
		})
		if err != nil && more {
			var zero T
			yield(zero, err)
		}
	}
}

type element[T any] struct {
	v   T
	err error
}

// Puller takes the elements of a stream one at a time (aiter and anext). The
// stream runs in a task of its own and computes an element only when Next
// asks for it. Its methods belong to the loop's goroutine.
type Puller[T any] struct {
	task   *Task[struct{}]
	demand *Semaphore
	items  *Queue[element[T]]
	asked  bool // a demand is outstanding
}

// Pull starts s in a new task, spawned with ctx, and returns a Puller over
// it. Close it when done.
func Pull[T any](ctx context.Context, s Stream[T]) *Puller[T] {
	p := &Puller[T]{demand: NewSemaphore(0), items: NewQueue[element[T]](1)}
	p.task = Go(ctx, func(ctx context.Context) error {
		defer p.items.Shutdown(false) // the end of the stream
		if p.demand.Acquire(ctx) != nil {
			return nil
		}
		for v, err := range s(ctx) {
			if p.items.Put(ctx, element[T]{v, err}) != nil || p.demand.Acquire(ctx) != nil {
				return nil // closed: stop the generator, which runs its cleanup
			}
		}
		return nil
	})
	return p
}

// Next returns the stream's next element, or io.EOF once it has ended. If
// ctx is cancelled first (a timeout, say), Next returns the cause, and the
// element the stream goes on computing is kept for the next call.
func (p *Puller[T]) Next(ctx context.Context) (T, error) {
	if !p.asked {
		p.asked = true
		p.demand.Release()
	}
	e, err := p.items.Get(ctx)
	if err != nil {
		var zero T
		if err == ErrQueueShutDown {
			return zero, io.EOF
		}
		return zero, err
	}
	p.asked = false
	return e.v, e.err
}

// Close stops the stream, and waits until its task, and so its cleanup, has
// finished.
func (p *Puller[T]) Close(ctx context.Context) error {
	p.task.Cancel()
	p.items.Shutdown(true)
	_, err := p.task.Await(context.WithoutCancel(ctx))
	return err
}

// Merge returns an async iterator over the elements of several streams, in
// the order they come. Each stream runs in a task of its own, spawned with
// ctx; the iterator ends when all of them have. Breaking out of the loop, or
// ctx being cancelled (the iterator then yields the cause once), cancels the
// streams and waits for their cleanup before the loop goes on. It returns a
// single-use iterator.
func Merge[T any](ctx context.Context, streams ...Stream[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		items := NewQueue[element[T]](len(streams))
		tasks := make([]*Task[struct{}], len(streams))
		running := len(streams)
		for i, s := range streams {
			tasks[i] = Go(ctx, func(ctx context.Context) error {
				defer func() {
					if running--; running == 0 {
						items.Shutdown(false)
					}
				}()
				for v, err := range s(ctx) {
					if items.Put(ctx, element[T]{v, err}) != nil {
						return nil
					}
				}
				return nil
			})
		}
		defer func() {
			for _, t := range tasks {
				t.Cancel()
			}
			items.Shutdown(true)
			gather(context.WithoutCancel(ctx), tasks, false)
		}()
		if len(streams) == 0 {
			return
		}
		for {
			e, err := items.Get(ctx)
			switch {
			case err == ErrQueueShutDown:
				return
			case err != nil:
				var zero T
				yield(zero, err)
				return
			}
			if !yield(e.v, e.err) {
				return
			}
		}
	}
}
