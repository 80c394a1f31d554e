package aiootel_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiootel"
	"github.com/aio-go/aio/aiotest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// collect reads every data point into name → attribute set → value.
func collect(t *testing.T, ctx context.Context, r *sdkmetric.ManualReader) map[string]map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			points := map[string]float64{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					points[p.Attributes.Encoded(attribute.DefaultEncoder())] = float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					points[p.Attributes.Encoded(attribute.DefaultEncoder())] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					points[p.Attributes.Encoded(attribute.DefaultEncoder())] = p.Value
				}
			}
			out[m.Name] = points
		}
	}
	return out
}

// TestObserveLoops: a scripted workload's figures, read back through the
// SDK's manual reader.
func TestObserveLoops(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test")
	reg, err := aiootel.ObserveLoops(meter)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	aiotest.Run(t, func(ctx context.Context) error {
		loop := "aio.loop=" + strconv.FormatUint(aio.LoopOf(ctx).ID(), 10)
		before := collect(t, ctx, reader)
		failing := aio.Go(ctx, func(ctx context.Context) error { return errors.New("no") })
		sleeper := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
		aio.Sleep(ctx, time.Second)
		m := collect(t, ctx, reader)
		if got := m["aio.loop.tasks.spawned"][loop] - before["aio.loop.tasks.spawned"][loop]; got != 2 {
			t.Errorf("spawned %v; want 2", got)
		}
		if m["aio.loop.tasks.failed"][loop] != 1 || m["aio.loop.tasks.alive"][loop] != 2 { // main and the sleeper
			t.Errorf("failed %v, alive %v; want 1, 2", m["aio.loop.tasks.failed"][loop], m["aio.loop.tasks.alive"][loop])
		}
		if m["aio.loop.lag.max"][loop] != 0 || len(m["aio.loop.pass.p99"]) == 0 {
			t.Errorf("lag %v, pass %v", m["aio.loop.lag.max"], m["aio.loop.pass.p99"])
		}
		failing.Await(ctx)
		sleeper.Cancel()
		sleeper.Await(ctx)
		if m := collect(t, ctx, reader); m["aio.loop.tasks.cancelled"][loop] != 1 || m["aio.loop.tasks.alive"][loop] != 1 {
			t.Errorf("cancelled %v, alive %v; want 1, 1", m["aio.loop.tasks.cancelled"][loop], m["aio.loop.tasks.alive"][loop])
		}
		return nil
	})
}

// TestObserveSession: a session's pool while requests are in flight, read by
// a collection on the loop and by one on another goroutine.
func TestObserveSession(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test")
	aiotest.Run(t, func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			aio.Sleep(r.Context(), time.Second)
		})}
		aio.Go(ctx, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
		defer srv.Shutdown(ctx)
		s := &aiohttp.Session{LimitPerHost: 1}
		defer s.Close()
		reg, err := aiootel.ObserveSession(meter, "backend", s)
		if err != nil {
			return err
		}
		defer reg.Unregister()
		get := func(ctx context.Context) (int, error) {
			resp, err := s.Get(ctx, "http://"+ln.Addr().String())
			if err != nil {
				return 0, err
			}
			b, err := resp.Bytes(ctx)
			return len(b), err
		}
		g := aio.Spawn(ctx, func(ctx context.Context) ([]int, error) { return aio.Gather(ctx, get, get, get) })
		aio.Sleep(ctx, 500*time.Millisecond)
		host := "aio.session=backend,server.address=http://" + ln.Addr().String()
		m := collect(t, ctx, reader)
		if m["aiohttp.session.connections"][host+",state=in_use"] != 1 || m["aiohttp.session.waiting"][host] != 2 {
			t.Errorf("in flight: %v %v; want 1 in use, 2 waiting", m["aiohttp.session.connections"], m["aiohttp.session.waiting"])
		}
		_, err = g.Await(ctx)
		done := make(chan map[string]map[string]float64, 1)
		go func() { done <- collect(t, context.Background(), reader) }() // a collector's goroutine
		for m = nil; m == nil; {                                         // the loop stays busy meanwhile: the virtual clock stands still (idle connections time out)
			select {
			case m = <-done:
			default:
				aio.Yield(ctx)
			}
		}
		if m["aiohttp.session.connections"][host+",state=idle"] != 1 || m["aiohttp.session.waiting"][host] != 0 {
			t.Errorf("at rest: %v %v; want 1 idle, none waiting", m["aiohttp.session.connections"], m["aiohttp.session.waiting"])
		}
		return err
	})
}

// TestObserveStats: the integer fields of a stats struct, as gauges named
// after them.
func TestObserveStats(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test")
	type clientStats struct {
		Commands, InUse int64
		Open            uint32
		Name            string // left out
	}
	n := int64(0)
	reg, err := aiootel.ObserveStats(meter, "db.client", func() clientStats {
		n++
		return clientStats{Commands: n, InUse: 2, Open: 3, Name: "x"}
	}, attribute.String("db", "main"))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	collect(t, context.Background(), reader)
	m := collect(t, context.Background(), reader)
	if m["db.client.commands"]["db=main"] != 2 || m["db.client.in_use"]["db=main"] != 2 || m["db.client.open"]["db=main"] != 3 || m["db.client.name"] != nil {
		t.Errorf("got %v", m)
	}
	if _, err := aiootel.ObserveStats(meter, "x", func() int { return 1 }); err == nil {
		t.Error("a function that returns an int: no error")
	}
	if _, err := aiootel.ObserveStats[clientStats](meter, "y", nil); err == nil {
		t.Error("a nil function: no error")
	}
	if _, err := aiootel.ObserveSession(meter, "z", nil); err == nil {
		t.Error("a nil session: no error")
	}
}
