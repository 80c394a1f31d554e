package aio

import (
	"sync/atomic"
	"time"
)

// A Clock tells a loop what time it is. Timers (Sleep, CallLater, Timeout)
// are measured on the loop's clock. The default is the real monotonic clock;
// [NewVirtualClock] makes a clock that only moves when the loop has nothing
// else to do.
//
// Now must be safe for concurrent use: contexts of tasks report deadlines on
// it, and their Deadline method may be called from any goroutine.
type Clock interface {
	Now() time.Time
}

// realClock is time.Now, with its monotonic reading.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// VirtualClock is a Clock that stands still while tasks run and jumps straight
// to the next timer whenever every task of its loop is waiting and no work is
// in flight on other goroutines (Trio's autojump clock, Tokio's paused time).
// Sleeps and timeouts then take no real time, and a program gives the same
// result, in the same order, on every run.
//
// A VirtualClock belongs to one loop. It is safe for concurrent use.
type VirtualClock struct {
	start time.Time
	ns    atomic.Int64 // nanoseconds since start
}

// virtualEpoch is where virtual clocks start by default, the same instant as
// testing/synctest's fake clock.
var virtualEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// NewVirtualClock returns a virtual clock that reads start. A zero start means
// midnight UTC, 2000-01-01.
func NewVirtualClock(start time.Time) *VirtualClock {
	if start.IsZero() {
		start = virtualEpoch
	}
	return &VirtualClock{start: start.Round(0)}
}

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Time { return c.start.Add(time.Duration(c.ns.Load())) }

// Since returns the virtual time elapsed since the clock was created.
func (c *VirtualClock) Since() time.Duration { return time.Duration(c.ns.Load()) }

// advanceTo moves the clock forward to ns nanoseconds after start; it never
// moves it back.
func (c *VirtualClock) advanceTo(ns int64) {
	for {
		cur := c.ns.Load()
		if ns <= cur || c.ns.CompareAndSwap(cur, ns) {
			return
		}
	}
}
