package aio_test

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// BenchmarkSpawn spawns b.N no-op tasks, then awaits them all with Gather.
func BenchmarkSpawn(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		noop := func(context.Context) (struct{}, error) { return struct{}{}, nil }
		ts := make([]aio.Awaitable[struct{}], b.N)
		b.ResetTimer()
		for i := range ts {
			ts[i] = aio.Spawn(ctx, noop)
		}
		_, err := aio.Gather(ctx, ts...)
		return err
	})
}

// BenchmarkSpawnGoroutines is the peer: a goroutine per task and a WaitGroup.
func BenchmarkSpawnGoroutines(b *testing.B) {
	var wg sync.WaitGroup
	wg.Add(b.N)
	for range b.N {
		go wg.Done()
	}
	wg.Wait()
}

// BenchmarkYield is one task yielding to the loop (asyncio.sleep(0)).
func BenchmarkYield(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		for b.Loop() {
			aio.Yield(ctx)
		}
		return nil
	})
}

// BenchmarkPullRoundTrip is the peer: a bare iter.Pull next/yield round trip.
func BenchmarkPullRoundTrip(b *testing.B) {
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	for b.Loop() {
		next()
	}
}

// BenchmarkSleepVirtual is a task sleeping on a virtual clock: a timer heap
// push and pop and two switches.
func BenchmarkSleepVirtual(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		for b.Loop() {
			aio.Sleep(ctx, time.Millisecond)
		}
		return nil
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})))
}

// BenchmarkFutureHandoff is two tasks handing a value through a future.
func BenchmarkFutureHandoff(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		for b.Loop() {
			f := aio.NewFuture[int](ctx)
			aio.LoopOf(ctx).CallSoon(func() { f.SetResult(1) })
			f.Await(ctx)
		}
		return nil
	})
}
