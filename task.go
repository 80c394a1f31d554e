package aio

import (
	"context"
	"errors"
	"runtime/debug"
	"strconv"
	"time"
)

// taskState is where a task is in its life.
type taskState uint8

const (
	stReady   taskState = iota // in the ready queue
	stRunning                  // its coroutine is running
	stParked                   // suspended in an Await, waiting to be woken
	stDone                     // finished
)

// task is the part of a Task that does not depend on its result type: what
// the loop schedules.
type task struct {
	fut                   // the task's future; fut.loop is the task's loop
	body        taskBody  // the Task itself
	id          uint32    // numbers the default name
	closeAwaits uint16    // Awaits made while the loop is closing
	phase       taskState // where the task is in its life
	cancel      cancelBits
	w           *worker // the coroutine running the task, once it has started
	inner       *node   // the innermost timeout scope the task runs in, if any
	node        node    // the task's context (node.loop is nil if the task never started)
	off         *offCtx // the context of its calls off the loop, kept between them

	prevAll, nextAll *task // the loop's list of live tasks
}

// cancelBits follow a Cancel of the task, so that a true from Cancel is
// kept: a task that never sees it ends cancelled (see execute).
type cancelBits uint8

const (
	ownCancel  cancelBits = 1 << iota // Cancel cancelled it: node.cause is Cancel's *CancelledError
	cancelSeen                        // an Await returned a cancellation to it (since Cancel)
)

// taskBody is what a *Task[T] gives its task: the function to run.
type taskBody interface {
	AnyTask
	run(ctx context.Context) error
}

// AnyTask is a task of any result type, as CurrentTask and AllTasks return it.
type AnyTask interface {
	Waitable
	// Name returns the task's name: the one given with WithName, else Task-N.
	Name() string
	// Cancelled reports whether the task ended by cancellation.
	Cancelled() bool
	// Err returns the task's error: nil while it runs or if it succeeded.
	Err() error
	// CancelWithMessage requests the task's cancellation with a message.
	CancelWithMessage(msg string) bool
	// Context returns the task's context.
	Context() context.Context
}

// Task is a function running as a coroutine on a loop, concurrently with the
// loop's other tasks (asyncio's Task). It is also a Future of the function's
// result: Await it from another task, or register OnDone callbacks.
//
// A task runs on its own stack: Await and the functions built on it (Sleep,
// Gather, I/O) may be called at any depth of ordinary calls inside it. It
// gives the loop back only at those calls; code between them runs without
// interruption from the loop's other tasks.
//
// A task's methods belong to its loop's goroutine.
type Task[T any] struct {
	task
	value T
	fn    func(context.Context) (T, error)
}

func (t *Task[T]) run(ctx context.Context) error {
	v, err := t.fn(ctx)
	t.value = v
	return err
}

func (t *Task[T]) base() *fut { return &t.fut }

// Loop returns the loop the task runs on.
func (t *Task[T]) Loop() *Loop { return t.loop }

// Done reports whether the task has finished.
func (t *Task[T]) Done() bool { return t.fut.state != futPending }

// Cancelled reports whether the task ended by cancellation: its function
// returned an error that matches context.Canceled, or Cancel was never seen
// by it (see Cancel).
func (t *Task[T]) Cancelled() bool { return t.fut.state == futCancelled }

// Result returns what the task's function returned; ErrNotDone while it runs.
func (t *Task[T]) Result() (T, error) { return result(&t.fut, t.value) }

// Err returns the task's error: nil while it runs or if it succeeded.
func (t *Task[T]) Err() error { return t.fut.error() }

// Await suspends the current task until t has finished and returns what its
// function returned. If ctx is cancelled first, Await returns the cause and t
// goes on running: awaiting a task never cancels it.
func (t *Task[T]) Await(ctx context.Context) (T, error) {
	if err := t.fut.await(ctx); err != nil {
		var zero T
		return zero, err
	}
	return t.value, t.fut.err
}

// OnDone schedules fn to run on the loop once the task has finished; see
// [Future.OnDone].
func (t *Task[T]) OnDone(fn func()) (stop func() bool) { return t.fut.onDone(fn) }

// Name returns the task's name: the one given with WithName, else Task-N.
func (t *task) Name() string {
	if x := t.node.ext; x != nil && x.name != "" {
		return x.name
	}
	if t.id == 0 {
		return ""
	}
	return "Task-" + strconv.FormatUint(uint64(t.id), 10)
}

// Context returns the task's context: the context its function receives.
func (t *task) Context() context.Context {
	if t.node.loop == nil {
		return nil
	}
	return &t.node
}

// Cancel requests the task's cancellation (asyncio's Task.cancel): its context
// is cancelled with a [CancelledError] as the cause, and the Await the task is
// suspended in returns that error at once, even if what it awaited completed
// meanwhile (the result stays there). The task decides what to do with it;
// usually it returns it, and the task ends cancelled. A task that never sees
// it (no Await returns it, ctx.Err is not read) ends cancelled even if it
// returns a value. A task cancelled before it started never runs. Cancel
// reports false if the task is already done.
func (t *Task[T]) Cancel() bool { return t.CancelWithMessage("") }

// CancelWithMessage is Cancel with a message carried by the CancelledError.
// Cancelling a task that failed already counts as retrieving its error.
func (t *Task[T]) CancelWithMessage(msg string) bool {
	if l := t.node.loop; l.misused() {
		l.handOver(func() { t.CancelWithMessage(msg) })
		return true
	}
	if t.phase == stDone {
		t.fut.markRetrieved()
		return false
	}
	if t.node.loop != nil {
		if t.node.cause == nil {
			t.cancel = ownCancel
		}
		t.node.cancel(t.loop.cancelErr(msg)) // once cancelled, reaches only Cleanup contexts
	}
	return true
}

// A TaskOption configures a task made by Spawn or Go.
type TaskOption func(*task)

// WithName names the task (asyncio's name=); tasks are called Task-N otherwise.
func WithName(name string) TaskOption { return func(t *task) { t.node.extra().name = name } }

// Spawn starts fn as a new task on the loop of ctx and returns at once
// (asyncio's create_task); the task first runs on the loop's next pass.
//
// The task's context is derived from ctx: it carries ctx's values, and
// cancelling ctx (or the task that owns it) cancels the new task too. To start
// a task that outlives the cancellation of ctx, pass context.WithoutCancel(ctx).
// A task is not cancelled when the task that spawned it returns.
//
// Spawn must be called on the loop's goroutine (from a task or a callback);
// other goroutines go through [Loop.CallSoonThreadsafe]. If ctx does not come from a loop, or the loop
// is closed, the task is returned already failed with ErrNoTask or ErrClosed.
func Spawn[T any](ctx context.Context, fn func(context.Context) (T, error), opts ...TaskOption) *Task[T] {
	t := newTask(fn)
	n := nodeOf(ctx)
	if n == nil {
		t.task.phase = stDone
		t.fut.complete(ErrNoTask)
		return t
	}
	n.loop.start(&t.task, ctx, n, opts)
	return t
}

// Go starts fn as a new task, as Spawn does, for functions that return only an
// error.
func Go(ctx context.Context, fn func(context.Context) error, opts ...TaskOption) *Task[struct{}] {
	return Spawn(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) }, opts...)
}

func newTask[T any](fn func(context.Context) (T, error)) *Task[T] {
	t := &Task[T]{fn: fn}
	t.task.body = t
	t.fut.isTask = true
	return t
}

// start schedules t on l with a context derived from parent.
func (l *Loop) start(t *task, parent context.Context, pn *node, opts []TaskOption) {
	if !l.mayUse() { // before touching the loop, which the task then never knows
		t.phase = stDone
		t.complete(ErrWrongGoroutine)
		return
	}
	t.loop = l
	l.nextID++
	t.id = uint32(l.nextID)
	for _, o := range opts {
		o(t)
	}
	if l.closing || l.closed {
		t.phase = stDone
		t.complete(ErrClosed)
		return
	}
	l.initNode(&t.node, parent, pn, t)
	l.addTask(t)
	l.counters.spawned.Add(1)
	if l.debug != nil {
		l.debug.created[t] = callerOutside()
		l.debug.stats[t] = &taskStats{born: time.Now()}
	}
	if l.debug != nil || l.observer != nil || traceOn() {
		l.traceStart(t)
	}
	t.phase = stReady
	l.ready.push(readyItem{t: t})
}

// CurrentTask returns the task running on the loop of ctx (asyncio's
// current_task), or nil.
func CurrentTask(ctx context.Context) AnyTask {
	if l := LoopOf(ctx); l != nil && l.current != nil {
		return l.current.body
	}
	return nil
}

// AllTasks returns the tasks of the loop of ctx that are not done yet
// (asyncio's all_tasks).
func AllTasks(ctx context.Context) []AnyTask {
	l := LoopOf(ctx)
	if l == nil {
		return nil
	}
	out := make([]AnyTask, 0, l.ntasks)
	for t := l.tasks; t != nil; t = t.nextAll {
		out = append(out, t.body)
	}
	return out
}

// errUnwind unwinds a task that keeps awaiting while its loop closes.
var errUnwind = errors.New("aio: task kept awaiting while its loop was closing")

// ErrIgnoredCancellation is the error of a task that Run unwound because it
// kept awaiting after Run had cancelled it (maxAwaitsAfterClose times): Run
// reports it and returns, where it would have waited for ever.
var ErrIgnoredCancellation = errors.New("aio: task ignored its cancellation at aio.Run's shutdown and was unwound")

// maxAwaitsAfterClose is how many Awaits a task may make, each returning
// ErrClosed, while its loop closes, before it is unwound by a panic.
const maxAwaitsAfterClose = 1000

// execute runs the task's function on its coroutine and finishes the task.
func (t *task) execute() {
	var err error
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r == errUnwind {
				err = ErrClosed
			} else if r == ErrIgnoredCancellation {
				err = ErrIgnoredCancellation
			} else if r != nil {
				err = &PanicError{Value: r, Stack: debug.Stack()}
			} else {
				// runtime.Goexit: the coroutine ends, and iter.Pull re-raises
				// the Goexit on the goroutine running the loop. The task is
				// finished below, so Close never resumes its dead worker.
				err = ErrGoexit
			}
		}
		t.finish(err)
	}()
	if c := t.node.cause; c != nil {
		err = c // cancelled before it started: the function never runs
	} else {
		err = t.body.run(&t.node)
		if err == nil && t.cancel == ownCancel {
			// Cancel returned true, and no Await told the task: it ends
			// cancelled, as asyncio's does (its value stays unread).
			err = t.node.cause
		}
	}
	returned = true
}

// finish completes the task with err (its value is stored already).
// The task counts as cancelled if err is a cancellation, or is the cause its
// context was cancelled with (a timeout's context.DeadlineExceeded, say).
func (t *task) finish(err error) {
	t.phase = stDone
	if t.loop.stepTask.Load() == t {
		t.loop.stepTask.Store(nil) // so that a finished task can be collected
	}
	t.loop.removeTask(t)
	if t.off != nil {
		t.off.cancel(nil)
		t.off = nil
	}
	t.node.finish()
	cancelled := isCancellation(err) || (err != nil && t.node.cause != nil && errors.Is(err, t.node.cause))
	t.loop.counters.counted(err, cancelled)
	t.settle(err, cancelled)
	if d := t.loop.debug; d != nil {
		delete(d.created, t)
		delete(d.waiting, t)
		delete(d.stats, t)
	}
	if t.loop.traced != nil {
		t.loop.stepEnds(t)
		t.loop.traceEnd(t)
	}
}

// wake makes a suspended task ready to run.
func (t *task) wake() {
	if t.phase == stParked {
		t.phase = stReady
		t.loop.ready.push(readyItem{t: t})
	}
}

// cancelWake wakes a task whose wait was cancelled. If it waits in a queue
// (for a lock, a permit, an item), it leaves the queue now, so that what is
// handed out next goes to a waiter that still wants it.
func (t *task) cancelWake() {
	if t.phase != stParked {
		return
	}
	if w := t.w; w.abortQ != nil {
		w.abortQ.remove(w.abortW)
	}
	t.wake()
}

// enter finds the task running now on the loop of ctx.
func enter(ctx context.Context) (*task, *node, error) {
	n := nodeOf(ctx)
	if n == nil {
		return nil, nil, ErrNoTask
	}
	l := n.loop
	if !l.mayUse() { // before reading the loop's state
		return nil, nil, ErrWrongGoroutine
	}
	t := l.current
	switch {
	case t == nil && l.closed:
		return nil, nil, ErrClosed
	case t == nil:
		return nil, nil, ErrNoTask
	case l.closing:
		t.closeAwaits++
		if t.closeAwaits > maxAwaitsAfterClose {
			panic(errUnwind)
		}
		return nil, nil, ErrClosed
	case l.draining && t.node.cause != nil:
		// Run's shutdown cancelled t; each Await fails at once, and a task
		// that ignores that would keep Run waiting for ever.
		t.closeAwaits++
		if t.closeAwaits > maxAwaitsAfterClose {
			panic(ErrIgnoredCancellation)
		}
	}
	return t, n, nil
}

// park suspends the task until something wakes it: a future it registered
// with, a timer, or the cancellation of wc. It reports whether the loop is
// closing.
func (t *task) park(wc *waitCtx) (closing bool) {
	var stop func() bool
	switch wc.mode {
	case waitNode:
		if wc.n.cause == nil {
			wc.n.addWaiter(t.w)
		}
	case waitForeign:
		// Cancellations made on the loop are seen when the loop next idles
		// (see Loop.checkForeign); AfterFunc hears those made elsewhere.
		l := t.loop
		gen := l.addForeign(t, wc.ctx)
		stop = context.AfterFunc(wc.ctx, func() {
			_ = l.CallSoonThreadsafe(func() {
				if w := t.w; w != nil && w.foreignIdx >= 0 && l.foreign[w.foreignIdx].gen == gen {
					t.cancelWake() // still parked with that context
				}
			})
		})
	}
	if d := t.loop.debug; d != nil {
		d.waiting[t] = callerOutside()
	}
	t.phase = stParked
	l := t.loop
	if l.traced != nil {
		l.stepEnds(t)
	}
	ok := t.w.yield(struct{}{})
	t.phase = stRunning
	if l.traced != nil {
		l.stepBegins(t)
	}
	if w := t.w; w.parkNode != nil {
		w.parkNode.removeWaiter(w)
	}
	if stop != nil {
		stop()
		t.loop.removeForeign(t)
	}
	return !ok || t.loop.closing
}
