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
	// TaskStep reports that the task ran from start to end; finished says
	// the step was its last.
	TaskStep(loop uint64, task uint64, name string, start, end time.Time, finished bool)
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
		l.observer.TaskStep(l.id, uint64(t.id), t.Name(), st.began, l.Now(), t.phase == stDone)
		st.began = time.Time{}
	}
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
