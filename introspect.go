package aio

import (
	"bytes"
	"context"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Introspection: a snapshot of every task of every loop, as a tree, for the
// dumps of package aiodebug (asyncio's `python -m asyncio pstree`).

// TaskInfo describes a task at the moment of a Snapshot.
type TaskInfo struct {
	Name  string
	State string // "ready", "running", "waiting"
	// At is where the task waits: the first call outside aio on its stack.
	At string
	// Awaits names the task this one awaits, if it awaits a task.
	Awaits string
	// Steps counts the times the task has run.
	Steps int
	// CreatedAt, Age and Running are known in debug mode only: where the
	// task was spawned, how long ago, and how long it has held the loop.
	CreatedAt string
	Age       time.Duration
	Running   time.Duration
	// Children are the tasks spawned with this task's context.
	Children []*TaskInfo
}

// LoopInfo describes a loop and its tasks at the moment of a Snapshot.
type LoopInfo struct {
	ID    uint64
	Debug bool
	// Blocked says the loop did not answer within the Snapshot's timeout:
	// a task holds it without awaiting. Tasks is then empty, and BlockedBy
	// and BlockedStack say which task ("a callback" if none) and where.
	Blocked      bool
	BlockedBy    string      `json:",omitempty"`
	BlockedStack string      `json:",omitempty"`
	Tasks        []*TaskInfo // the roots: tasks not spawned from another live task
}

var (
	loopsMu  sync.Mutex
	allLoops = map[*Loop]struct{}{}
	loopIDs  atomic.Uint64
)

func registerLoop(l *Loop) {
	l.id = loopIDs.Add(1)
	loopsMu.Lock()
	allLoops[l] = struct{}{}
	loopsMu.Unlock()
}

func unregisterLoop(l *Loop) {
	loopsMu.Lock()
	delete(allLoops, l)
	loopsMu.Unlock()
}

// Loops returns the loops of the process that are not closed, in the order
// they were made: for exporters of their Metrics and for debugging tools.
func Loops() []*Loop {
	loopsMu.Lock()
	loops := make([]*Loop, 0, len(allLoops))
	for l := range allLoops {
		loops = append(loops, l)
	}
	loopsMu.Unlock()
	sort.Slice(loops, func(i, j int) bool { return loops[i].id < loops[j].id })
	return loops
}

// ID returns the loop's number, unique in the process.
func (l *Loop) ID() uint64 { return l.id }

// Snapshot describes every task of every open loop. Any goroutine may call
// it: each running loop describes itself on its own goroutine, between two
// steps; a loop that is not running is read directly. A loop blocked by a
// task that never gives it back is reported as such, after timeout.
func Snapshot(ctx context.Context, timeout time.Duration) []LoopInfo {
	loops := Loops()
	stacks := taskStacks()
	var out []LoopInfo
	for _, l := range loops {
		info := LoopInfo{ID: l.id, Debug: l.debug != nil}
		if cur := LoopOf(ctx); cur == l && l.running {
			info = l.describe(stacks) // called from a task of this very loop
		} else {
			if l.loopG.Load() == 0 {
				continue // not running: nobody would answer
			}
			ch := make(chan LoopInfo, 1)
			if l.CallSoonThreadsafe(func() { ch <- l.describe(stacks) }) != nil {
				continue // closed meanwhile
			}
			select {
			case info = <-ch:
			case <-time.After(timeout):
				ec := l.blockedReport(timeout)
				info.Blocked, info.BlockedBy, info.BlockedStack = true, ec.Task, ec.Stack
			}
		}
		out = append(out, info)
	}
	return out
}

// describe builds the loop's tree; it runs on the loop's goroutine.
func (l *Loop) describe(stacks map[uintptr]string) LoopInfo {
	info := LoopInfo{ID: l.id, Debug: l.debug != nil}
	byTask := map[*task]*TaskInfo{}
	var all []*task
	for t := l.tasks; t != nil; t = t.nextAll {
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	for _, t := range all {
		ti := &TaskInfo{Name: t.Name(), State: [...]string{"ready", "running", "waiting", "done"}[t.phase]}
		if t.w != nil {
			ti.Steps = int(t.w.steps)
			if f := t.w.wait.f; f != nil && f.isTask && t.phase == stParked {
				ti.Awaits = f.task().Name()
			}
		}
		if t.w != nil {
			if at, ok := stacks[uintptr(unsafe.Pointer(t.w))]; ok {
				ti.At = at
			}
		}
		if d := l.debug; d != nil {
			ti.CreatedAt = d.created[t]
			if ti.At == "" {
				ti.At = d.waiting[t]
			}
			if s, ok := d.stats[t]; ok {
				ti.Age = time.Since(s.born)
				ti.Running = s.running
			}
		}
		byTask[t] = ti
	}
	for _, t := range all {
		parent := spawner(t)
		if p := byTask[parent]; p != nil {
			p.Children = append(p.Children, byTask[t])
		} else {
			info.Tasks = append(info.Tasks, byTask[t])
		}
	}
	return info
}

// spawner returns the task whose context t was spawned with, if it is alive.
func spawner(t *task) *task {
	for n := t.node.parent; n != nil; n = n.parent {
		if n.task != nil {
			return n.task
		}
	}
	return nil
}

// allStacks returns the stacks of all goroutines (runtime.Stack), starting
// with a buffer of size bytes.
func allStacks(size int) []byte {
	buf := make([]byte, size)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// taskStacks maps the workers (the coroutines running tasks) to where their
// task waits, from the stacks of all goroutines: the frame of (*worker).run
// names the worker, its first argument, and the first frame outside aio above
// it is the await point. Best effort: a frame the runtime cannot print is
// left out, and debug mode's record of await points fills in.
func taskStacks() map[uintptr]string {
	buf := allStacks(1 << 20)
	out := map[uintptr]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		lines := strings.Split(string(g), "\n")
		at := ""
		for i := 1; i+1 < len(lines); i += 2 {
			fn, loc := lines[i], strings.TrimSpace(lines[i+1])
			if strings.HasPrefix(fn, "github.com/aio-go/aio.(*worker).run(") {
				arg := strings.TrimSuffix(strings.TrimPrefix(fn, "github.com/aio-go/aio.(*worker).run("), ")")
				arg = strings.TrimSuffix(strings.SplitN(arg, ",", 2)[0], "?")
				if p, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64); err == nil && at != "" {
					out[uintptr(p)] = at
				}
				break
			}
			if at == "" && !strings.HasPrefix(fn, "github.com/aio-go/aio.") && !strings.HasPrefix(fn, "iter.") &&
				!strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "github.com/aio-go/aio/aionet.") {
				if sp := strings.LastIndex(loc, " +0x"); sp >= 0 {
					loc = loc[:sp]
				}
				at = loc
			}
		}
	}
	return out
}
