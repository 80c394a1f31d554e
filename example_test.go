package aio_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/aio-go/aio"
)

// virtual runs the examples on a virtual clock: sleeps take no real time and
// the output is the same on every run.
var virtual = aio.WithClock(aio.NewVirtualClock(time.Time{}))

// elapsed is the time on the loop's clock since start.
func elapsed(ctx context.Context, start time.Time) time.Duration {
	return aio.LoopOf(ctx).Now().Sub(start)
}

func ExampleRun() {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		fmt.Println("Hello ...")
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return err
		}
		fmt.Println("... World!")
		return nil
	}, virtual)
	fmt.Println("err:", err)
	// Output:
	// Hello ...
	// ... World!
	// err: <nil>
}

func ExampleSpawn() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		start := aio.LoopOf(ctx).Now()
		sayAfter := func(d time.Duration, what string) func(context.Context) (string, error) {
			return func(ctx context.Context) (string, error) {
				err := aio.Sleep(ctx, d)
				return what, err
			}
		}
		t1 := aio.Spawn(ctx, sayAfter(2*time.Second, "hello"))
		t2 := aio.Spawn(ctx, sayAfter(time.Second, "world"))
		a, _ := t1.Await(ctx)
		b, _ := t2.Await(ctx)
		fmt.Println(a, b, "after", elapsed(ctx, start))
		return nil
	}, virtual)
	// Output: hello world after 2s
}

func ExampleGather() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		square := func(n int) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				err := aio.Sleep(ctx, time.Duration(n)*time.Second)
				return n * n, err
			}
		}
		results, err := aio.Gather(ctx, square(3), square(1), square(2))
		fmt.Println(results, err)
		return nil
	}, virtual)
	// Output: [9 1 4] <nil>
}

func ExampleGatherAll() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		ok := func(context.Context) (string, error) { return "fine", nil }
		bad := func(context.Context) (string, error) { return "", errors.New("broken") }
		results, _ := aio.GatherAll(ctx, ok, bad)
		for _, r := range results {
			fmt.Printf("%q %v\n", r.Value, r.Err)
		}
		return nil
	}, virtual)
	// Output:
	// "fine" <nil>
	// "" broken
}

func ExampleGroup() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			g.Go(func(ctx context.Context) error {
				return aio.Sleep(ctx, time.Hour) // cancelled when its sibling fails
			})
			g.Go(func(ctx context.Context) error {
				aio.Sleep(ctx, time.Second)
				return errors.New("disk full")
			})
			return nil
		})
		fmt.Println(err)
		return nil
	}, virtual)
	// Output: disk full
}

func ExampleTimeout() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		err := aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			return aio.Sleep(ctx, time.Hour)
		})
		fmt.Println(errors.Is(err, context.DeadlineExceeded))
		return nil
	}, virtual)
	// Output: true
}

func ExampleTimeoutOf() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		start := aio.LoopOf(ctx).Now()
		aio.TimeoutAt(ctx, time.Time{}, func(ctx context.Context) error { // no deadline yet
			aio.TimeoutOf(ctx).Reschedule(start.Add(3 * time.Second))
			return aio.Sleep(ctx, time.Hour)
		})
		fmt.Println("gave up after", elapsed(ctx, start))
		return nil
	}, virtual)
	// Output: gave up after 3s
}

func ExampleWaitFor() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		start := aio.LoopOf(ctx).Now()
		_, err := aio.WaitFor(ctx, time.Second, func(ctx context.Context) (int, error) {
			defer func() {
				// Cleanup that awaits, out of the cancellation's reach.
				aio.Sleep(context.WithoutCancel(ctx), 5*time.Second)
			}()
			return 0, aio.Sleep(ctx, time.Hour)
		})
		fmt.Println(err, "after", elapsed(ctx, start))
		return nil
	}, virtual)
	// Output: context deadline exceeded after 6s
}

func ExampleShield() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		start := aio.LoopOf(ctx).Now()
		err := aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			return aio.Shield(ctx, func(ctx context.Context) error {
				err := aio.Sleep(ctx, 5*time.Second)
				fmt.Println("important task finished after", elapsed(ctx, start))
				return err
			})
		})
		fmt.Println(err, "after", elapsed(ctx, start))
		return aio.Sleep(ctx, 10*time.Second)
	}, virtual)
	// Output:
	// context deadline exceeded after 1s
	// important task finished after 5s
}

func ExampleAsCompleted() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		after := func(s int) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				return s, aio.Sleep(ctx, time.Duration(s)*time.Second)
			}
		}
		for v, err := range aio.AsCompleted(ctx, after(3), after(1), after(2)) {
			fmt.Println(v, err)
		}
		return nil
	}, virtual)
	// Output:
	// 1 <nil>
	// 2 <nil>
	// 3 <nil>
}

func ExampleWait() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		fast := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Second) })
		slow := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
		done, pending, _ := aio.Wait(ctx, aio.FirstCompleted, 0, fast, slow)
		fmt.Println(len(done), len(pending), done[0] == fast)
		slow.Cancel()
		return nil
	}, virtual)
	// Output: 1 1 true
}

func ExampleTask_Cancel() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		t := aio.Go(ctx, func(ctx context.Context) error {
			err := aio.Sleep(ctx, time.Hour)
			fmt.Println("sleep:", err)
			return err
		})
		aio.Sleep(ctx, time.Second)
		t.CancelWithMessage("shutting down")
		_, err := t.Await(ctx)
		fmt.Println(t.Cancelled(), errors.Is(err, context.Canceled))
		return nil
	}, virtual)
	// Output:
	// sleep: aio: cancelled: shutting down
	// true true
}

func ExampleNewFuture() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		f := aio.NewFuture[string](ctx)
		aio.LoopOf(ctx).CallLater(time.Second, func() { f.SetResult("ready") })
		v, err := f.Await(ctx)
		fmt.Println(v, err)
		return nil
	}, virtual)
	// Output: ready <nil>
}

func ExampleLoop_CallSoonThreadsafe() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		loop := aio.LoopOf(ctx)
		f := aio.NewFuture[int](ctx)
		go func() { // another goroutine hands its result to the loop
			loop.CallSoonThreadsafe(func() { f.SetResult(42) })
		}()
		v, _ := f.Await(ctx)
		fmt.Println(v)
		return nil
	}, virtual)
	// Output: 42
}

func ExampleLoop_RunUntilComplete() {
	loop := aio.NewLoop(virtual)
	defer loop.Close()
	t := aio.Spawn(loop.Context(), func(ctx context.Context) (int, error) {
		return 3 + 5, aio.Sleep(ctx, time.Second)
	})
	loop.RunUntilComplete(t)
	fmt.Println(t.Result())
	// Output: 8 <nil>
}

// Consumers range over a queue until it is shut down; each item counts as
// done once the loop body has run for it.
func ExampleQueue_All() {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		jobs := aio.NewQueue[string](2)
		worker := aio.Go(ctx, func(ctx context.Context) error {
			for job, err := range jobs.All(ctx) {
				if err != nil {
					return err
				}
				fmt.Println("did", job)
			}
			fmt.Println("no more jobs")
			return nil
		})
		for _, job := range []string{"wash", "dry", "fold"} {
			if err := jobs.Put(ctx, job); err != nil {
				return err
			}
		}
		if err := jobs.Join(ctx); err != nil { // every job done
			return err
		}
		jobs.Shutdown(false)
		_, err := worker.Await(ctx)
		return err
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// did wash
	// did dry
	// did fold
	// no more jobs
}

// A scope with no deadline that something else ends: Trio's cancel scope,
// the loop's own context.WithCancel.
func ExampleTimeoutScope_Cancel() {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		err := aio.TimeoutAt(ctx, time.Time{}, func(ctx context.Context) error {
			scope := aio.TimeoutOf(ctx)
			aio.LoopOf(ctx).CallLater(time.Second, func() { scope.Cancel("enough waiting") })
			return aio.Sleep(ctx, time.Hour)
		})
		fmt.Println(err, errors.Is(err, context.Canceled))
		return nil
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})))
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// aio: cancelled: enough waiting true
}

// A finally block that awaits: the cleanup runs after the cancellation that
// unwinds the task, and takes its 5 s.
func ExampleCleanup() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		start := aio.LoopOf(ctx).Now()
		anotherEternity := func(ctx context.Context) error {
			defer func() {
				fmt.Println("cancelled after", elapsed(ctx, start))
				aio.Sleep(aio.Cleanup(ctx), 5*time.Second) // finally: await asyncio.sleep(5)
			}()
			return aio.Sleep(ctx, time.Hour)
		}
		err := aio.Timeout(ctx, time.Second, anotherEternity)
		fmt.Println(err, "after", elapsed(ctx, start))
		return nil
	}, virtual)
	// Output:
	// cancelled after 1s
	// context deadline exceeded after 6s
}

// A task's cancellation is a *CancelledError carrying the message it was
// cancelled with; errors.Is matches it with context.Canceled.
func ExampleCancelledError() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		t := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) })
		aio.Yield(ctx) // let it start
		t.CancelWithMessage("shutting down")
		_, err := t.Await(ctx)
		var ce *aio.CancelledError
		fmt.Println(errors.As(err, &ce), ce.Msg, errors.Is(err, context.Canceled), t.Done(), t.Cancelled())
		return nil
	}, virtual)
	// Output: true shutting down true true true
}

// Yield lets the other ready tasks run (asyncio.sleep(0)).
func ExampleYield() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		aio.Go(ctx, func(ctx context.Context) error {
			fmt.Println("the other task runs")
			return nil
		})
		fmt.Println("main yields")
		aio.Yield(ctx)
		fmt.Println("main goes on")
		return nil
	})
	// Output:
	// main yields
	// the other task runs
	// main goes on
}

// An async generator whose body returns its error; range over it in a task.
func ExampleGenerate() {
	countdown := func(ctx context.Context, from int) iter.Seq2[int, error] {
		return aio.Generate(func(yield func(int) bool) error {
			for n := from; n > 0; n-- {
				if !yield(n) {
					return nil // the consumer broke out: clean up and stop
				}
				if err := aio.Sleep(ctx, time.Second); err != nil {
					return err // the last element the consumer sees
				}
			}
			return nil
		})
	}
	aio.Run(context.Background(), func(ctx context.Context) error {
		start := aio.LoopOf(ctx).Now()
		for n, err := range countdown(ctx, 3) { // async for n in countdown(3)
			fmt.Println(n, err, elapsed(ctx, start))
		}
		aio.Timeout(ctx, 1500*time.Millisecond, func(ctx context.Context) error {
			for n, err := range countdown(ctx, 3) {
				fmt.Println(n, err)
			}
			return nil
		})
		return nil
	}, virtual)
	// Output:
	// 3 <nil> 0s
	// 2 <nil> 1s
	// 1 <nil> 2s
	// 3 <nil>
	// 2 <nil>
	// 0 context deadline exceeded
}

// Pull takes a stream's elements one at a time (anext); one that comes too
// late for a timeout is not lost, the next call gets it.
func ExamplePull() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		slow := func(ctx context.Context) iter.Seq2[string, error] {
			return aio.Generate(func(yield func(string) bool) error {
				for _, s := range []string{"a", "b"} {
					if err := aio.Sleep(ctx, 2*time.Second); err != nil {
						return err
					}
					if !yield(s) {
						return nil
					}
				}
				return nil
			})
		}
		p := aio.Pull(ctx, slow)
		defer p.Close(ctx)
		_, err := aio.WaitFor(ctx, time.Second, p.Next)
		fmt.Println(err)
		for range 3 {
			fmt.Println(p.Next(ctx))
		}
		return nil
	}, virtual)
	// Output:
	// context deadline exceeded
	// a <nil>
	// b <nil>
	//  EOF
}

// RunOn drives a loop the caller keeps (loop.run_until_complete).
func ExampleRunOn() {
	loop := aio.NewLoop(virtual)
	defer loop.Close()
	var sum int
	err := aio.RunOn(loop, func(ctx context.Context) error {
		fmt.Println("Compute...")
		sum = 3 + 5
		return aio.Sleep(ctx, time.Second)
	})
	fmt.Println(sum, err)
	// Output:
	// Compute...
	// 8 <nil>
}

// A task of a group that returns a value.
func ExampleSpawnIn() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		var a, b *aio.Task[int]
		err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			a = aio.SpawnIn(tg, func(ctx context.Context) (int, error) { return 2, aio.Sleep(ctx, time.Second) })
			b = aio.SpawnIn(tg, func(ctx context.Context) (int, error) { return 6, aio.Sleep(ctx, 2*time.Second) })
			return nil
		})
		x, _ := a.Result()
		y, _ := b.Result()
		fmt.Println(x, y, err)
		return nil
	}, virtual)
	// Output: 2 6 <nil>
}

// Start waits until a task of the group is ready (Trio's nursery.start): a
// server that listens before the clients dial.
func ExampleTaskGroup_Start() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		return aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			var addr string
			err := tg.Start(func(ctx context.Context, ready func()) error {
				addr = "127.0.0.1:8080" // bound
				ready()
				return aio.Sleep(ctx, time.Second) // serving
			})
			fmt.Println("listening on", addr, err)
			return nil
		})
	}, virtual)
	// Output: listening on 127.0.0.1:8080 <nil>
}

// AllTasks lists the tasks of the loop that have not finished.
func ExampleAllTasks() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Second) }, aio.WithName("sleeper"))
		for _, t := range aio.AllTasks(ctx) {
			fmt.Println(t.Name(), t == aio.CurrentTask(ctx))
		}
		return nil
	}, virtual)
	// Unordered output:
	// main true
	// sleeper false
}

// An error no one retrieved goes to the exception handler.
func ExampleWithExceptionHandler() {
	report := func(c aio.ExceptionContext) { fmt.Println(c.Message+":", c.Err) }
	aio.Run(context.Background(), func(ctx context.Context) error {
		aio.Go(ctx, func(ctx context.Context) error { return errors.New("disk full") })
		return aio.Sleep(ctx, time.Second)
	}, virtual, aio.WithExceptionHandler(report))
	// Output: Task exception was never retrieved: disk full
}

// AwaitContext suspends the task until a context made elsewhere is done.
func ExampleAwaitContext() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		other, cancel := context.WithCancel(context.Background())
		go cancel() // another goroutine decides
		fmt.Println(aio.AwaitContext(ctx, other))
		return nil
	})
	// Output: <nil>
}

// CallSoon runs a callback on the loop's next pass; CallLater after a delay.
func ExampleLoop_CallSoon() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		loop := aio.LoopOf(ctx)
		done := aio.NewFuture[string](ctx)
		loop.CallLater(time.Second, func() { done.SetResult("later") })
		loop.CallSoon(func() { fmt.Println("soon") })
		fmt.Println(done.Await(ctx))
		return nil
	}, virtual)
	// Output:
	// soon
	// later <nil>
}
