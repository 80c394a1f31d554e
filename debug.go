package aio

import (
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"runtime"
	"strings"
	"time"
)

// Debug mode (asyncio's PYTHONASYNCIODEBUG): on with AIO_DEBUG=1 in the
// environment or WithDebug. Off, it costs a nil check per step.
//
//   - a task step or a callback that holds the loop longer than the slow
//     threshold (100 ms by default) is logged, with the task's name and where
//     it was created and where it stopped;
//   - a task still pending when its loop closes is reported with where it was
//     created and where it waits ("Task was destroyed but it is pending!");
//   - a failure nobody retrieved is reported with where its task was created.

// DefaultSlowThreshold is how long a step may hold the loop in debug mode
// before it is logged (asyncio's slow_callback_duration).
const DefaultSlowThreshold = 100 * time.Millisecond

// WithDebug turns debug mode on or off for the loop, whatever AIO_DEBUG says.
// slow is the threshold for logging slow steps; 0 means DefaultSlowThreshold.
func WithDebug(on bool, slow time.Duration) Option {
	return func(l *Loop) {
		l.debugSet = true
		if !on {
			l.debug = nil
			return
		}
		if slow <= 0 {
			slow = DefaultSlowThreshold
		}
		l.debug = &debugState{slow: slow, created: map[*task]string{}, waiting: map[*task]string{},
			stats: map[*task]*taskStats{}}
	}
}

// debugFromEnv turns debug mode on if AIO_DEBUG is set to a true value and
// WithDebug did not decide.
func (l *Loop) debugFromEnv() {
	if l.debugSet {
		return
	}
	switch strings.ToLower(os.Getenv("AIO_DEBUG")) {
	case "1", "true", "yes", "on":
		WithDebug(true, 0)(l)
	}
}

// Debug reports whether the loop runs in debug mode.
func (l *Loop) Debug() bool { return l.debug != nil }

type debugState struct {
	stats   map[*task]*taskStats
	slow    time.Duration
	created map[*task]string // where each live task was spawned
	waiting map[*task]string // where each suspended task waits
}

// goroutineIDs returns the current goroutine's id and, if it is a
// coroutine made by iter.Pull, the id of the goroutine that made it, from its
// stack's header and footer.
func goroutineIDs() (id, puller uint64) {
	var buf [8192]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	fmt.Sscanf(s, "goroutine %d ", &id)
	if i := strings.LastIndex(s, "\ncreated by "); i >= 0 {
		footer := s[i+len("\ncreated by "):]
		if j := strings.LastIndex(footer, " in goroutine "); j >= 0 && strings.HasPrefix(footer, "iter.Pull") {
			fmt.Sscanf(footer[j+len(" in goroutine "):], "%d", &puller)
		}
	}
	return id, puller
}

// taskStats is what debug mode measures of a task.
type taskStats struct {
	born    time.Time
	running time.Duration
}

// callerOutside returns file:line of the first caller outside package aio.
func callerOutside() string {
	var pcs [24]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "github.com/aio-go/aio.") && !strings.HasPrefix(f.Function, "iter.") &&
			!strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return "?"
		}
	}
}

// stepped logs a step that held the loop too long.
func (l *Loop) stepped(t *task, created string, began time.Time) {
	d := time.Since(began)
	if d < l.debug.slow {
		return
	}
	where := l.debug.waiting[t]
	if where == "" {
		where = "finished"
	}
	l.logger0().Warn("aio: task step held the loop too long",
		"task", t.Name(), "took", d, "created at", created, "stopped at", where)
}

// callbackTook logs a callback that held the loop too long.
func (l *Loop) callbackTook(h *Handle, began time.Time) {
	if d := time.Since(began); d >= l.debug.slow {
		fn := runtime.FuncForPC(funcPC(h.fn))
		name := "?"
		if fn != nil {
			file, line := fn.FileLine(funcPC(h.fn))
			name = fmt.Sprintf("%s (%s:%d)", fn.Name(), file, line)
		}
		l.logger0().Warn("aio: callback held the loop too long", "callback", name, "took", d)
	}
}

// reportPending reports the tasks still pending as the loop closes.
func (l *Loop) reportPending() {
	for t := l.tasks; t != nil; t = t.nextAll {
		where := l.debug.waiting[t]
		if where == "" {
			where = "not started"
		}
		l.reportException(ExceptionContext{
			Message:   "Task was destroyed but it is pending! (waiting at " + where + ")",
			Task:      t.Name(),
			CreatedAt: l.debug.created[t],
		})
	}
}

func (l *Loop) logger0() *slog.Logger {
	if l.logger != nil {
		return l.logger
	}
	return slog.Default()
}

func funcPC(fn func()) uintptr { return reflect.ValueOf(fn).Pointer() }
