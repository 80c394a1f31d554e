package aio_test

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiotest"
)

// TestMetrics: a scripted workload on the virtual clock, read back through
// Loop.Metrics from another goroutine and through expvar.
func TestMetrics(t *testing.T) {
	aio.PublishExpvar()
	aiotest.Run(t, func(ctx context.Context) error {
		l := aio.LoopOf(ctx)
		before := l.Metrics()
		ok := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Second) })
		failed := aio.Go(ctx, func(ctx context.Context) error { return errors.New("no") })
		sleeper := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, aio.Forever) })
		if err := aio.Yield(ctx); err != nil {
			return err
		}
		sleeper.Cancel()
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		defer r.Close()
		defer w.Close()
		if err := l.AddReader(r.Fd(), func() {}); err != nil {
			return err
		}
		mid := make(chan aio.Metrics, 1)
		go func() { mid <- l.Metrics() }() // another goroutine reads them
		m, _, err := aio.Recv(ctx, mid)
		if err != nil {
			return err
		}
		if got := m.TasksSpawned - before.TasksSpawned; got != 3 {
			t.Errorf("spawned %d, want 3", got)
		}
		if m.Descriptors != 1 || m.Passes <= before.Passes {
			t.Errorf("descriptors %d, passes %d (before %d)", m.Descriptors, m.Passes, before.Passes)
		}
		l.RemoveReader(r.Fd())
		for _, tk := range []*aio.Task[struct{}]{ok, failed, sleeper} {
			tk.Await(ctx)
		}
		m = l.Metrics()
		if m.TasksFailed != 1 || m.TasksCancelled != 1 || m.TasksAlive != 1 || m.Descriptors != 0 { // main is alive
			t.Errorf("after: %+v", m)
		}
		var all map[string]aio.Metrics
		if err := json.Unmarshal([]byte(expvar.Get("aio").String()), &all); err != nil {
			return err
		}
		if e, ok := all[strconv.FormatUint(l.ID(), 10)]; !ok || e.TasksFailed != 1 {
			t.Errorf("expvar: %v", all)
		}
		return nil
	})
}
