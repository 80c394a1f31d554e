package aio

import (
	"context"
	"testing"
	"time"
)

// TestMetricsHistograms: on the virtual clock, a step that holds the loop for
// 300 ms makes a timer due meanwhile fire 200 ms late, and that pass last
// 300 ms; the gauges show the ready queue, the timers and the pool's queue.
func TestMetricsHistograms(t *testing.T) {
	clk := NewVirtualClock(time.Time{})
	l := NewLoop(WithClock(clk), WithThreads(1))
	defer l.Close()
	l.sampleMask = 0 // measure every pass
	err := RunOn(l, func(ctx context.Context) error {
		a := Go(ctx, func(ctx context.Context) error { return Sleep(ctx, time.Second) })
		b := Go(ctx, func(ctx context.Context) error {
			if err := Sleep(ctx, 900*time.Millisecond); err != nil {
				return err
			}
			clk.advanceTo(clk.ns.Load() + int64(300*time.Millisecond)) // 300 ms of work in one step
			return nil
		})
		Go(ctx, func(ctx context.Context) error { return nil })
		if err := Yield(ctx); err != nil {
			return err
		}
		if m := l.Metrics(); m.Ready != 4 { // main and the three new tasks
			t.Errorf("ready %d at the pass that ran the new tasks; want 4", m.Ready)
		}
		if err := Yield(ctx); err != nil {
			return err
		}
		if m := l.Metrics(); m.Timers != 2 {
			t.Errorf("timers %d; want 2", m.Timers)
		}
		a.Await(ctx)
		b.Await(ctx)
		m := l.Metrics()
		if m.Lag.Count != 2 || m.Lag.Max != 200*time.Millisecond || m.Lag.P50 != 0 || m.Lag.P99 != 200*time.Millisecond {
			t.Errorf("lag %+v; want 2 timers, the later 200ms late", m.Lag)
		}
		if m.Pass.Max != 300*time.Millisecond || m.Pass.Count < 4 {
			t.Errorf("pass %+v; want the longest 300ms", m.Pass)
		}

		release := make(chan struct{})
		block := func(context.Context) (int, error) { <-release; return 0, nil }
		jobs := func(ctx context.Context) (int, error) { return ToThread(ctx, block) }
		g := Spawn(ctx, func(ctx context.Context) ([]int, error) { return Gather(ctx, jobs, jobs, jobs) })
		for range 3 {
			Yield(ctx)
		}
		if m := l.Metrics(); m.Offloaded != 3 || m.OffloadQueued != 2 {
			t.Errorf("offloaded %d, queued %d; want 3, 2 with one thread", m.Offloaded, m.OffloadQueued)
		}
		close(release)
		_, err := g.Await(ctx)
		if m := l.Metrics(); m.Offloaded != 0 || m.OffloadQueued != 0 {
			t.Errorf("offloaded %d, queued %d after; want 0, 0", m.Offloaded, m.OffloadQueued)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHistogramSummary(t *testing.T) {
	var h histogram
	if s := h.summary(); s != (Histogram{}) {
		t.Errorf("empty: %+v", s)
	}
	for i := range 100 {
		h.record(int64(i+1) * int64(time.Millisecond)) // 1..100 ms
	}
	s := h.summary()
	// The median, 50 ms, is in [32.8, 65.5) ms; the 99th, 99 ms, in [65.5, 131) ms: capped at the max.
	if s.Count != 100 || s.Max != 100*time.Millisecond || s.P50 != time.Duration(1<<26-1) || s.P99 != 100*time.Millisecond {
		t.Errorf("summary %+v", s)
	}
}
