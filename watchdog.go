package aio

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/aio-go/aio/internal/goid"
)

// DefaultWatchdogThreshold is how long one step may hold a loop before the
// watchdog reports it, unless WithWatchdog says otherwise.
const DefaultWatchdogThreshold = 100 * time.Millisecond

// WithWatchdog sets how long one step (a task running between two awaits, or
// a callback) may hold the loop before the watchdog reports it; 0 keeps the
// default, DefaultWatchdogThreshold, and a negative threshold turns the
// watchdog off.
//
// The watchdog is on by default: a goroutine per running loop that looks
// every quarter of the threshold whether the loop has begun a pass since it
// last looked. When a step holds the loop for longer, it reports while the
// step still runs, through the loop's exception handler (from its own
// goroutine), with the task's name, how long so far, and the stack of the
// goroutine that blocks: a channel receive, a time.Sleep, a mutex, a busy
// loop. When the step ends it reports again with the total. The loop pays
// nothing per step for it: the pass counter it reads is the atomic the loop
// already stores at each pass.
func WithWatchdog(threshold time.Duration) Option {
	return func(l *Loop) { l.watchAfter = threshold }
}

// watchdog is a running loop's watchdog goroutine.
type watchdog struct {
	stop, done chan struct{}
}

func (l *Loop) startWatchdog() {
	after := l.watchAfter
	if after < 0 {
		return
	}
	if after == 0 {
		after = DefaultWatchdogThreshold
	}
	wd := &watchdog{stop: make(chan struct{}), done: make(chan struct{})}
	l.wd = wd
	go l.runWatchdog(wd, after)
}

func (l *Loop) stopWatchdog() {
	if wd := l.wd; wd != nil {
		close(wd.stop)
		<-wd.done
		l.wd = nil
	}
}

// runWatchdog is the watchdog's goroutine.
func (l *Loop) runWatchdog(wd *watchdog, after time.Duration) {
	defer close(wd.done)
	tick := time.NewTicker(max(after/4, time.Millisecond))
	defer tick.Stop()
	type progress struct {
		pass uint64
		t    *task
		h    *Handle
	}
	look := func() progress { return progress{l.passState.Load(), l.stepTask.Load(), l.stepCB.Load()} }
	last := look()
	since := time.Now()
	var stalled string // the task reported blocking, while it does
	for {
		var now time.Time
		select {
		case <-wd.stop:
			if stalled != "" { // the step ended, and with it the run
				l.reportUnblocked(stalled, time.Since(since))
			}
			return
		case now = <-tick.C:
		}
		st := look()
		if st != last || st.pass&sleepingBit != 0 {
			if stalled != "" {
				l.reportUnblocked(stalled, now.Sub(since))
				stalled = ""
			}
			last, since = st, now
			continue
		}
		if held := now.Sub(since); stalled == "" && held >= after {
			ec := l.blockedReport(held)
			stalled = ec.Task
			l.counters.blocked.Add(1)
			l.stalls.add(Stall{Task: ec.Task, Began: since, Held: held, Ongoing: true, Stack: ec.Stack})
			l.reportException(ec)
		}
	}
}

func (l *Loop) reportUnblocked(task string, total time.Duration) {
	l.stalls.ended(total)
	l.reportException(ExceptionContext{
		Message: fmt.Sprintf("aio: the loop was blocked for %v in all by one step", total.Round(time.Millisecond)),
		Task:    task,
	})
}

// blockedReport describes the step that holds the loop: its task (or a
// callback) and the stack of the goroutine running it.
func (l *Loop) blockedReport(held time.Duration) ExceptionContext {
	ec := ExceptionContext{Task: "a callback"}
	g := l.loopG.Load()
	if t := l.stepTask.Load(); t != nil {
		ec.Task, g = t.Name(), l.workerG.Load()
	}
	ec.Message = fmt.Sprintf("aio: the loop is blocked: one step has held it for %v (a task must not block: await instead)", held.Round(time.Millisecond))
	ec.Err = ErrBlocked
	if n := runtime.NumGoroutine(); n <= maxStackDump {
		ec.Stack = goroutineStack(goid.Num(g))
	} else {
		ec.Stack = fmt.Sprintf("(left out: dumping %d goroutines would stop the process too long)", n)
	}
	return ec
}

// maxStackDump is the most goroutines the watchdog dumps to find the
// blocking one's stack.
const maxStackDump = 20000

// ErrBlocked is the error of the watchdog's report of a blocked loop.
var ErrBlocked = errors.New("aio: loop blocked by a step")

// goroutineStack returns the stack of the goroutine numbered id, from a dump
// of all goroutines, or "" if it is not found.
func goroutineStack(id uint64) string {
	if id == 0 {
		return ""
	}
	buf := allStacks(1 << 16)
	head := []byte("goroutine " + strconv.FormatUint(id, 10) + " [")
	i := bytes.Index(buf, head)
	if i < 0 {
		return ""
	}
	s := buf[i:]
	if j := bytes.Index(s, []byte("\n\n")); j >= 0 {
		s = s[:j]
	}
	return string(s)
}

// Stall is one time the watchdog found a step holding the loop.
type Stall struct {
	Task    string        // the task's name, or "a callback"
	Began   time.Time     // when the step began, on the wall clock
	Held    time.Duration // how long it held the loop: so far, if Ongoing
	Ongoing bool          // the step still runs
	Stack   string        // the stack of the goroutine that blocked, when reported
}

// Stalls returns the last stalls of the loop the watchdog reported, the
// latest last (at most maxStalls). Any goroutine may call it.
func (l *Loop) Stalls() []Stall {
	r := &l.stalls
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Stall, 0, len(r.list))
	for _, s := range r.list {
		if s.Ongoing {
			s.Held = time.Since(s.Began)
		}
		out = append(out, s)
	}
	return out
}

// maxStalls is how many stalls a loop remembers.
const maxStalls = 16

// stallRing is a loop's recent stalls; the watchdog writes, anyone reads.
type stallRing struct {
	mu   sync.Mutex
	list []Stall
}

func (r *stallRing) add(s Stall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.list) == maxStalls {
		r.list = append(r.list[:0], r.list[1:]...)
	}
	r.list = append(r.list, s)
}

// ended records the total of the ongoing stall.
func (r *stallRing) ended(total time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.list); n > 0 && r.list[n-1].Ongoing {
		r.list[n-1].Ongoing = false
		r.list[n-1].Held = total
	}
}
