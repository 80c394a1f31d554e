package aio

import (
	"expvar"
	"math"
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are a loop's counters as of a moment, for dashboards and alerts.
// Any goroutine may read them (Loop.Metrics) without stopping the loop: the
// loop keeps them in atomics as it goes.
type Metrics struct {
	TasksSpawned   uint64 // tasks started on the loop
	TasksAlive     uint64 // started and not finished
	TasksFailed    uint64 // finished with an error that is not a cancellation
	TasksCancelled uint64 // finished cancelled
	Passes         uint64 // passes over the ready queue
	Ready          int64  // tasks and callbacks in the ready queue at the last pass sampled
	Timers         int64  // timers pending (sleeps, timeouts, CallLater) at the last pass sampled
	Offloaded      int64  // ToThread and ToGoroutine functions running or queued
	OffloadQueued  int64  // of those, ToThread's waiting for a place in the pool
	Descriptors    int64  // descriptors watched (sockets, pipes, signals)
	Blocked        uint64 // steps the watchdog reported holding the loop
	// Lag is how late timers fire: from when a sleep, a timeout or a
	// CallLater was due to when the loop got to it. A loop with more work
	// than it can do shows it here first.
	Lag Histogram
	// Pass is how long passes over the ready queue take: one pass in 64 is
	// measured (and Ready and Timers read), so that the clock is not read
	// on every pass.
	Pass Histogram
}

// Histogram summarises the durations recorded since the loop started: their
// count, median, 99th percentile and maximum. The percentiles are the upper
// bounds of power-of-two buckets (within a factor of two, never below the
// truth), capped by the maximum.
type Histogram struct {
	Count    uint64
	P50, P99 time.Duration
	Max      time.Duration
}

// histogram counts durations in power-of-two buckets of nanoseconds. The
// loop's goroutine records; any goroutine reads.
type histogram struct {
	buckets [48]atomic.Uint64 // bucket i: [2^(i-1), 2^i) ns; bucket 0: 0
	max     atomic.Int64
}

func (h *histogram) record(ns int64) {
	if ns < 0 {
		ns = 0
	}
	h.buckets[min(bits.Len64(uint64(ns)), len(h.buckets)-1)].Add(1)
	if ns > h.max.Load() {
		h.max.Store(ns) // one writer
	}
}

func (h *histogram) summary() Histogram {
	var counts [len(h.buckets)]uint64
	var n uint64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		n += counts[i]
	}
	s := Histogram{Count: n, Max: time.Duration(h.max.Load())}
	quantile := func(q float64) time.Duration {
		rank := uint64(math.Ceil(q * float64(n))) // nearest rank, 1-based
		var seen uint64
		for i, c := range counts {
			if seen += c; seen >= rank {
				if i == 0 {
					return 0
				}
				return min(time.Duration(1)<<i-1, s.Max)
			}
		}
		return s.Max
	}
	if n > 0 {
		s.P50, s.P99 = quantile(0.5), quantile(0.99)
	}
	return s
}

// passSample is how often a pass's duration is measured: one in passSample
// (a power of two), so that the clock is not read twice on every pass.
const passSample = 64

// loopCounters are the atomics Metrics reads. The loop's goroutine is their
// only writer (the watchdog's for blocked).
type loopCounters struct {
	spawned, finished, failed, cancelled, blocked atomic.Uint64
	descriptors, ready, timers, queued            atomic.Int64
	lag, pass                                     *histogram // kept out of the Loop's hot cache lines
}

// Metrics returns the loop's counters now.
func (l *Loop) Metrics() Metrics {
	c := &l.counters
	spawned, finished := c.spawned.Load(), c.finished.Load()
	return Metrics{
		TasksSpawned:   spawned,
		TasksAlive:     spawned - min(finished, spawned),
		TasksFailed:    c.failed.Load(),
		TasksCancelled: c.cancelled.Load(),
		Passes:         l.passState.Load() >> 1,
		Ready:          c.ready.Load(),
		Timers:         c.timers.Load(),
		Offloaded:      l.inflight.Load(),
		OffloadQueued:  c.queued.Load(),
		Descriptors:    c.descriptors.Load(),
		Blocked:        c.blocked.Load(),
		Lag:            c.lag.summary(),
		Pass:           c.pass.summary(),
	}
}

// counted updates the counters for a task that has finished.
func (c *loopCounters) counted(err error, cancelled bool) {
	c.finished.Add(1)
	switch {
	case cancelled:
		c.cancelled.Add(1)
	case err != nil:
		c.failed.Add(1)
	}
}

var publishOnce sync.Once

// PublishExpvar publishes the Metrics of every open loop with package expvar,
// as the variable "aio": an object keyed by loop ID, served by expvar's
// handler at /debug/vars. Calling it again does nothing.
func PublishExpvar() {
	publishOnce.Do(func() {
		expvar.Publish("aio", expvar.Func(func() any {
			loops := Loops()
			out := make(map[string]Metrics, len(loops))
			for _, l := range loops {
				out[strconv.FormatUint(l.id, 10)] = l.Metrics()
			}
			return out
		}))
	})
}
