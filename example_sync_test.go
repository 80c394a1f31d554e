package aio_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/aio-go/aio"
)

// vclock runs a loop on a virtual clock of its own: sleeps take no real time.
func vclock() aio.Option { return aio.WithClock(aio.NewVirtualClock(time.Time{})) }

// A lock held across awaits: the tasks take turns, with no mutex.
func ExampleLock() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		var mu aio.Lock
		balance := 100
		start := aio.LoopOf(ctx).Now()
		withdraw := func(ctx context.Context) error {
			if err := mu.Lock(ctx); err != nil {
				return err
			}
			defer mu.Unlock()
			b := balance
			if err := aio.Sleep(ctx, time.Second); err != nil { // a slow check, lock held
				return err
			}
			balance = b - 30
			return nil
		}
		aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			tg.Go(withdraw)
			tg.Go(withdraw)
			return nil
		})
		fmt.Println("balance", balance, "after", aio.LoopOf(ctx).Now().Sub(start))
		return nil
	}, vclock())
	// Output:
	// balance 40 after 2s
}

// An event wakes every task waiting for it.
func ExampleEvent() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		var ready aio.Event
		waiter := func(name string) *aio.Task[struct{}] {
			return aio.Go(ctx, func(ctx context.Context) error {
				if err := ready.Wait(ctx); err != nil {
					return err
				}
				fmt.Println(name, "goes")
				return nil
			})
		}
		a, b := waiter("a"), waiter("b")
		aio.Sleep(ctx, time.Second)
		ready.Set()
		_, err := aio.Gather(ctx, a.Await, b.Await)
		return err
	}, vclock())
	// Output:
	// a goes
	// b goes
}

// A condition: consumers wait until a producer says there is something.
func ExampleCondition() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		var cond aio.Condition
		var items []string
		consumer := aio.Go(ctx, func(ctx context.Context) error {
			if err := cond.Lock(ctx); err != nil {
				return err
			}
			defer cond.Unlock()
			if err := cond.WaitFor(ctx, func() bool { return len(items) > 0 }); err != nil {
				return err
			}
			fmt.Println("got", items[0])
			return nil
		})
		aio.Sleep(ctx, time.Second)
		cond.Lock(ctx)
		items = append(items, "bread")
		cond.NotifyAll()
		cond.Unlock()
		_, err := consumer.Await(ctx)
		return err
	}, vclock())
	// Output:
	// got bread
}

// A semaphore lets two tasks in at a time.
func ExampleNewSemaphore() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		sem := aio.NewSemaphore(2)
		start := aio.LoopOf(ctx).Now()
		job := func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			defer sem.Release()
			return aio.Sleep(ctx, time.Second)
		}
		aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for range 4 {
				tg.Go(job)
			}
			return nil
		})
		fmt.Println("four jobs of 1 s, two at a time:", aio.LoopOf(ctx).Now().Sub(start))
		return nil
	}, vclock())
	// Output:
	// four jobs of 1 s, two at a time: 2s
}

// A barrier lets the tasks go on together once all have come.
func ExampleNewBarrier() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		b := aio.NewBarrier(3)
		start := aio.LoopOf(ctx).Now()
		err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for i := range 3 {
				tg.Go(func(ctx context.Context) error {
					if err := aio.Sleep(ctx, time.Duration(i)*time.Second); err != nil {
						return err
					}
					_, err := b.Wait(ctx)
					return err
				})
			}
			return nil
		})
		fmt.Println("all through after", aio.LoopOf(ctx).Now().Sub(start))
		return err
	}, vclock())
	// Output:
	// all through after 2s
}

// A blocking call on another goroutine; the loop goes on meanwhile.
func ExampleToThread() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		sum, err := aio.ToThread(ctx, func(ctx context.Context) (int, error) {
			n := 0
			for i := range 1000 { // stands for a blocking library call
				n += i
			}
			return n, nil
		})
		fmt.Println(sum, err)
		return nil
	})
	// Output:
	// 499500 <nil>
}

// Calls into a goroutine-based library that bounds its own concurrency (a
// database driver's pool, here a semaphore of 4) all start at once: the
// library, not the loop's pool, decides how many proceed.
func ExampleToGoroutine() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		pool := make(chan struct{}, 4) // the library's own limit
		query := func(ctx context.Context) (int, error) {
			pool <- struct{}{}
			defer func() { <-pool }()
			return len(pool), nil // blocks in the library, not on the loop
		}
		var calls []func(context.Context) (int, error)
		for range 10 {
			calls = append(calls, func(ctx context.Context) (int, error) { return aio.ToGoroutine(ctx, query) })
		}
		results, err := aio.Gather(ctx, calls...)
		fmt.Println(len(results), err)
		return nil
	})
	// Output:
	// 10 <nil>
}

// A loop's counters, read from any goroutine without stopping it.
func ExampleLoop_Metrics() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		for i := range 3 {
			aio.Go(ctx, func(ctx context.Context) error {
				if i == 2 {
					return errors.New("no")
				}
				return nil
			}).Await(ctx)
		}
		m := aio.LoopOf(ctx).Metrics()
		fmt.Println("spawned", m.TasksSpawned, "alive", m.TasksAlive, "failed", m.TasksFailed)
		return nil
	}, aio.WithInterrupt(false))
	// Output:
	// spawned 4 alive 1 failed 1
}

// Another goroutine hands work to a running loop and waits for the result
// (asyncio's run_coroutine_threadsafe).
func ExampleSubmit() {
	loops := make(chan *aio.Loop, 1)
	done := make(chan struct{})
	go aio.Run(context.Background(), func(ctx context.Context) error {
		loops <- aio.LoopOf(ctx)
		_, _, err := aio.Recv(ctx, done) // serve until told to stop
		return err
	})
	l := <-loops
	p := aio.Submit(l, func(ctx context.Context) (string, error) {
		return "ran on the loop as " + aio.CurrentTask(ctx).Name(), nil
	}, aio.WithName("submitted"))
	fmt.Println(p.Wait(context.Background()))
	close(done)
	// Output:
	// ran on the loop as submitted <nil>
}

// Waiting until cancelled, without blocking the loop.
func ExampleSleep_forever() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		server := aio.Go(ctx, func(ctx context.Context) error {
			return aio.Sleep(ctx, aio.Forever) // what <-ctx.Done() would do to the whole loop
		})
		aio.Sleep(ctx, time.Hour)
		server.Cancel()
		_, err := server.Await(ctx)
		fmt.Println(err)
		return nil
	}, vclock())
	// Output:
	// aio: cancelled
}

// A producer and consumers around a bounded queue; Join waits until every
// item is done.
func ExampleNewQueue() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		q := aio.NewQueue[int](2) // Put waits while two items are in
		sum := 0
		for range 2 {
			aio.Go(ctx, func(ctx context.Context) error {
				for v, err := range q.All(ctx) {
					if err != nil {
						return err
					}
					sum += v
				}
				return nil
			})
		}
		for i := 1; i <= 10; i++ {
			if err := q.Put(ctx, i); err != nil {
				return err
			}
		}
		if err := q.Join(ctx); err != nil {
			return err
		}
		q.Shutdown(false)
		fmt.Println("sum", sum)
		return nil
	})
	// Output:
	// sum 55
}

// A task awaits a channel that a goroutine sends on, without blocking the
// loop.
func ExampleRecv() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		ch := make(chan string)
		go func() { ch <- "from a goroutine" }()
		v, ok, err := aio.Recv(ctx, ch)
		fmt.Println(v, ok, err)
		return nil
	})
	// Output:
	// from a goroutine true <nil>
}

// An async generator: a function whose body awaits, ranged over in a task;
// breaking out runs its cleanup (aclose).
func ExampleStream() {
	ticker := func(every time.Duration) aio.Stream[int] {
		return func(ctx context.Context) iter.Seq2[int, error] {
			return func(yield func(int, error) bool) {
				defer fmt.Println("ticker closed")
				for i := 0; ; i++ {
					if err := aio.Sleep(ctx, every); err != nil {
						yield(0, err)
						return
					}
					if !yield(i, nil) {
						return
					}
				}
			}
		}
	}
	aio.Run(context.Background(), func(ctx context.Context) error {
		for i, err := range ticker(time.Second)(ctx) {
			if err != nil {
				return err
			}
			fmt.Println("tick", i)
			if i == 2 {
				break
			}
		}
		return nil
	}, vclock())
	// Output:
	// tick 0
	// tick 1
	// tick 2
	// ticker closed
}

// Two streams merged into one, in the order their elements come.
func ExampleMerge() {
	every := func(name string, d time.Duration, n int) aio.Stream[string] {
		return func(ctx context.Context) iter.Seq2[string, error] {
			return func(yield func(string, error) bool) {
				for i := range n {
					if err := aio.Sleep(ctx, d); err != nil {
						yield("", err)
						return
					}
					if !yield(fmt.Sprint(name, i), nil) {
						return
					}
				}
			}
		}
	}
	aio.Run(context.Background(), func(ctx context.Context) error {
		for v, err := range aio.Merge(ctx, every("fast", 2*time.Second, 3), every("slow", 5*time.Second, 2)) {
			if err != nil {
				return err
			}
			fmt.Println(v)
		}
		return nil
	}, vclock())
	// Output:
	// fast0
	// fast1
	// slow0
	// fast2
	// slow1
}

// A loop driven by hand (asyncio's new_event_loop and run_until_complete).
func ExampleNewLoop() {
	l := aio.NewLoop(vclock())
	defer l.Close()
	l.CallLater(time.Second, func() { fmt.Println("a callback, 1 s in") })
	t := aio.Spawn(l.Context(), func(ctx context.Context) (string, error) {
		return "the task's result", aio.Sleep(ctx, 2*time.Second)
	})
	if err := l.RunUntilComplete(t); err != nil {
		fmt.Println(err)
	}
	fmt.Println(t.Result())
	// Output:
	// a callback, 1 s in
	// the task's result <nil>
}

// One loop per core on one port would use RunLoops with
// aionet.ListenConfig{ReusePort: true}; here each loop reports its index,
// and the results are gathered in order.
func ExampleRunLoops() {
	results := make([]string, 3)
	err := aio.RunLoops(context.Background(), 3, func(ctx context.Context, loops []*aio.Loop, i int) error {
		results[i] = fmt.Sprintf("loop %d of %d", i, len(loops))
		return nil
	}, aio.WithInterrupt(false))
	fmt.Println(results, err)
	// Output:
	// [loop 0 of 3 loop 1 of 3 loop 2 of 3] <nil>
}
