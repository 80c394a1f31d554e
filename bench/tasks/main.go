// Command tasks runs aio's task micro-benchmarks with the workloads and JSON
// keys of ../shared/bench-peers/tasks, so that aio is measured side by side
// with asyncio, uvloop, trio, node and goroutines:
//
//	tasks spawn|switch|timers|idle
//
// spawn   spawn N=100,000 no-op tasks, then gather them   -> ns_per_task
// switch  one task yields to the loop 1e6 times           -> ns_per_switch
// timers  N concurrent sleeps of random 0..100 ms         -> wall_ms, peak_rss_mib
// idle    N tasks parked on one future                    -> bytes_per_task, base_rss_mib
//
// It prints one JSON line. GOMAXPROCS follows the CPU affinity mask.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/aio-go/aio"
)

const n, switches = 100_000, 1_000_000

func noop(context.Context) (struct{}, error) { return struct{}{}, nil }

func spawn(ctx context.Context) (map[string]any, error) {
	var dt time.Duration
	ts := make([]func(context.Context) (struct{}, error), n)
	for i := range ts {
		ts[i] = noop
	}
	for pass := 0; pass < 2; pass++ { // the first pass warms up; the second is reported
		start := time.Now()
		if _, err := aio.Gather(ctx, ts...); err != nil {
			return nil, err
		}
		dt = time.Since(start)
	}
	return map[string]any{"ns_per_task": float64(dt.Nanoseconds()) / n}, nil
}

func switchBench(ctx context.Context) (map[string]any, error) {
	start := time.Now()
	for range switches {
		if err := aio.Yield(ctx); err != nil {
			return nil, err
		}
	}
	return map[string]any{"ns_per_switch": float64(time.Since(start).Nanoseconds()) / switches}, nil
}

func timers(ctx context.Context) (map[string]any, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	ts := make([]func(context.Context) (struct{}, error), n)
	for i := range ts {
		d := time.Duration(rng.Float64() * float64(100*time.Millisecond))
		ts[i] = func(ctx context.Context) (struct{}, error) { return struct{}{}, aio.Sleep(ctx, d) }
	}
	if _, err := aio.Gather(ctx, ts...); err != nil {
		return nil, err
	}
	return map[string]any{"wall_ms": float64(time.Since(start).Microseconds()) / 1000,
		"peak_rss_mib": float64(peakRSS()) / (1 << 20)}, nil
}

func idle(ctx context.Context) (map[string]any, error) {
	ev := aio.NewFuture[struct{}](ctx)
	runtime.GC()
	before := rss()
	ts := make([]*aio.Task[struct{}], n)
	for i := range ts {
		ts[i] = aio.Spawn(ctx, ev.Await)
	}
	if err := aio.Yield(ctx); err != nil { // one loop pass: every task parks in Await
		return nil, err
	}
	runtime.GC()
	after := rss()
	ev.SetResult(struct{}{})
	if _, _, err := aio.Wait(ctx, aio.AllCompleted, 0, ts...); err != nil {
		return nil, err
	}
	return map[string]any{"bytes_per_task": float64(after-before) / n, "base_rss_mib": float64(before) / (1 << 20)}, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tasks spawn|switch|timers|idle")
		os.Exit(2)
	}
	bench := map[string]func(context.Context) (map[string]any, error){
		"spawn": spawn, "switch": switchBench, "timers": timers, "idle": idle,
	}[os.Args[1]]
	if bench == nil {
		fmt.Fprintf(os.Stderr, "tasks: unknown benchmark %q\n", os.Args[1])
		os.Exit(2)
	}
	var r map[string]any
	err := aio.Run(context.Background(), func(ctx context.Context) (err error) {
		r, err = bench(ctx)
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "tasks:", err)
		os.Exit(1)
	}
	r["bench"] = os.Args[1]
	r["gomaxprocs"] = runtime.GOMAXPROCS(0)
	json.NewEncoder(os.Stdout).Encode(r)
}
