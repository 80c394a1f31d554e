package aio

import (
	"iter"
	"time"

	"github.com/aio-go/aio/internal/goid"
)

// InTask reports whether the caller runs in a task of l: on the goroutine of
// one of its workers, which runs only while the loop has switched to it.
// Loop objects whose methods take no context (aionet.Conn's Read and Write)
// check it before they touch the loop, and return ErrWrongGoroutine
// otherwise; any goroutine may call it. Code running in a coroutine that a
// task pulls with iter.Pull is not on a worker's goroutine, and is not in a
// task by this measure.
func (l *Loop) InTask() bool {
	return l.workerG.Load() == goid.G()
}

// mayUse reports whether the caller may touch l's state now: it is the task
// running on l (its worker, or an iterator that task pulls with iter.Pull),
// or l's goroutine between steps (a callback), or any goroutine while l is
// not running (its owner, before or after a run). It costs a register read
// and two atomic loads, and a stack trace for a caller that fails them.
func (l *Loop) mayUse() bool {
	g := goid.G()
	if g == l.workerG.Load() {
		return true
	}
	if lg := l.loopG.Load(); lg == 0 || lg == g {
		return true
	}
	return l.pulledInStep()
}

// pulledInStep reports whether the caller is a coroutine made by iter.Pull in
// the task running on l now: that task waits for it to yield, so it may act
// for the task.
func (l *Loop) pulledInStep() bool {
	w := l.workerG.Load()
	if w == 0 {
		return false
	}
	_, puller := goroutineIDs()
	return puller != 0 && puller == goid.Num(w)
}

// misused reports whether the caller may not touch the state of l, the loop
// an object is bound to (nil when it is bound to none).
func (l *Loop) misused() bool { return l != nil && !l.mayUse() }

// handOver makes a call that a foreign goroutine made on l's objects on l
// instead, in order, as CallSoonThreadsafe does: a loop object's methods that
// take no context (Event.Set, Future.SetResult, Task.Cancel, Unlock…) do so,
// so that a goroutine-based library's callback can call them safely. On a
// closed loop there is nothing left to change, and the call is dropped.
func (l *Loop) handOver(fn func()) { _ = l.CallSoonThreadsafe(fn) }

// A worker is a coroutine (a goroutine switched to and from directly by the
// runtime, as iter.Pull does) that runs tasks. The loop binds an idle worker
// to a task when the task first runs and takes it back the moment the task
// ends, so a task that has not started costs no goroutine and a burst of short
// tasks reuses a handful of workers.
//
// Only the loop's goroutine resumes a worker (next) and only the worker
// suspends itself (yield), as iter.Pull requires.
type worker struct {
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
	loop  *Loop
	t     *task   // the task to run, set by the loop before it resumes an idle worker
	g     uintptr // the worker's goroutine (goid.G), set when it starts

	// What a suspended task needs lives here, with its stack, rather than in
	// every task: tasks that never suspend do not pay for it.
	wait               waiter   // the entry in the list of the future the task awaits
	parkNode           *node    // the node whose waiters list holds the task
	parkPrev, parkNext *worker  // that list
	foreignIdx         int32    // index in the loop's foreign list, or -1
	steps              uint32   // steps of the current task, for introspection
	abortQ             *waitq   // the queue the task waits in, if any,
	abortW             *qwaiter // and its entry there
	waitKind           uint8    // what the task parked for (waitSleep…), for observers
}

func (l *Loop) getWorker() *worker {
	if n := len(l.idle); n > 0 {
		w := l.idle[n-1]
		l.idle[n-1] = nil
		l.idle = l.idle[:n-1]
		return w
	}
	w := &worker{loop: l, foreignIdx: -1}
	w.next, w.stop = iter.Pull(w.run)
	return w
}

func (l *Loop) putWorker(w *worker) {
	if len(l.idle) < maxIdleWorkers {
		l.idle = append(l.idle, w)
	} else {
		l.stopWorker(w)
	}
}

// stopWorker ends w's goroutine.
func (l *Loop) stopWorker(w *worker) {
	if l.workerG.Load() == w.g {
		l.workerG.Store(0)
	}
	w.stop()
}

// run is the coroutine's body: run the bound task, hand back, repeat. A false
// yield means the loop is closing.
//
// When its task ends and the next item of the loop's current pass is a task
// that has not started, the worker runs that task too, without the two
// switches through the loop: a burst of short tasks runs on one coroutine.
func (w *worker) run(yield func(struct{}) bool) {
	w.yield = yield
	l := w.loop
	w.g = goid.G()
	l.workerG.Store(w.g)
	for {
		if l.traced != nil {
			l.stepBegins(w.t)
		}
		w.t.execute()
		w.t.w = nil
		w.t = nil
		if t := l.nextFresh(); t != nil {
			w.t, t.w, w.steps = t, w, 1
			t.phase = stRunning
			l.current = t
			l.stepTask.Store(t)
			continue
		}
		if !yield(struct{}{}) {
			return
		}
	}
}

// nextFresh takes the next ready item of the current pass if it is a task
// that has not started.
func (l *Loop) nextFresh() *task {
	if l.passLeft == 0 || l.closing || l.stopping {
		return nil
	}
	it := l.ready.front()
	if t := it.t; t != nil && t.w == nil && t.phase == stReady {
		l.ready.pop()
		l.passLeft--
		return t
	}
	return nil
}

// resume runs t until it suspends or finishes.
func (l *Loop) resume(t *task) {
	if t.phase != stReady {
		return
	}
	w := t.w
	if w == nil {
		w = l.getWorker()
		w.t = t
		t.w = w
		w.steps = 0
	}
	w.steps++
	t.phase = stRunning
	l.current = t
	if w.g != 0 && l.workerG.Load() != w.g { // a new worker stores its own
		l.workerG.Store(w.g)
	}
	if l.stepTask.Load() != t { // the watchdog tells steps apart by it and the pass
		l.stepTask.Store(t)
	}
	if l.debug != nil {
		began, created := time.Now(), l.debug.created[t]
		w.next()
		if s := l.debug.stats[t]; s != nil {
			s.running += time.Since(began)
		}
		l.stepped(t, created, began)
	} else {
		w.next()
	}
	// workerG stays: only that worker, suspended now, could match it, and
	// it is cleared before a worker's goroutine ends (its g may serve
	// another goroutine then).
	l.current = nil
	if w.t == nil { // its tasks are done: the worker is idle
		l.putWorker(w)
	}
}
