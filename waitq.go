package aio

import (
	"context"
	"sync/atomic"
)

// A waitq is a FIFO of tasks waiting for something: the waiters of a lock, a
// semaphore, an event, a queue. Whoever wakes a waiter grants it and makes
// its task ready; the task itself takes the entry off the queue.
type waitq struct {
	head, tail *qwaiter
	n          int
}

type qwaiter struct {
	t          *task
	prev, next *qwaiter
	queued     bool
	granted    bool
}

func (q *waitq) push(t *task) *qwaiter {
	l := t.loop
	var w *qwaiter
	if n := len(l.freeQ); n > 0 { // recycled: a wait allocates nothing
		w = l.freeQ[n-1]
		l.freeQ = l.freeQ[:n-1]
		*w = qwaiter{t: t, queued: true}
	} else {
		w = &qwaiter{t: t, queued: true}
	}
	w.prev = q.tail
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
	return w
}

func (q *waitq) remove(w *qwaiter) {
	if !w.queued {
		return
	}
	w.queued = false
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next = nil, nil
	q.n--
}

// wakeFirst completes the first waiter and takes it off the queue; it
// reports whether there was one.
func (q *waitq) wakeFirst() bool {
	w := q.head
	if w == nil {
		return false
	}
	q.remove(w)
	w.granted = true
	w.t.wake()
	return true
}

// wakeAll completes every waiter.
func (q *waitq) wakeAll() {
	for q.wakeFirst() {
	}
}

// wait queues the current task of ctx and suspends it until a wakeFirst or
// wakeAll reaches it (granted, nil error) or ctx is cancelled (its cause).
//
// Cancellation wins over a wake-up the task has not seen yet, as in asyncio: a
// task cancelled while queued leaves the queue at once (see cancelWake), and a
// task woken and then cancelled before it ran returns the cause with granted
// set: the caller must pass what it was handed (a lock, a permit, a
// notification) on to the next waiter, so that nothing is lost or leaked.
func (q *waitq) wait(ctx context.Context, owner *loopRef, kind uint8) (granted bool, err error) {
	t, n, err := enter(ctx)
	if err != nil {
		return false, err
	}
	if !owner.bind(t.loop) {
		return false, ErrOtherLoop
	}
	wc := classify(ctx, n)
	if c := wc.cause(); c != nil {
		return false, c
	}
	w := q.push(t)
	t.w.abortQ, t.w.abortW = q, w
	t.w.waitKind = kind
	closing := false
	for !w.granted && !closing && wc.cause() == nil {
		closing = t.park(&wc)
	}
	t.w.abortQ, t.w.abortW = nil, nil
	q.remove(w)
	granted = w.granted
	w.t = nil
	if len(t.loop.freeQ) < 256 {
		t.loop.freeQ = append(t.loop.freeQ, w)
	}
	if closing {
		return granted, ErrClosed
	}
	return granted, wc.cause() // nil if granted and not cancelled since
}

// A loopRef is the loop a lock, an event or a queue is bound to: the loop of
// the first task that waits on it. Any goroutine may read it, so that a
// method called from the wrong one can hand its call over (see misused).
type loopRef struct{ p atomic.Pointer[Loop] }

// bind binds r to l if it is bound to no loop yet, and reports whether r is
// bound to l.
func (r *loopRef) bind(l *Loop) bool {
	if cur := r.p.Load(); cur != nil {
		return cur == l
	}
	return r.p.CompareAndSwap(nil, l) || r.p.Load() == l
}

// misused reports whether the caller may not touch the object's state: it is
// bound to a loop, and the caller is not that loop's (see Loop.mayUse).
func (r *loopRef) misused() bool { return r.p.Load().misused() }

// handOver makes the call on the object's loop (see Loop.handOver).
func (r *loopRef) handOver(fn func()) { r.p.Load().handOver(fn) }
