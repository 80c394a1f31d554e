package aio

import (
	"context"
	"errors"
	"iter"
)

// Errors of the queues, as asyncio's QueueEmpty, QueueFull and QueueShutDown.
var (
	ErrQueueEmpty    = errors.New("aio: queue is empty")
	ErrQueueFull     = errors.New("aio: queue is full")
	ErrQueueShutDown = errors.New("aio: queue is shut down")
)

// Queue is a queue of items between the tasks of one loop (asyncio.Queue,
// PriorityQueue, LifoQueue). Put waits while the queue is full, Get while it
// is empty, each in FIFO order of the waiting tasks; a waiter whose context is
// cancelled gives up without taking or losing an item. It binds to the loop of
// the first task that waits on it. Make one with NewQueue, NewLifoQueue or
// NewPriorityQueue.
type Queue[T any] struct {
	loop       loopRef
	items      container[T]
	maxsize    int
	getters    waitq
	putters    waitq
	unfinished int
	finished   Event
	shutdown   bool
}

// container is the order of a queue's items.
type container[T any] interface {
	push(T)
	pop() T
	len() int
}

// NewQueue returns a first-in first-out queue that holds at most maxsize
// items; maxsize <= 0 means no limit.
func NewQueue[T any](maxsize int) *Queue[T] {
	return newQueue[T](maxsize, &fifo[T]{})
}

// NewLifoQueue returns a last-in first-out queue (a stack) that holds at most
// maxsize items; maxsize <= 0 means no limit.
func NewLifoQueue[T any](maxsize int) *Queue[T] {
	return newQueue[T](maxsize, &lifo[T]{})
}

// NewPriorityQueue returns a queue whose Get returns the least item first by
// less (a min-heap; ties in no particular order), holding at most maxsize
// items; maxsize <= 0 means no limit.
func NewPriorityQueue[T any](maxsize int, less func(a, b T) bool) *Queue[T] {
	if less == nil {
		panic("aio: NewPriorityQueue with a nil less function")
	}
	return newQueue[T](maxsize, &prio[T]{less: less})
}

func newQueue[T any](maxsize int, c container[T]) *Queue[T] {
	q := &Queue[T]{items: c, maxsize: maxsize}
	q.finished.Set()
	return q
}

// enter binds q to the loop of ctx, and checks that the caller may use it.
func (q *Queue[T]) enter(ctx context.Context) error {
	n := nodeOf(ctx)
	switch {
	case n == nil:
		return ErrNoTask
	case !q.loop.bind(n.loop):
		return ErrOtherLoop
	case n.loop.misused():
		return ErrWrongGoroutine
	}
	return nil
}

// Len returns the number of items in the queue.
func (q *Queue[T]) Len() int { return q.items.len() }

// Cap returns the queue's maxsize; 0 means no limit.
func (q *Queue[T]) Cap() int { return max(q.maxsize, 0) }

// Empty reports whether the queue holds no item.
func (q *Queue[T]) Empty() bool { return q.items.len() == 0 }

// Full reports whether the queue holds maxsize items.
func (q *Queue[T]) Full() bool { return q.maxsize > 0 && q.items.len() >= q.maxsize }

// Put puts v in the queue, waiting while it is full. It returns
// ErrQueueShutDown once the queue is shut down, and the cause if ctx is
// cancelled first (v is then not in the queue). ctx must be a task's: with
// any other (a ToThread function's, say) Put returns ErrNoTask and v is not
// in the queue.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	if err := q.enter(ctx); err != nil {
		return err
	}
	for q.Full() {
		if q.shutdown {
			return ErrQueueShutDown
		}
		if granted, err := q.putters.wait(ctx, &q.loop, waitQueue); err != nil {
			if granted && !q.Full() {
				q.putters.wakeFirst() // pass the free slot on
			}
			return err
		}
	}
	return q.TryPut(v)
}

// TryPut puts v in the queue if there is room: ErrQueueFull otherwise, and
// ErrQueueShutDown once the queue is shut down (asyncio's put_nowait).
func (q *Queue[T]) TryPut(v T) error {
	switch {
	case q.loop.misused():
		return ErrWrongGoroutine
	case q.shutdown:
		return ErrQueueShutDown
	case q.Full():
		return ErrQueueFull
	}
	q.items.push(v)
	q.unfinished++
	q.finished.Clear()
	q.getters.wakeFirst()
	return nil
}

// Get takes an item out of the queue, waiting while it is empty. Once the
// queue is shut down it returns ErrQueueShutDown when the queue is empty (at
// once after an immediate shutdown). It returns the cause if ctx is cancelled
// first; no item is then taken.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	if err := q.enter(ctx); err != nil {
		var zero T
		return zero, err
	}
	for q.Empty() {
		if q.shutdown {
			var zero T
			return zero, ErrQueueShutDown
		}
		if granted, err := q.getters.wait(ctx, &q.loop, waitQueue); err != nil {
			if granted && !q.Empty() {
				q.getters.wakeFirst() // pass the item on
			}
			var zero T
			return zero, err
		}
	}
	return q.TryGet()
}

// TryGet takes an item if there is one: ErrQueueEmpty otherwise, or
// ErrQueueShutDown if the queue is also shut down (asyncio's get_nowait).
func (q *Queue[T]) TryGet() (T, error) {
	if q.loop.misused() {
		var zero T
		return zero, ErrWrongGoroutine
	}
	if q.Empty() {
		var zero T
		if q.shutdown {
			return zero, ErrQueueShutDown
		}
		return zero, ErrQueueEmpty
	}
	v := q.items.pop()
	q.putters.wakeFirst()
	return v, nil
}

// All returns an iterator that takes the queue's items as they come, for a
// range loop in a task (the consumer's loop, Trio's async for over a memory
// channel). Each item counts as done (TaskDone) once the loop body has run
// for it, so Join sees the work finished. The loop ends when the queue is
// shut down and empty; if ctx is cancelled first, it yields the cause once
// and stops, and no item is lost.
//
//	for job, err := range jobs.All(ctx) {
//		if err != nil {
//			return err
//		}
//		handle(job)
//	}
func (q *Queue[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := q.Get(ctx)
			if err == ErrQueueShutDown {
				return
			}
			if err != nil {
				yield(v, err)
				return
			}
			more := yield(v, nil)
			q.TaskDone()
			if !more {
				return
			}
		}
	}
}

// TaskDone tells the queue that the work on an item taken with Get is done;
// Join returns once every item put has been marked so. It panics if called
// more times than items were put.
func (q *Queue[T]) TaskDone() {
	if q.loop.misused() {
		q.loop.handOver(q.TaskDone)
		return
	}
	if q.unfinished <= 0 {
		panic("aio: Queue.TaskDone called too many times")
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.finished.Set()
	}
}

// Join waits until every item put in the queue has been taken and marked done
// with TaskDone.
func (q *Queue[T]) Join(ctx context.Context) error {
	if q.unfinished == 0 {
		return nil
	}
	return q.finished.Wait(ctx)
}

// Shutdown shuts the queue down (asyncio's Queue.shutdown, Python 3.13): Put
// returns ErrQueueShutDown from now on, and Get does once the queue is empty.
// With immediate, the items left are dropped (counted as done for Join) and
// every waiting Get returns ErrQueueShutDown at once. Tasks waiting in Put or
// Get are woken to see it.
func (q *Queue[T]) Shutdown(immediate bool) {
	if q.loop.misused() {
		q.loop.handOver(func() { q.Shutdown(immediate) })
		return
	}
	q.shutdown = true
	if immediate {
		for !q.Empty() {
			q.items.pop()
			if q.unfinished > 0 {
				q.unfinished--
			}
		}
		if q.unfinished == 0 {
			q.finished.Set()
		}
	}
	q.getters.wakeAll()
	q.putters.wakeAll()
}

// fifo is a ring buffer.
type fifo[T any] struct {
	buf        []T
	head, size int
}

func (f *fifo[T]) len() int { return f.size }

func (f *fifo[T]) push(v T) {
	if f.size == len(f.buf) {
		buf := make([]T, max(8, 2*len(f.buf)))
		for i := range f.size {
			buf[i] = f.buf[(f.head+i)%len(f.buf)]
		}
		f.buf, f.head = buf, 0
	}
	f.buf[(f.head+f.size)%len(f.buf)] = v
	f.size++
}

func (f *fifo[T]) pop() T {
	var zero T
	v := f.buf[f.head]
	f.buf[f.head] = zero
	f.head = (f.head + 1) % len(f.buf)
	f.size--
	return v
}

// lifo is a stack.
type lifo[T any] struct{ s []T }

func (l *lifo[T]) len() int { return len(l.s) }
func (l *lifo[T]) push(v T) { l.s = append(l.s, v) }

func (l *lifo[T]) pop() T {
	var zero T
	n := len(l.s) - 1
	v := l.s[n]
	l.s[n] = zero
	l.s = l.s[:n]
	return v
}

// prio is a binary min-heap ordered by less.
type prio[T any] struct {
	s    []T
	less func(a, b T) bool
}

func (p *prio[T]) len() int { return len(p.s) }

func (p *prio[T]) push(v T) {
	p.s = append(p.s, v)
	for j := len(p.s) - 1; j > 0; {
		i := (j - 1) / 2
		if !p.less(p.s[j], p.s[i]) {
			break
		}
		p.s[i], p.s[j] = p.s[j], p.s[i]
		j = i
	}
}

func (p *prio[T]) pop() T {
	var zero T
	n := len(p.s) - 1
	v := p.s[0]
	p.s[0] = p.s[n]
	p.s[n] = zero
	p.s = p.s[:n]
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && p.less(p.s[r], p.s[j]) {
			j = r
		}
		if !p.less(p.s[j], p.s[i]) {
			break
		}
		p.s[i], p.s[j] = p.s[j], p.s[i]
		i = j
	}
	return v
}
