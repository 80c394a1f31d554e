package aio_test

// The examples of the lecture (../shared/seed/asyncio-lecture.txt), sections
// "Event Loop" and "Modern asyncio", ported and checked on the virtual clock.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestLectureHelloWorld(t *testing.T) {
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		tr.printf("Hello ...")
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return err
		}
		tr.printf("... World!")
		return nil
	})
	if err != nil || took != time.Second {
		t.Fatalf("err=%v took=%v; want nil, 1s", err, took)
	}
	wantTranscript(t, tr, `
0s Hello ...
1s ... World!`)
}

func TestLectureComputePrintSum(t *testing.T) {
	compute := func(ctx context.Context, tr *transcript, a, b int) (int, error) {
		tr.printf("Compute...")
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return 0, err
		}
		return a + b, nil
	}
	printSum := func(ctx context.Context, tr *transcript, a, b int) error {
		result, err := compute(ctx, tr, a, b) // await compute(a, b): a plain call
		if err != nil {
			return err
		}
		tr.printf("%d + %d = %d", a, b, result)
		return nil
	}
	// loop.run_until_complete(print_sum(1, 2)) on an explicit loop.
	clk := aio.NewVirtualClock(time.Time{})
	tr := &transcript{clock: clk}
	loop := aio.NewLoop(aio.WithClock(clk))
	defer loop.Close()
	task := aio.Go(loop.Context(), func(ctx context.Context) error { return printSum(ctx, tr, 1, 2) })
	if err := loop.RunUntilComplete(task); err != nil {
		t.Fatal(err)
	}
	if err := task.Err(); err != nil {
		t.Fatal(err)
	}
	wantTranscript(t, tr, `
0s Compute...
1s 1 + 2 = 3`)
}

func TestLectureSayAfter(t *testing.T) {
	sayAfter := func(ctx context.Context, tr *transcript, d time.Duration, what string) error {
		tr.printf("wait for %v", d)
		if err := aio.Sleep(ctx, d); err != nil {
			return err
		}
		tr.printf("%s", what)
		return nil
	}
	t.Run("awaited in turn", func(t *testing.T) {
		err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
			tr.printf("started")
			if err := sayAfter(ctx, tr, time.Second, "hello"); err != nil {
				return err
			}
			if err := sayAfter(ctx, tr, 2*time.Second, "world"); err != nil {
				return err
			}
			tr.printf("finished")
			return nil
		})
		if err != nil || took != 3*time.Second {
			t.Fatalf("err=%v took=%v; want nil, 3s", err, took)
		}
		wantTranscript(t, tr, `
0s started
0s wait for 1s
1s hello
1s wait for 2s
3s world
3s finished`)
	})
	t.Run("as two tasks", func(t *testing.T) {
		err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
			task1 := aio.Go(ctx, func(ctx context.Context) error { return sayAfter(ctx, tr, 2*time.Second, "hello") })
			task2 := aio.Go(ctx, func(ctx context.Context) error { return sayAfter(ctx, tr, time.Second, "world") })
			tr.printf("started")
			if _, err := task1.Await(ctx); err != nil {
				return err
			}
			if _, err := task2.Await(ctx); err != nil {
				return err
			}
			tr.printf("finished")
			return nil
		})
		if err != nil || took != 2*time.Second {
			t.Fatalf("err=%v took=%v; want nil, 2s", err, took)
		}
		wantTranscript(t, tr, `
0s started
0s wait for 2s
0s wait for 1s
1s world
2s hello
2s finished`)
	})
}

// factorial is the lecture's gather example.
func factorial(ctx context.Context, tr *transcript, name string, number int) (int, error) {
	result := 1
	for i := 2; i <= number; i++ {
		tr.printf("Task %s: Compute factorial(%d)...", name, i)
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return 0, err
		}
		result *= i
	}
	tr.printf("Task %s: factorial(%d) = %d", name, number, result)
	return result, nil
}

const factorialTranscript = `
0s Task A: Compute factorial(2)...
0s Task B: Compute factorial(2)...
0s Task C: Compute factorial(2)...
1s Task A: factorial(2) = 2
1s Task B: Compute factorial(3)...
1s Task C: Compute factorial(3)...
2s Task B: factorial(3) = 6
2s Task C: Compute factorial(4)...
3s Task C: factorial(4) = 24`

func TestLectureGatherFactorial(t *testing.T) {
	var results []int
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		var err error
		results, err = aio.Gather(ctx,
			func(ctx context.Context) (int, error) { return factorial(ctx, tr, "A", 2) },
			func(ctx context.Context) (int, error) { return factorial(ctx, tr, "B", 3) },
			func(ctx context.Context) (int, error) { return factorial(ctx, tr, "C", 4) },
		)
		return err
	})
	if err != nil || took != 3*time.Second {
		t.Fatalf("err=%v took=%v; want nil, 3s", err, took)
	}
	if fmt.Sprint(results) != "[2 6 24]" {
		t.Errorf("results = %v; want [2 6 24]", results)
	}
	wantTranscript(t, tr, factorialTranscript)
}

func TestLectureTaskGroupFactorial(t *testing.T) {
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for _, c := range []struct {
				name string
				n    int
			}{{"A", 2}, {"B", 3}, {"C", 4}} {
				tg.Go(func(ctx context.Context) error {
					_, err := factorial(ctx, tr, c.name, c.n)
					return err
				})
			}
			tr.printf("tasks pending to start")
			return nil
		})
		tr.printf("tasks complete")
		return err
	})
	if err != nil || took != 3*time.Second {
		t.Fatalf("err=%v took=%v; want nil, 3s", err, took)
	}
	wantTranscript(t, tr, "0s tasks pending to start"+factorialTranscript+"\n3s tasks complete")
}

func TestLectureWaitForEternity(t *testing.T) {
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		eternity := func(ctx context.Context) (struct{}, error) {
			if err := aio.Sleep(ctx, time.Hour); err != nil {
				return struct{}{}, err
			}
			tr.printf("yay!")
			return struct{}{}, nil
		}
		_, err := aio.WaitFor(ctx, time.Second, eternity)
		if errors.Is(err, context.DeadlineExceeded) {
			tr.printf("timeout!")
			return nil
		}
		return err
	})
	if err != nil || took != time.Second {
		t.Fatalf("err=%v took=%v; want nil, 1s", err, took)
	}
	wantTranscript(t, tr, "1s timeout!")
}

func TestLectureAnotherEternity(t *testing.T) {
	// Cleanup that awaits: 1 s of timeout plus 5 s of cleanup, as in Python.
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		anotherEternity := func(ctx context.Context) (_ struct{}, err error) {
			defer func() {
				tr.printf("cancelled")
				// The context is cancelled; cleanup awaits with one that is not.
				if e := aio.Sleep(context.WithoutCancel(ctx), 5*time.Second); e != nil {
					err = e
				}
			}()
			if err := aio.Sleep(ctx, time.Hour); err != nil {
				return struct{}{}, err
			}
			tr.printf("yay!")
			return struct{}{}, nil
		}
		tr.printf("started")
		if _, err := aio.WaitFor(ctx, time.Second, anotherEternity); errors.Is(err, context.DeadlineExceeded) {
			tr.printf("timeout!")
		}
		tr.printf("finished")
		return nil
	})
	if err != nil || took != 6*time.Second {
		t.Fatalf("err=%v took=%v; want nil, 6s", err, took)
	}
	wantTranscript(t, tr, `
0s started
1s cancelled
6s timeout!
6s finished`)
}

func TestLectureShield(t *testing.T) {
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		importantTask := func(ctx context.Context) error {
			tr.printf("important task started")
			if err := aio.Sleep(ctx, 5*time.Second); err != nil {
				return err
			}
			tr.printf("important task finished")
			return nil
		}
		tr.printf("started")
		err := aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			return aio.Shield(ctx, importantTask)
		})
		if errors.Is(err, context.DeadlineExceeded) {
			tr.printf("timeout!")
		}
		tr.printf("finished")
		// In a notebook the loop keeps running; here main lets the task end.
		return aio.Sleep(ctx, 4*time.Second)
	})
	if err != nil || took != 5*time.Second {
		t.Fatalf("err=%v took=%v; want nil, 5s", err, took)
	}
	wantTranscript(t, tr, `
0s started
0s important task started
1s timeout!
1s finished
5s important task finished`)
}

func TestLectureAsCompleted(t *testing.T) {
	type pair struct{ number, result int }
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		fact := func(number int) func(context.Context) (pair, error) {
			return func(ctx context.Context) (pair, error) {
				result := 1
				for i := 2; i <= number; i++ {
					if err := aio.Sleep(ctx, time.Second); err != nil {
						return pair{}, err
					}
					result *= i
				}
				return pair{number, result}, nil
			}
		}
		for p, err := range aio.AsCompleted(ctx, fact(4), fact(3), fact(5), fact(2)) {
			if err != nil {
				return err
			}
			tr.printf("Factorial(%d) = %d", p.number, p.result)
		}
		return nil
	})
	if err != nil || took != 4*time.Second {
		t.Fatalf("err=%v took=%v; want nil, 4s", err, took)
	}
	wantTranscript(t, tr, `
1s Factorial(2) = 2
2s Factorial(3) = 6
3s Factorial(4) = 24
4s Factorial(5) = 120`)
}
