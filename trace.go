package aio

import (
	"context"
	"runtime/pprof"
	"runtime/trace"
	"time"
)

// Execution tracing and profiling. While runtime/trace is recording (go test
// -trace, or trace.Start), each task started is a trace task named after it
// and each of its steps a region, so `go tool trace` shows what ran when. In
// debug mode and while tracing, a task's goroutine carries the pprof labels
// task=<name> and loop=<id>, so CPU profiles split by task.

// traceOn reports whether runtime/trace is recording.
func traceOn() bool { return trace.IsEnabled() }

// An Observer hears about every step of every task of a loop, with times on
// the loop's clock: what a timeline recorder needs (see package aiodebug). Its
// method runs on the loop's goroutine and must not block.
type Observer interface {
	// TaskStep reports a step of a task, once it has ended. It runs on the
	// loop's goroutine, between two steps: keep it short.
	TaskStep(s Step)
}

// Step is one run of a task between two awaits, as an Observer sees it.
type Step struct {
	Loop, Task uint64
	Name       string
	Parent     uint64 // the task that spawned it (0: none, or another loop's)
	Start, End time.Time
	// Done says the step was the task's last; Err is then its error and
	// Cancelled whether it ended cancelled.
	Done      bool
	Err       error
	Cancelled bool
	// Wait says, when the task is not done, what it waits for from the end
	// of the step: "sleep", "lock", "event", "condition", "semaphore",
	// "barrier", "queue", "I/O", "task <name>", "tasks" (Gather, Wait,
	// AsCompleted, a TaskGroup), "thread" (ToThread, ToGoroutine), "outside"
	// (a channel or a context, with Recv, Send, AwaitContext), or "future".
	Wait string
}

// WithObserver makes the loop report its tasks' steps to o.
func WithObserver(o Observer) Option { return func(l *Loop) { l.observer = o } }

// traceState is what tracing keeps of a task.
type traceState struct {
	ctx    context.Context // carries the trace task
	task   *trace.Task
	region *trace.Region
	labels context.Context // carries the pprof labels
	began  time.Time       // the step's start, for the observer
	parent uint64          // the spawning task's ID, for the observer
}

// traceStart sets tracing up for t, if tracing or debug mode asks for it.
func (l *Loop) traceStart(t *task) {
	tracing := trace.IsEnabled()
	if !tracing && l.debug == nil && l.observer == nil {
		return
	}
	st := &traceState{labels: pprof.WithLabels(context.Background(),
		pprof.Labels("task", t.Name(), "loop", itoa(l.id)))}
	if tracing {
		st.ctx, st.task = trace.NewTask(context.Background(), "aio.Task "+t.Name())
	}
	if p := spawner(t); p != nil {
		st.parent = uint64(p.id)
	}
	if l.traced == nil {
		l.traced = map[*task]*traceState{}
	}
	l.traced[t] = st
}

// stepBegins runs on the task's coroutine when a step starts.
func (l *Loop) stepBegins(t *task) {
	st := l.traced[t]
	if st == nil {
		return
	}
	pprof.SetGoroutineLabels(st.labels)
	if st.task != nil {
		st.region = trace.StartRegion(st.ctx, "aio.step")
	}
	if l.observer != nil {
		st.began = l.Now()
	}
}

// stepResumes is stepBegins after a Yield, whose goroutine carries the
// task's labels already. (Setting them again there delayed the collection
// of a finished task, and so the report of its unretrieved failure, by two
// minutes in TestUnretrievedFailureReported; not understood, not needed.)
func (l *Loop) stepResumes(t *task) {
	st := l.traced[t]
	if st == nil {
		return
	}
	if st.task != nil {
		st.region = trace.StartRegion(st.ctx, "aio.step")
	}
	if l.observer != nil {
		st.began = l.Now()
	}
}

// stepEnds runs on the task's coroutine when a step ends.
func (l *Loop) stepEnds(t *task) {
	st := l.traced[t]
	if st == nil {
		return
	}
	if st.region != nil {
		st.region.End()
		st.region = nil
	}
	if l.observer != nil && !st.began.IsZero() {
		s := Step{Loop: l.id, Task: uint64(t.id), Name: t.Name(), Parent: st.parent, Start: st.began, End: l.Now(),
			Done: t.phase == stDone}
		if s.Done {
			s.Err, s.Cancelled = t.fut.err, t.fut.state == futCancelled
		} else {
			s.Wait = t.waitReason()
		}
		l.observer.TaskStep(s)
		st.began = time.Time{}
	}
}

// What a parked task waits for, set where it parks (worker.waitKind).
const (
	waitReady uint8 = iota // yielded, or not parked
	waitSleep
	waitLock
	waitEvent
	waitCondition
	waitSemaphore
	waitBarrier
	waitQueue
	waitIO
	waitFuture // awaits worker.wait.f
)

var waitNames = [...]string{"", "sleep", "lock", "event", "condition", "semaphore", "barrier", "queue", "I/O", "future"}

// waitReason says what the parked task t waits for, for observers.
func (t *task) waitReason() string {
	w := t.w
	if w == nil {
		return ""
	}
	if w.waitKind == waitFuture {
		switch f := w.wait.f; {
		case f == nil:
		case f.isTask:
			return "task " + f.task().Name()
		case f.kind == futTasks:
			return "tasks"
		case f.kind == futThread:
			return "thread"
		case f.kind == futOutside:
			return "outside"
		}
	}
	return waitNames[w.waitKind]
}

// traceEnd ends t's trace task.
func (l *Loop) traceEnd(t *task) {
	if st := l.traced[t]; st != nil {
		if st.task != nil {
			st.task.End()
		}
		delete(l.traced, t)
	}
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
