// Package aiootel exports aio's metrics through OpenTelemetry: the counters
// and histograms of every loop (aio.Loop.Metrics) and the pools of
// aiohttp.Sessions, as asynchronous instruments of a metric.Meter, read when
// the SDK collects. It owns only the instruments' names and their mapping; it
// must not keep state of its own nor touch a loop from the collector's
// goroutine (the figures it reads are atomics, or handed over by the loop).
// It is a module of its own, so that the core stays standard-library only.
//
// Instruments, each with the attribute aio.loop (the loop's ID) or
// aio.session and server.address (a session's name and pool key):
//
//	aio.loop.tasks.spawned, .failed, .cancelled   counters
//	aio.loop.passes, aio.loop.blocked             counters
//	aio.loop.tasks.alive, .ready, .timers         gauges
//	aio.loop.offloaded, .offload.queued           gauges
//	aio.loop.descriptors                          gauge
//	aio.loop.lag.p50, .p99, .max (s)              gauges: how late timers fire
//	aio.loop.pass.p50, .p99, .max (s)             gauges: how long a pass takes
//	aiohttp.session.connections (state=idle|in_use), .waiting    gauges
//
// ObserveStats exports any struct of figures, such as an aiomongo
// PoolCounter's Stats, without this module depending on the client's.
package aiootel

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ObserveLoops registers instruments that report the Metrics of every open
// loop of the process at each collection. Unregister the returned
// registration to stop.
func ObserveLoops(meter metric.Meter) (metric.Registration, error) {
	var insts []metric.Observable
	var errs []error
	made := func(inst metric.Observable, err error) {
		insts = append(insts, inst)
		errs = append(errs, err)
	}
	counter := func(name, desc string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithDescription(desc))
		made(c, err)
		return c
	}
	gauge := func(name, desc, unit string) metric.Int64ObservableGauge {
		g, err := meter.Int64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit(unit))
		made(g, err)
		return g
	}
	seconds := func(name, desc string) metric.Float64ObservableGauge {
		g, err := meter.Float64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit("s"))
		made(g, err)
		return g
	}
	var (
		spawned   = counter("aio.loop.tasks.spawned", "Tasks started on the loop.")
		failed    = counter("aio.loop.tasks.failed", "Tasks that ended with an error other than a cancellation.")
		cancelled = counter("aio.loop.tasks.cancelled", "Tasks that ended cancelled.")
		passes    = counter("aio.loop.passes", "Passes over the ready queue.")
		blocked   = counter("aio.loop.blocked", "Steps the watchdog reported holding the loop.")
		alive     = gauge("aio.loop.tasks.alive", "Tasks started and not finished.", "{task}")
		ready     = gauge("aio.loop.ready", "Tasks and callbacks ready to run.", "{item}")
		timers    = gauge("aio.loop.timers", "Timers pending.", "{timer}")
		offloaded = gauge("aio.loop.offloaded", "ToThread and ToGoroutine calls running or queued.", "{call}")
		queued    = gauge("aio.loop.offload.queued", "ToThread calls waiting for the pool.", "{call}")
		fds       = gauge("aio.loop.descriptors", "Descriptors watched.", "{descriptor}")
		lagP50    = seconds("aio.loop.lag.p50", "Median lateness of timers.")
		lagP99    = seconds("aio.loop.lag.p99", "99th percentile of the lateness of timers.")
		lagMax    = seconds("aio.loop.lag.max", "Largest lateness of a timer.")
		passP50   = seconds("aio.loop.pass.p50", "Median duration of a pass.")
		passP99   = seconds("aio.loop.pass.p99", "99th percentile of the duration of a pass.")
		passMax   = seconds("aio.loop.pass.max", "Longest pass.")
	)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, l := range aio.Loops() {
			m := l.Metrics()
			at := metric.WithAttributes(attribute.String("aio.loop", strconv.FormatUint(l.ID(), 10)))
			o.ObserveInt64(spawned, int64(m.TasksSpawned), at)
			o.ObserveInt64(failed, int64(m.TasksFailed), at)
			o.ObserveInt64(cancelled, int64(m.TasksCancelled), at)
			o.ObserveInt64(passes, int64(m.Passes), at)
			o.ObserveInt64(blocked, int64(m.Blocked), at)
			o.ObserveInt64(alive, int64(m.TasksAlive), at)
			o.ObserveInt64(ready, m.Ready, at)
			o.ObserveInt64(timers, m.Timers, at)
			o.ObserveInt64(offloaded, m.Offloaded, at)
			o.ObserveInt64(queued, m.OffloadQueued, at)
			o.ObserveInt64(fds, m.Descriptors, at)
			o.ObserveFloat64(lagP50, m.Lag.P50.Seconds(), at)
			o.ObserveFloat64(lagP99, m.Lag.P99.Seconds(), at)
			o.ObserveFloat64(lagMax, m.Lag.Max.Seconds(), at)
			o.ObserveFloat64(passP50, m.Pass.P50.Seconds(), at)
			o.ObserveFloat64(passP99, m.Pass.P99.Seconds(), at)
			o.ObserveFloat64(passMax, m.Pass.Max.Seconds(), at)
		}
		return nil
	}, insts...)
}

// StatsTimeout bounds how long a collection waits for a session's loop to
// answer (Session.Stats hands the question to the loop).
var StatsTimeout = time.Second

// ObserveSession registers instruments that report the pool of session s,
// under the name given, at each collection: its connections per host, idle
// and in use, and the requests waiting for one. Unregister the returned
// registration to stop.
func ObserveSession(meter metric.Meter, name string, s *aiohttp.Session) (metric.Registration, error) {
	if s == nil {
		return nil, errors.New("aiootel: ObserveSession of a nil session")
	}
	conns, err := meter.Int64ObservableGauge("aiohttp.session.connections",
		metric.WithDescription("Connections of the session's pool, by host and state."), metric.WithUnit("{connection}"))
	if err != nil {
		return nil, err
	}
	waiting, err := meter.Int64ObservableGauge("aiohttp.session.waiting",
		metric.WithDescription("Requests waiting for a connection, by host."), metric.WithUnit("{request}"))
	if err != nil {
		return nil, err
	}
	return meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, StatsTimeout)
		defer cancel()
		st, err := s.Stats(ctx)
		if err != nil {
			return err
		}
		for key, h := range st.Hosts {
			base := []attribute.KeyValue{attribute.String("aio.session", name), attribute.String("server.address", key)}
			o.ObserveInt64(conns, int64(h.Idle), metric.WithAttributes(append(base, attribute.String("state", "idle"))...))
			o.ObserveInt64(conns, int64(h.InUse), metric.WithAttributes(append(base, attribute.String("state", "in_use"))...))
			o.ObserveInt64(waiting, int64(h.Waiting), metric.WithAttributes(base...))
		}
		return nil
	}, conns, waiting)
}

// ObserveStats registers a gauge for each integer field of the struct that
// read returns, named prefix.field_name, read at each collection: for the
// figures aio's clients keep, such as an aiomongo.PoolCounter's,
//
//	aiootel.ObserveStats(meter, "aiomongo.pool", pool.Stats)
//
// gives aiomongo.pool.open, .in_use and .waiting. Fields of other
// kinds are left out. Unregister the returned registration to stop.
func ObserveStats[S any](meter metric.Meter, prefix string, read func() S, attrs ...attribute.KeyValue) (metric.Registration, error) {
	if read == nil {
		return nil, errors.New("aiootel: ObserveStats with a nil function")
	}
	typ := reflect.TypeFor[S]()
	if typ.Kind() != reflect.Struct {
		return nil, errors.New("aiootel: ObserveStats needs a function that returns a struct, not " + typ.String())
	}
	type field struct {
		index int
		gauge metric.Int64ObservableGauge
	}
	var fields []field
	var insts []metric.Observable
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			continue
		}
		if !f.IsExported() {
			continue
		}
		g, err := meter.Int64ObservableGauge(prefix + "." + snake(f.Name))
		if err != nil {
			return nil, err
		}
		fields = append(fields, field{i, g})
		insts = append(insts, g)
	}
	at := metric.WithAttributes(attrs...)
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		v := reflect.ValueOf(read())
		for _, f := range fields {
			fv := v.Field(f.index)
			if fv.CanInt() {
				o.ObserveInt64(f.gauge, fv.Int(), at)
			} else {
				o.ObserveInt64(f.gauge, int64(fv.Uint()), at)
			}
		}
		return nil
	}, insts...)
}

// snake turns InUse into in_use.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(name[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
