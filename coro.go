package aio

import "iter"

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
	t     *task // the task to run, set by the loop before it resumes an idle worker
	dead  bool  // the task called runtime.Goexit; the coroutine is gone
}

func (l *Loop) getWorker() *worker {
	if n := len(l.idle); n > 0 {
		w := l.idle[n-1]
		l.idle[n-1] = nil
		l.idle = l.idle[:n-1]
		return w
	}
	w := &worker{}
	w.next, w.stop = iter.Pull(w.run)
	return w
}

func (l *Loop) putWorker(w *worker) {
	if len(l.idle) < maxIdleWorkers {
		l.idle = append(l.idle, w)
	} else {
		w.stop()
	}
}

// run is the coroutine's body: run the bound task, hand back, repeat. A false
// yield means the loop is closing.
func (w *worker) run(yield func(struct{}) bool) {
	w.yield = yield
	for {
		w.t.execute()
		w.t = nil
		if !yield(struct{}{}) {
			return
		}
	}
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
	}
	t.phase = stRunning
	l.current = t
	w.next()
	l.current = nil
	if t.phase == stDone {
		t.w = nil
		l.putWorker(w)
	}
}
