package aio

import (
	"context"
	"errors"

	"github.com/aio-go/aio/internal/edge"
	"github.com/aio-go/aio/internal/poll"
	"github.com/aio-go/aio/internal/taskctx"
)

func init() {
	edge.AddReader = func(l any, fd uintptr, fn func()) error {
		return l.(*Loop).watch(int(fd), fn, true, true)
	}
	edge.MarkIO = func(ev any) { ev.(*Event).io = true }
	edge.Batch = func(l any) *edge.Batcher { return &l.(*Loop).batch }
	taskctx.Current = func(l any) context.Context {
		t := l.(*Loop).current
		switch {
		case t == nil:
			return nil
		case t.inner != nil:
			return t.inner
		}
		return &t.node
	}
}

// Readiness callbacks (asyncio's add_reader / add_writer): the low level on
// which the aionet package builds transports and streams. A callback runs on
// the loop whenever the descriptor is ready (level-triggered), until it is
// removed; it must consume the readiness (read until EAGAIN, say) or remove
// itself, or it runs again on every pass.

// ErrNoPoller is returned by AddReader and AddWriter where the system has no
// descriptor poller aio knows (Windows): I/O then goes through goroutines.
var ErrNoPoller = poll.ErrUnsupported

// fdWatch is what the loop does when a descriptor is ready.
type fdWatch struct {
	tag    uint32
	reader func()
	writer func()
	edge   bool // edge-triggered (see internal/edge)
}

// AddReader calls fn on the loop whenever fd is readable, until RemoveReader.
// It replaces a reader fn already set for fd.
func (l *Loop) AddReader(fd uintptr, fn func()) error { return l.watch(int(fd), fn, true, false) }

// AddWriter calls fn on the loop whenever fd is writable, until RemoveWriter.
func (l *Loop) AddWriter(fd uintptr, fn func()) error { return l.watch(int(fd), fn, false, false) }

// RemoveReader stops watching fd for reading; it reports whether it was.
func (l *Loop) RemoveReader(fd uintptr) bool { return l.unwatch(int(fd), true) }

// RemoveWriter stops watching fd for writing; it reports whether it was.
func (l *Loop) RemoveWriter(fd uintptr) bool { return l.unwatch(int(fd), false) }

// watch sets fd's reader or writer; edge makes a new watch of fd
// edge-triggered (an existing one keeps its mode).
func (l *Loop) watch(fd int, fn func(), read, edge bool) error {
	if l.closing || l.closed {
		return ErrClosed
	}
	if fd < 0 {
		return errors.New("aio: invalid file descriptor")
	}
	for fd >= len(l.watches) {
		l.watches = append(l.watches, make([]*fdWatch, len(l.watches)+64)...)
	}
	w := l.watches[fd]
	fresh := w == nil
	if fresh {
		l.watchTag++
		w = &fdWatch{tag: l.watchTag}
	}
	old := *w
	if read {
		w.reader = fn
	} else {
		w.writer = fn
	}
	if fresh {
		w.edge = edge
	}
	if err := l.poller.Control(fd, w.interest(), w.tag); err != nil {
		*w = old
		return err
	}
	if fresh {
		l.watches[fd] = w
		l.nwatch++
		l.counters.descriptors.Store(int64(l.nwatch))
	}
	return nil
}

func (l *Loop) unwatch(fd int, read bool) bool {
	if fd < 0 || fd >= len(l.watches) || l.watches[fd] == nil {
		return false
	}
	w := l.watches[fd]
	if read && w.reader == nil || !read && w.writer == nil {
		return false
	}
	if read {
		w.reader = nil
	} else {
		w.writer = nil
	}
	l.poller.Control(fd, w.interest(), w.tag)
	if w.reader == nil && w.writer == nil {
		l.watches[fd] = nil
		l.nwatch--
		l.counters.descriptors.Store(int64(l.nwatch))
	}
	return true
}

func (w *fdWatch) interest() uint32 {
	var i uint32
	if w.reader != nil {
		i |= poll.Read
	}
	if w.writer != nil {
		i |= poll.Write
	}
	if w.edge && i != 0 {
		i |= poll.Edge
	}
	return i
}

// dispatcher is the loop as the poller's handler: Ready runs the callbacks
// of a ready descriptor, unless it was removed, or replaced by a newer one
// with the same number, since the poll.
type dispatcher Loop

func (l *Loop) dispatcher() *dispatcher { return (*dispatcher)(l) }

func (d *dispatcher) Ready(fd int, ready, tag uint32) {
	l := (*Loop)(d)
	if fd >= len(l.watches) {
		return
	}
	w := l.watches[fd]
	if w == nil || w.tag != tag {
		return
	}
	l.dispatched++
	if ready&poll.Read != 0 && w.reader != nil {
		w.reader()
		// An edge-triggered reader stops at a short read; the peer's close
		// that came with the data raises no new edge: read on to it.
		if w.edge && ready&poll.Hup != 0 && l.watches[fd] == w && w.reader != nil {
			w.reader()
		}
	}
	if ready&poll.Write != 0 && w.writer != nil && l.watches[fd] == w {
		w.writer()
	}
}

// OnClose registers fn to run when the loop closes, after its tasks have been
// unwound: a resource that must not outlive the loop (a listening socket, a
// connection driven by callbacks) closes itself there. The returned stop
// unregisters fn and reports whether it had not run yet.
func (l *Loop) OnClose(fn func()) (stop func() bool) {
	h := &closeHook{fn: fn, prev: l.closeTail}
	if l.closeTail != nil {
		l.closeTail.next = h
	} else {
		l.closeHead = h
	}
	l.closeTail = h
	return func() bool { return l.unhook(h) }
}

// closeHook is an OnClose callback, in a list so that a stop takes it out
// at once: a server registers one per connection, and a slot left behind by
// each closed connection would grow for as long as the loop runs.
type closeHook struct {
	fn         func()
	prev, next *closeHook
	gone       bool
}

func (l *Loop) unhook(h *closeHook) bool {
	if h.gone {
		return false
	}
	h.gone = true
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		l.closeHead = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	} else {
		l.closeTail = h.prev
	}
	h.prev, h.next = nil, nil
	return true
}

// runCloseHooks runs the OnClose callbacks in the order they were
// registered; each is taken off the list before it runs.
func (l *Loop) runCloseHooks() {
	for h := l.closeHead; h != nil; h = l.closeHead {
		l.unhook(h)
		h.fn()
	}
}
