package aio

import (
	"context"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// futState is the state of a future.
type futState uint8

const (
	futPending futState = iota
	futDone
	futCancelled
)

// fut is the part of a future that does not depend on its value's type.
type fut struct {
	loop        *Loop
	state       futState
	retrieved   bool
	isTask      bool  // the fut is the first field of a task
	shared      bool  // first is a shared waiter, not linked (see addShared)
	kind        uint8 // futTasks, futThread: what it stands for, for observers
	err         error
	first, last *waiter
	note        *failNote // set while a failure is unretrieved
}

// Kinds of futures that stand for something an observer names.
const (
	futTasks   uint8 = iota + 1 // Gather's, Wait's, AsCompleted's
	futThread                   // ToThread's, ToGoroutine's
	futOutside                  // Recv's, Send's, AwaitContext's: an event of another goroutine
)

// A waiter is an entry in a future's list of things to do on completion:
// wake a task, or run a callback.
type waiter struct {
	prev, next *waiter
	f          *fut
	t          *task      // wake this task, or
	cb         func(*fut) // call this at once
}

// addShared registers w, a callback many futures share (a Gather's, a
// TaskGroup's), without a node per future: a future with no other waiter
// points at w directly. The shared waiter cannot be unlinked by pointer.
func (f *fut) addShared(w *waiter) {
	if f.first == nil {
		f.first, f.last, f.shared = w, w, true
		return
	}
	f.add(&waiter{cb: w.cb})
}

// unshare turns a shared head into a node of the future's own.
func (f *fut) unshare() {
	s := f.first
	f.first, f.last, f.shared = nil, nil, false
	f.add(&waiter{cb: s.cb})
}

func (f *fut) add(w *waiter) {
	if f.shared {
		f.unshare()
	}
	w.f = f
	w.prev, w.next = f.last, nil
	if f.last != nil {
		f.last.next = w
	} else {
		f.first = w
	}
	f.last = w
}

func (f *fut) unlink(w *waiter) {
	if f.shared {
		if f.first == w {
			f.first, f.last, f.shared = nil, nil, false
		}
		return
	}
	if w.f != f {
		return
	}
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		f.first = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		f.last = w.prev
	}
	w.prev, w.next, w.f = nil, nil, nil
}

// complete settles the future with err (nil for a result); it counts as
// cancelled if err matches context.Canceled.
func (f *fut) complete(err error) {
	f.settle(err, isCancellation(err))
}

// settle settles the future and runs its waiters. The caller has stored the
// value. It runs on the loop's goroutine.
func (f *fut) settle(err error, cancelled bool) {
	f.state = futDone
	if cancelled {
		f.state = futCancelled
	}
	f.err = err
	if f.shared {
		w := f.first
		f.first, f.last, f.shared = nil, nil, false
		w.cb(f)
	}
	for w := f.first; w != nil; w = f.first {
		f.unlink(w)
		switch {
		case w.t != nil:
			w.t.wake()
		default:
			w.cb(f)
		}
	}
	if err != nil && !f.retrieved && f.state == futDone && f.loop != nil {
		f.loop.trackFailure(f)
	}
}

// markRetrieved records that someone has seen the outcome, so that a failure
// is not reported as never retrieved.
func (f *fut) markRetrieved() {
	f.retrieved = true
	if f.note != nil {
		f.loop.untrackFailure(f)
	}
}

// task returns the task whose future f is, or nil.
func (f *fut) task() *task {
	if !f.isTask {
		return nil
	}
	return (*task)(unsafe.Pointer(f)) // fut is task's first field
}

func (f *fut) isDone() bool { return f.state != futPending }

// await suspends the current task until f completes or ctx is cancelled. It
// returns nil once f is done. A cancellation that arrives after f completed
// but before the task ran again wins, as in asyncio: the result stays in f.
func (f *fut) await(ctx context.Context) error {
	if f.state != futPending {
		f.markRetrieved()
		return nil
	}
	t, n, err := enter(ctx)
	if err != nil {
		return err
	}
	if f.loop != t.loop {
		return ErrOtherLoop
	}
	if f == &t.fut {
		return errAwaitSelf
	}
	wc := classify(ctx, n)
	return f.awaitIn(t, &wc)
}

// awaitIn is await for the running task t with a classified context.
func (f *fut) awaitIn(t *task, wc *waitCtx) error {
	w := &t.w.wait
	w.t = t
	t.w.waitKind = waitFuture
	for f.state == futPending {
		if c := wc.cause(); c != nil {
			return c
		}
		f.add(w) // while linked, w.f is what the task awaits (see describe)
		closing := t.park(wc)
		f.unlink(w)
		if closing {
			return ErrClosed
		}
		if c := wc.cause(); c != nil {
			return c
		}
	}
	f.markRetrieved()
	return nil
}

// failNote remembers a failure nobody has retrieved yet, for the report that
// runs when its future is garbage-collected or its loop closes.
type failNote struct {
	loop      *Loop
	what      string // Task or Future
	task      string // the task's name
	createdAt string // where the task was spawned, in debug mode
	err       error
	reported  atomic.Bool
	cleanup   runtime.Cleanup
}

func (n *failNote) report() {
	if n.reported.CompareAndSwap(false, true) {
		n.loop.reportException(ExceptionContext{Message: n.what + " exception was never retrieved", Err: n.err, Task: n.task, CreatedAt: n.createdAt})
	}
}

// A Waitable is a future or a task of any result type, as Wait and
// AsCompleted take them.
type Waitable interface {
	// Done reports whether the future has completed.
	Done() bool
	// Cancel cancels the future, or requests the cancellation of the task.
	Cancel() bool
	base() *fut
}

// An Awaitable is a future or a task whose result has type T.
type Awaitable[T any] interface {
	Waitable
	// Await suspends the current task until the result is ready.
	Await(ctx context.Context) (T, error)
	// Result returns the result of a completed future.
	Result() (T, error)
}

// Future is the result of an operation that will complete later, set by
// whoever holds it with SetResult or SetError and awaited by tasks (asyncio's
// Future). It belongs to the loop it was made on: call its methods from that
// loop's goroutine (from a task or a callback of that loop); other goroutines
// go through [Loop.CallSoonThreadsafe].
type Future[T any] struct {
	fut
	value T
}

// NewFuture returns a pending future on the loop of ctx. It panics if ctx does
// not come from a loop.
func NewFuture[T any](ctx context.Context) *Future[T] {
	n := nodeOf(ctx)
	if n == nil {
		panic("aio: NewFuture with a context that does not come from a loop")
	}
	return &Future[T]{fut: fut{loop: n.loop}}
}

func (f *Future[T]) base() *fut { return &f.fut }

// Loop returns the loop the future belongs to.
func (f *Future[T]) Loop() *Loop { return f.loop }

// Done reports whether the future has a result, an error or was cancelled.
func (f *Future[T]) Done() bool { return f.state != futPending }

// Cancelled reports whether the future was cancelled.
func (f *Future[T]) Cancelled() bool { return f.state == futCancelled }

// SetResult completes the future with v. It reports false, and changes
// nothing, if the future was already done.
func (f *Future[T]) SetResult(v T) bool {
	if f.loop.misused() {
		f.loop.handOver(func() { f.SetResult(v) })
		return true
	}
	if f.state != futPending {
		return false
	}
	f.value = v
	f.complete(nil)
	return true
}

// SetError completes the future with err, which must not be nil. It reports
// false, and changes nothing, if the future was already done.
func (f *Future[T]) SetError(err error) bool {
	if err == nil {
		panic("aio: Future.SetError(nil)")
	}
	if f.loop.misused() {
		f.loop.handOver(func() { f.SetError(err) })
		return true
	}
	if f.state != futPending {
		return false
	}
	f.complete(err)
	return true
}

// Cancel cancels the future and schedules its callbacks. It reports false if
// the future was already done; a failure it holds then counts as retrieved,
// as in asyncio (cancelling says nobody will look at it).
func (f *Future[T]) Cancel() bool { return f.CancelWithMessage("") }

// CancelWithMessage cancels the future with a [CancelledError] carrying msg.
func (f *Future[T]) CancelWithMessage(msg string) bool {
	if f.loop.misused() {
		f.loop.handOver(func() { f.CancelWithMessage(msg) })
		return true
	}
	if f.state != futPending {
		f.markRetrieved()
		return false
	}
	f.complete(&CancelledError{Msg: msg})
	return true
}

// Result returns the future's value and error; ErrNotDone while it is pending.
// A cancelled future returns its CancelledError.
func (f *Future[T]) Result() (T, error) { return result(&f.fut, f.value) }

func result[T any](f *fut, v T) (T, error) {
	if f.state == futPending {
		var zero T
		return zero, ErrNotDone
	}
	f.markRetrieved()
	return v, f.err
}

// Err returns the future's error: nil while it is pending or if it succeeded.
func (f *Future[T]) Err() error { return f.fut.error() }

func (f *fut) error() error {
	if f.state == futPending {
		return nil
	}
	f.markRetrieved()
	return f.err
}

// Await suspends the current task until the future is done and returns its
// result. If ctx is cancelled first, Await returns the cancellation's cause and
// the future is left as it is: awaiting never cancels what it awaits (cancel
// it explicitly, or let the context tree do it).
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	if err := f.await(ctx); err != nil {
		var zero T
		return zero, err
	}
	return f.value, f.err
}

// OnDone schedules fn to run on the loop, through CallSoon, once the future is
// done (at once if it is done already). The returned stop removes fn if it has
// not been scheduled yet and reports whether it did.
func (f *Future[T]) OnDone(fn func()) (stop func() bool) {
	return f.fut.onDone(fn)
}

func (f *fut) onDone(fn func()) (stop func() bool) {
	if f.state != futPending {
		f.loop.CallSoon(fn)
		return func() bool { return false }
	}
	l := f.loop
	w := &waiter{cb: func(*fut) { l.CallSoon(fn) }}
	f.add(w)
	return func() bool {
		if w.f == nil {
			return false
		}
		f.unlink(w)
		return true
	}
}
