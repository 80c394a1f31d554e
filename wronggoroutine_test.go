package aio_test

import (
	"context"
	"errors"
	"iter"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// onGoroutine runs fn on a new goroutine (a user's, or a goroutine-based
// library's callback) and suspends the task until it returns.
func onGoroutine(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	_, _, err := aio.Recv(ctx, done)
	return err
}

// TestWrongGoroutine: a goroutine holding a task's context gets
// ErrWrongGoroutine (which is ErrNoTask too) from what would await or spawn,
// and the methods that take no context have their call made on the loop, in
// debug mode or not. Iterators pulled inside a task act for it.
func TestWrongGoroutine(t *testing.T) {
	for _, debug := range []bool{false, true} {
		err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
			var sleep, spawn, put, tryPut error
			q := aio.NewQueue[int](1)
			if err := q.Put(ctx, 1); err != nil {
				return err
			}
			if err := onGoroutine(ctx, func() {
				sleep = aio.Sleep(ctx, time.Second)
				spawn = aio.Go(ctx, func(context.Context) error { return nil }).Err()
				put = q.Put(ctx, 2)
				_, tryPut = q.TryGet()
			}); err != nil {
				return err
			}
			for name, err := range map[string]error{"Sleep": sleep, "Go": spawn, "Queue.Put": put, "Queue.TryGet": tryPut} {
				if !errors.Is(err, aio.ErrWrongGoroutine) || !errors.Is(err, aio.ErrNoTask) {
					t.Errorf("debug %v: %s from a goroutine: %v, want ErrWrongGoroutine", debug, name, err)
				}
			}
			if q.Len() != 1 {
				t.Errorf("queue holds %d items, want 1", q.Len())
			}

			// Future.SetResult: the classic bridge from a callback.
			f := aio.NewFuture[string](ctx)
			if err := onGoroutine(ctx, func() { f.SetResult("from a goroutine") }); err != nil {
				return err
			}
			if v, err := f.Await(ctx); v != "from a goroutine" || err != nil {
				t.Errorf("Future.SetResult from a goroutine: %q, %v", v, err)
			}

			// Event.Set, wakes a waiting task.
			var ev aio.Event
			waiter := aio.Go(ctx, ev.Wait)
			if err := aio.Yield(ctx); err != nil { // the waiter binds ev
				return err
			}
			if err := onGoroutine(ctx, ev.Set); err != nil {
				return err
			}
			if _, err := waiter.Await(ctx); err != nil {
				t.Errorf("waiter: %v", err)
			}

			// Task.Cancel.
			sleeper := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, aio.Forever) })
			if err := aio.Yield(ctx); err != nil {
				return err
			}
			if err := onGoroutine(ctx, func() { sleeper.Cancel() }); err != nil {
				return err
			}
			if _, err := sleeper.Await(ctx); !sleeper.Cancelled() {
				t.Errorf("sleeper cancelled from a goroutine: %v", err)
			}

			// Lock.Unlock, hands the lock to a waiter.
			var mu aio.Lock
			if err := mu.Lock(ctx); err != nil {
				return err
			}
			other := aio.Go(ctx, func(ctx context.Context) error {
				if err := mu.Lock(ctx); err != nil {
					return err
				}
				mu.Unlock()
				return nil
			})
			if err := aio.Yield(ctx); err != nil {
				return err
			}
			if err := onGoroutine(ctx, mu.Unlock); err != nil {
				return err
			}
			if _, err := other.Await(ctx); err != nil {
				t.Errorf("lock waiter: %v", err)
			}

			// CallSoon and CallLater from a goroutine run on the loop.
			// (Each to a future of its own: the virtual clock may reach the
			// timer before the second call comes from the goroutine.)
			soon, later := aio.NewFuture[int](ctx), aio.NewFuture[int](ctx)
			l := aio.LoopOf(ctx)
			start := l.Now()
			if err := onGoroutine(ctx, func() {
				l.CallLater(time.Second, func() { later.SetResult(2) })
				l.CallSoon(func() { soon.SetResult(1) })
			}); err != nil {
				return err
			}
			v1, _ := soon.Await(ctx)
			v2, _ := later.Await(ctx)
			if v1 != 1 || v2 != 2 || l.Now().Sub(start) != time.Second {
				t.Errorf("CallSoon and CallLater from a goroutine: %d, %d after %v", v1, v2, l.Now().Sub(start))
			}

			// An iterator pulled inside a task (on a coroutine of its own)
			// awaits for it.
			next, stop := iter.Pull2(ticker(ctx, 2, time.Millisecond, nil))
			defer stop()
			for range 2 {
				if _, err, ok := next(); err != nil || !ok {
					t.Errorf("pulled ticker: %v, %v", err, ok)
				}
			}
			return nil
		}, aio.WithDebug(debug, time.Hour))
		if err != nil {
			t.Fatalf("debug %v: %v", debug, err)
		}
	}
}
