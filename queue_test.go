package aio_test

// Cases of CPython's test_queues.py (3.11, plus the 3.13 shutdown tests),
// ported.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiotest"
)

func TestQueueOrders(t *testing.T) { // test_order for Queue, LifoQueue, PriorityQueue
	for _, c := range []struct {
		name string
		q    *aio.Queue[int]
		want []int
	}{
		{"fifo", aio.NewQueue[int](0), []int{1, 3, 2}},
		{"lifo", aio.NewLifoQueue[int](0), []int{2, 3, 1}},
		{"priority", aio.NewPriorityQueue(0, func(a, b int) bool { return a < b }), []int{1, 2, 3}},
	} {
		for _, v := range []int{1, 3, 2} {
			c.q.TryPut(v)
		}
		var got []int
		for !c.q.Empty() {
			v, _ := c.q.TryGet()
			got = append(got, v)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v; want %v", c.name, got, c.want)
		}
	}
	// Many items through the priority heap.
	q := aio.NewPriorityQueue(0, func(a, b int) bool { return a > b })
	for i := range 100 {
		q.TryPut((i * 37) % 100)
	}
	prev := 1000
	for !q.Empty() {
		v, _ := q.TryGet()
		if v > prev {
			t.Fatalf("max-heap out of order: %d after %d", v, prev)
		}
		prev = v
	}
}

func TestQueueNonBlocking(t *testing.T) { // test_nonblocking_get/put(_exception), test_full, test_empty, test_maxsize
	q := aio.NewQueue[string](2)
	if _, err := q.TryGet(); err != aio.ErrQueueEmpty {
		t.Errorf("TryGet on empty = %v", err)
	}
	q.TryPut("a")
	q.TryPut("b")
	if err := q.TryPut("c"); err != aio.ErrQueueFull || !q.Full() || q.Len() != 2 || q.Cap() != 2 {
		t.Errorf("TryPut on full = %v", err)
	}
	if v, err := q.TryGet(); v != "a" || err != nil {
		t.Errorf("TryGet = %q %v", v, err)
	}
	mustPanic(t, "nil less", func() { aio.NewPriorityQueue[int](0, nil) })
}

func TestQueueBlocking(t *testing.T) { // test_blocking_get_wait, test_blocking_put_wait, test_get_with_putters, test_maxsize
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		q := aio.NewQueue[int](1)
		aio.LoopOf(ctx).CallLater(10*time.Millisecond, func() { q.TryPut(1) })
		if v, err := q.Get(ctx); v != 1 || err != nil {
			t.Errorf("Get = %d %v", v, err)
		}
		// A producer blocked on a full queue goes on as items are taken.
		var putTimes []time.Duration
		prod := aio.Go(ctx, func(ctx context.Context) error {
			for i := range 3 {
				if err := q.Put(ctx, i); err != nil {
					return err
				}
				putTimes = append(putTimes, tr.clock.Since())
			}
			return nil
		})
		var got []int
		for range 3 {
			aio.Sleep(ctx, 100*time.Millisecond)
			v, err := q.Get(ctx)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		prod.Await(ctx)
		if !slices.Equal(got, []int{0, 1, 2}) || len(putTimes) != 3 || putTimes[1] != 110*time.Millisecond {
			t.Errorf("got %v, put at %v", got, putTimes)
		}
		return nil
	})
	if err != nil || took != 310*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestQueueCancelledGetters(t *testing.T) { // test_get_cancel_drop_one/many_pending_readers, test_cancelled_getters_not_being_held_in_self_getters, test_get_cancelled_race
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		q := aio.NewQueue[int](0)
		reader := aio.Spawn(ctx, q.Get)
		aio.Yield(ctx)
		q.TryPut(1)
		q.TryPut(2)
		reader.Cancel()
		if _, err := reader.Await(ctx); errors.Is(err, context.Canceled) {
			reader = aio.Spawn(ctx, q.Get)
		}
		if v, _ := reader.Await(ctx); v != 1 {
			t.Errorf("got %d; item 1 was dropped", v)
		}
		q.TryGet()
		// Three readers, two items, the first reader cancelled: no item lost.
		r1, r2, r3 := aio.Spawn(ctx, q.Get), aio.Spawn(ctx, q.Get), aio.Spawn(ctx, q.Get)
		aio.Yield(ctx)
		q.TryPut(1)
		q.TryPut(2)
		r1.Cancel()
		if _, err := r1.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("r1 = %v", err)
		}
		v2, _ := r2.Await(ctx)
		v3, _ := r3.Await(ctx)
		if v2 != 1 || v3 != 2 {
			t.Errorf("readers got %d %d", v2, v3)
		}
		// A timed-out getter does not stay in the queue's waiters.
		err := aio.Timeout(ctx, 100*time.Millisecond, func(ctx context.Context) error {
			_, err := q.Get(ctx)
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("timed-out Get = %v", err)
		}
		q.TryPut(7)
		late := aio.Spawn(ctx, q.Get)
		if v, _ := late.Await(ctx); v != 7 {
			t.Errorf("the item went to a gone getter: %d", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQueueCancelledPutters(t *testing.T) { // test_put_cancelled, test_put_cancelled_race, test_cancelled_puts_not_being_held_in_self_putters
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		q := aio.NewQueue[int](1)
		q.TryPut(1)
		p1 := aio.Go(ctx, func(ctx context.Context) error { return q.Put(ctx, 2) })
		p2 := aio.Go(ctx, func(ctx context.Context) error { return q.Put(ctx, 3) })
		aio.Yield(ctx)
		q.TryGet()  // frees a slot for p1...
		p1.Cancel() // ...which is cancelled before it runs: the slot goes to p2
		aio.Yield(ctx)
		aio.Yield(ctx)
		if !p1.Cancelled() || p2.Err() != nil || !p2.Done() {
			t.Errorf("p1 %v, p2 %v", p1.Err(), p2.Err())
		}
		if v, _ := q.TryGet(); v != 3 {
			t.Errorf("queue holds %d; want 3", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQueueJoin(t *testing.T) { // test_task_done, test_task_done_underflow, test_join_empty_queue
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		q := aio.NewQueue[int](0)
		if err := q.Join(ctx); err != nil {
			t.Errorf("Join on an empty queue: %v", err)
		}
		mustPanic(t, "too many times", q.TaskDone)
		sum := 0
		for range 2 {
			aio.Go(ctx, func(ctx context.Context) error {
				for {
					v, err := q.Get(ctx)
					if err != nil {
						return err
					}
					aio.Sleep(ctx, time.Millisecond)
					sum += v
					q.TaskDone()
				}
			})
		}
		for i := range 100 {
			q.TryPut(i)
		}
		if err := q.Join(ctx); err != nil || sum != 4950 {
			t.Errorf("Join = %v, sum %d", err, sum)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQueueShutdown(t *testing.T) { // test_shutdown_* of Python 3.13
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		// Not immediate: items already in are still delivered.
		q := aio.NewQueue[int](1)
		q.TryPut(1)
		putter := aio.Go(ctx, func(ctx context.Context) error { return q.Put(ctx, 2) })
		aio.Yield(ctx)
		q.Shutdown(false)
		if _, err := putter.Await(ctx); err != aio.ErrQueueShutDown {
			t.Errorf("blocked Put after shutdown = %v", err)
		}
		if err := q.TryPut(3); err != aio.ErrQueueShutDown {
			t.Errorf("TryPut after shutdown = %v", err)
		}
		if v, err := q.Get(ctx); v != 1 || err != nil {
			t.Errorf("Get of a remaining item = %d %v", v, err)
		}
		if _, err := q.Get(ctx); err != aio.ErrQueueShutDown {
			t.Errorf("Get on an empty shut-down queue = %v", err)
		}
		if _, err := q.TryGet(); err != aio.ErrQueueShutDown {
			t.Errorf("TryGet = %v", err)
		}
		// Immediate: items are dropped, waiting getters and joiners released.
		q = aio.NewQueue[int](0)
		getter := aio.Spawn(ctx, q.Get)
		aio.Yield(ctx)
		q.TryPut(1)
		q.TryPut(2)
		joiner := aio.Go(ctx, q.Join)
		aio.Yield(ctx)
		q2 := aio.NewQueue[int](0)
		blocked := aio.Spawn(ctx, q2.Get)
		aio.Yield(ctx)
		q.Shutdown(true)
		q2.Shutdown(true)
		if _, err := blocked.Await(ctx); err != aio.ErrQueueShutDown {
			t.Errorf("blocked Get after immediate shutdown = %v", err)
		}
		getter.Await(ctx)
		q.TaskDone() // for the item the getter took
		if _, err := joiner.Await(ctx); err != nil || q.Len() != 0 {
			t.Errorf("Join after immediate shutdown = %v, %d left", err, q.Len())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestQueueAll: ranging over a queue takes its items until it is shut down
// and drained, marks each done after the loop body (Join sees it), stops on
// break with the item done, and yields a cancellation once, losing nothing.
func TestQueueAll(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		q := aio.NewQueue[int](0)
		for i := range 3 {
			q.TryPut(i)
		}
		joined := aio.Go(ctx, q.Join)
		var got []int
		consumer := aio.Go(ctx, func(ctx context.Context) error {
			for v, err := range q.All(ctx) {
				if err != nil {
					return err
				}
				got = append(got, v)
				if err := aio.Sleep(ctx, time.Second); err != nil { // the work
					return err
				}
			}
			return nil
		})
		if err := aio.Sleep(ctx, 1500*time.Millisecond); err != nil {
			return err
		}
		q.Shutdown(false) // no more: the consumer drains what is left, then ends
		if _, err := consumer.Await(ctx); err != nil {
			return err
		}
		if _, err := joined.Await(ctx); err != nil {
			return err
		}
		if len(got) != 3 || got[2] != 2 {
			t.Errorf("took %v; want [0 1 2]", got)
		}

		q2 := aio.NewQueue[int](0)
		q2.TryPut(7)
		q2.TryPut(8)
		for v := range q2.All(ctx) {
			if v == 7 {
				break
			}
		}
		if q2.Len() != 1 {
			t.Errorf("after break, %d items left; want 1", q2.Len())
		}
		err := aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			q2.TryGet()
			for _, err := range q2.All(ctx) {
				return err // the queue is empty: only the timeout comes
			}
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ranging over an empty queue under a timeout = %v", err)
		}
		return nil
	})
}
