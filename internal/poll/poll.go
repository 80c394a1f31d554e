// Package poll is the loop's window on the operating system: it waits, with a
// timeout, until file descriptors are ready or another goroutine wakes it,
// and drives its owner's passes of work between those waits (Serve). It owns
// the epoll, kqueue or fallback machinery and nothing else: it knows no
// tasks, no callbacks and no loop, only a Runner's passes.
package poll

import (
	"errors"
	"math"
	"time"
)

// Interest and readiness bits.
const (
	Read  uint32 = 1 << 0 // readable, or the peer closed, or an error is pending
	Write uint32 = 1 << 1 // writable
	// Edge asks, with Read or Write, for edge-triggered events where the
	// poller has them (epoll): a descriptor is reported when it becomes
	// ready, not on every Wait while it stays ready, so its owner must
	// consume the readiness (read to a short read or EAGAIN) or come back to
	// it by itself. Pollers without it stay level-triggered, which such an
	// owner handles too.
	Edge uint32 = 1 << 2
	// Hup comes with Read when the peer has closed or an error is pending:
	// an edge-triggered reader that stopped at a short read must read on,
	// since the end of the stream that came with the data raises no new
	// edge.
	Hup uint32 = 1 << 3
)

// ErrUnsupported is returned by Control where the system has no poller the
// package knows: there, I/O goes through goroutines instead.
var ErrUnsupported = errors.New("poll: file descriptor polling is not supported on this system")

// ErrClosed is returned by a poller that was closed.
var ErrClosed = errors.New("poll: poller is closed")

// A Poller waits for readiness of file descriptors (level-triggered unless
// Edge is asked: a descriptor stays ready until the condition is consumed)
// and for Wake. All methods but Wake belong to one goroutine.
type Poller interface {
	// Wait blocks until a descriptor of interest is ready, Wake is called, or
	// timeout passes (a negative timeout waits without limit, zero does not
	// block), and calls h.Ready for each ready descriptor with the ready bits
	// and the tag given to Control.
	Wait(timeout time.Duration, h Handler) error
	// Wake makes a Wait in progress, or the next one, return. Any goroutine
	// may call it.
	Wake() error
	// Control sets the interest of fd (Read, Write, both, maybe with Edge);
	// 0 removes fd. The tag comes back with its events, to tell a descriptor
	// from a later one with the same number.
	Control(fd int, interest uint32, tag uint32) error
	// Close releases the poller.
	Close() error
	// Serve runs r's passes until one returns Stop, polling or waiting
	// between them as each asks, and reports what it polls to r.
	Serve(r Runner) error
}

// A Runner is the owner of a poller that Serve drives: its passes of work,
// between which the poller looks for ready descriptors.
type Runner interface {
	Handler
	// Pass runs one pass of work and says what comes next: Stop to return
	// from Serve, Skip to run the next pass at once, 0 to poll without
	// waiting first, a positive timeout to wait for readiness at most that
	// long, or a negative one (but Stop or Skip) to wait without limit.
	Pass() time.Duration
}

// What a Runner's Pass may return besides a timeout.
const (
	Stop time.Duration = math.MinInt64     // Serve returns
	Skip time.Duration = math.MinInt64 + 1 // run the next pass without polling
)

// serve is Serve made of Wait, for pollers with no better way.
func serve(p Poller, r Runner) error {
	for {
		switch wait := r.Pass(); wait {
		case Stop:
			return nil
		case Skip:
		default:
			p.Wait(wait, r) // an error ends no loop: the next pass tries again
		}
	}
}

// A Handler receives the descriptors a Wait finds ready. It is an interface,
// not a function, so that the loop passes itself: a method value would cost
// a call through a wrapper per event.
type Handler interface {
	Ready(fd int, ready, tag uint32)
}

// HandlerFunc makes a function a Handler.
type HandlerFunc func(fd int, ready, tag uint32)

// Ready calls f.
func (f HandlerFunc) Ready(fd int, ready, tag uint32) { f(fd, ready, tag) }

// msec rounds a timeout up to whole milliseconds, for the system calls that
// take them: rounding down would wake the loop before its timer is due.
func msec(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
