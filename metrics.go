package aio

import (
	"expvar"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
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
	Offloaded      int64  // ToThread and ToGoroutine functions running or queued
	Descriptors    int64  // descriptors watched (sockets, pipes, signals)
	Blocked        uint64 // steps the watchdog reported holding the loop
}

// loopCounters are the atomics Metrics reads. The loop's goroutine is their
// only writer (the watchdog's for blocked).
type loopCounters struct {
	spawned, finished, failed, cancelled, blocked atomic.Uint64
	descriptors                                   atomic.Int64
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
		Offloaded:      l.inflight.Load(),
		Descriptors:    c.descriptors.Load(),
		Blocked:        c.blocked.Load(),
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
			loopsMu.Lock()
			loops := make([]*Loop, 0, len(allLoops))
			for l := range allLoops {
				loops = append(loops, l)
			}
			loopsMu.Unlock()
			sort.Slice(loops, func(i, j int) bool { return loops[i].id < loops[j].id })
			out := make(map[string]Metrics, len(loops))
			for _, l := range loops {
				out[strconv.FormatUint(l.id, 10)] = l.Metrics()
			}
			return out
		}))
	})
}
