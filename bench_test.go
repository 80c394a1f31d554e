package aio_test

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// batch is how many tasks the spawn benchmarks start before awaiting them;
// ns/op is per task.
const batch = 1000

// BenchmarkSpawn spawns no-op tasks in batches, then awaits each batch with
// Gather.
func BenchmarkSpawn(b *testing.B) { benchSpawn(b) }

func benchSpawn(b *testing.B, opts ...aio.Option) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		noop := func(context.Context) (struct{}, error) { return struct{}{}, nil }
		ts := make([]func(context.Context) (struct{}, error), batch)
		for i := range ts {
			ts[i] = noop
		}
		for b.Loop() {
			if _, err := aio.Gather(ctx, ts...); err != nil {
				return err
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/task")
		return nil
	}, opts...)
}

// BenchmarkSpawnGoroutines is the peer: a goroutine per task and a WaitGroup.
func BenchmarkSpawnGoroutines(b *testing.B) {
	var wg sync.WaitGroup
	for b.Loop() {
		wg.Add(batch)
		for range batch {
			go wg.Done()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/task")
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

// BenchmarkLockUncontended is Lock and Unlock of an aio.Lock by one task.
func BenchmarkLockUncontended(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		var mu aio.Lock
		for b.Loop() {
			mu.Lock(ctx)
			mu.Unlock()
		}
		return nil
	})
}

// BenchmarkMutexUncontended is the peer: sync.Mutex.
func BenchmarkMutexUncontended(b *testing.B) {
	var mu sync.Mutex
	for b.Loop() {
		mu.Lock()
		mu.Unlock()
	}
}

// BenchmarkQueueHandoff hands values from one task to another through a
// Queue of 64.
func BenchmarkQueueHandoff(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		q := aio.NewQueue[int](64)
		n := b.N
		consumer := aio.Go(ctx, func(ctx context.Context) error {
			for range n {
				if _, err := q.Get(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		b.ResetTimer()
		for i := range n {
			if err := q.Put(ctx, i); err != nil {
				return err
			}
		}
		_, err := consumer.Await(ctx)
		return err
	})
}

// BenchmarkChannelHandoff is the peer: a buffered channel of 64 between two
// goroutines.
func BenchmarkChannelHandoff(b *testing.B) {
	ch := make(chan int, 64)
	done := make(chan struct{})
	n := b.N
	go func() {
		for range n {
			<-ch
		}
		close(done)
	}()
	b.ResetTimer()
	for i := range n {
		ch <- i
	}
	<-done
}

// BenchmarkToThread is a round trip of a no-op function through ToThread.
func BenchmarkToThread(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		noop := func(context.Context) (int, error) { return 1, nil }
		for b.Loop() {
			if _, err := aio.ToThread(ctx, noop); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkGoroutineRoundTrip is the peer: a goroutine that sends its result
// on a channel.
func BenchmarkGoroutineRoundTrip(b *testing.B) {
	ch := make(chan int)
	for b.Loop() {
		go func() { ch <- 1 }()
		<-ch
	}
}

// BenchmarkYieldDebug is BenchmarkYield in debug mode.
func BenchmarkYieldDebug(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		for b.Loop() {
			aio.Yield(ctx)
		}
		return nil
	}, aio.WithDebug(true, 0))
}

// BenchmarkSpawnDebug is BenchmarkSpawn in debug mode.
func BenchmarkSpawnDebug(b *testing.B) { benchSpawn(b, aio.WithDebug(true, 0)) }

// BenchmarkToGoroutine: one task hands a trivial call off the loop and
// awaits it, as aiomongo does per operation.
func BenchmarkToGoroutine(b *testing.B) {
	aio.Run(context.Background(), func(ctx context.Context) error {
		fn := func(context.Context) (int, error) { return 1, nil }
		b.ReportAllocs()
		for b.Loop() {
			if _, err := aio.ToGoroutine(ctx, fn); err != nil {
				return err
			}
		}
		return nil
	})
}
