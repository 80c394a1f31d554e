package aio_test

// Cases of CPython's test_taskgroups.py, ported. Level-triggered cancellation
// replaces catching CancelledError and awaiting again: cleanup that awaits uses
// context.WithoutCancel.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

var (
	errZeroDivision = errors.New("division by zero")
	errMy           = errors.New("my error")
)

// errCount returns how many leaves of err's tree (through Unwrap() []error)
// match target.
func errCount(err, target error) int {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n := 0
		for _, e := range j.Unwrap() {
			n += errCount(e, target)
		}
		return n
	}
	if errors.Is(err, target) {
		return 1
	}
	return 0
}

func TestTaskGroupResults(t *testing.T) { // test_taskgroup_01, _02
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var r1, r2 int
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			g.Go(func(ctx context.Context) (err error) { r1, err = sleeper(100*time.Millisecond, 42)(ctx); return })
			if err := aio.Sleep(ctx, 150*time.Millisecond); err != nil {
				return err
			}
			g.Go(func(ctx context.Context) (err error) { r2, err = sleeper(200*time.Millisecond, 11)(ctx); return })
			return nil
		})
		if r1 != 42 || r2 != 11 {
			t.Errorf("results %d %d; want 42 11", r1, r2)
		}
		return err
	})
	if err != nil || took != 350*time.Millisecond {
		t.Fatalf("err=%v took=%v; want nil, 350ms", err, took)
	}
}

func TestTaskGroupChildCancelledExplicitly(t *testing.T) { // test_taskgroup_03
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var t1, t2 *aio.Task[struct{}]
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			t1 = g.Go(failer(time.Second, nil))
			if err := aio.Sleep(ctx, 150*time.Millisecond); err != nil {
				return err
			}
			t1.Cancel() // everything else goes on as usual
			t2 = g.Go(failer(200*time.Millisecond, nil))
			return nil
		})
		if !t1.Cancelled() || t2.Err() != nil || !t2.Done() {
			t.Errorf("t1 cancelled %v, t2 err %v", t1.Cancelled(), t2.Err())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskGroupChildErrorCancelsSiblingsAndBody(t *testing.T) { // test_taskgroup_04, cancel_children_on_child_error
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		num := 0
		t2Cancel, bodyCancel := false, false
		var t2 *aio.Task[struct{}]
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			for range 3 {
				g.Go(failer(100*time.Millisecond, errZeroDivision))
			}
			t2 = g.Go(func(ctx context.Context) error {
				if err := aio.Sleep(ctx, 5*time.Second); err != nil {
					t2Cancel = true
					return err
				}
				num++
				return nil
			})
			if err := aio.Sleep(ctx, 10*time.Second); err != nil {
				bodyCancel = true
				return err
			}
			return nil
		})
		if num != 0 || !t2Cancel || !bodyCancel || !t2.Cancelled() {
			t.Errorf("num=%d t2Cancel=%v bodyCancel=%v t2.Cancelled=%v", num, t2Cancel, bodyCancel, t2.Cancelled())
		}
		// The three failers wake in the same pass; the first to run fails
		// and the group cancels the other two before they run, so that
		// their cancellation wins over their finished sleeps, as in asyncio
		// (whose test accepts any non-empty subset: its timers can also
		// fire in different passes).
		if n := errCount(err, errZeroDivision); n != 1 {
			t.Errorf("err = %v; want 1 errZeroDivision", err)
		}
		return nil
	})
	if err != nil || took != 100*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestTaskGroupParentCancelled(t *testing.T) { // test_cancellation, _07, _17, _22
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		num := 0
		r := aio.Go(ctx, func(ctx context.Context) error {
			return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
				for range 5 {
					g.Go(func(ctx context.Context) error {
						err := aio.Sleep(ctx, 5*time.Second)
						if err != nil {
							num++
						}
						return err
					})
				}
				if err := aio.Sleep(ctx, 10*time.Second); err != nil {
					num += 10
					return err
				}
				return nil
			})
		})
		if err := aio.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
		if r.Done() {
			t.Fatal("runner done early")
		}
		r.CancelWithMessage("stop")
		_, err := r.Await(ctx)
		var ce *aio.CancelledError
		if !errors.As(err, &ce) || ce.Msg != "stop" || !r.Cancelled() {
			t.Errorf("runner err = %v; want the CancelledError with message stop", err)
		}
		if num != 15 {
			t.Errorf("num = %d; want 15", num)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskGroupErrorsDuringCancellation(t *testing.T) { // test_taskgroup_08, _11, _12
	foo := func(ctx context.Context) error {
		aio.Sleep(ctx, 10*time.Second)
		return errZeroDivision // the "finally: 1 / 0"
	}
	for _, nested := range []bool{false, true} {
		err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
			inner := func(ctx context.Context) error {
				return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
					for range 5 {
						g.Go(foo)
					}
					return aio.Sleep(ctx, 10*time.Second)
				})
			}
			r := aio.Go(ctx, func(ctx context.Context) error {
				if !nested {
					return inner(ctx)
				}
				return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
					g.Go(failer(10*time.Second, nil))
					return inner(ctx)
				})
			})
			aio.Sleep(ctx, 100*time.Millisecond)
			r.Cancel()
			_, err := r.Await(ctx)
			if n := errCount(err, errZeroDivision); n != 5 || r.Cancelled() {
				t.Errorf("nested=%v: err = %v; want 5 errZeroDivision, not a cancellation", nested, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestTaskGroupBodyError(t *testing.T) { // test_taskgroup_09, _10, _18, _19
	for _, sleepFirst := range []bool{false, true} {
		err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
			var t1, t2 *aio.Task[struct{}]
			err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
				t1 = g.Go(failer(time.Second, nil))
				t2 = g.Go(failer(2*time.Second, nil))
				if sleepFirst {
					aio.Sleep(ctx, 100*time.Millisecond)
				}
				return errZeroDivision
			})
			if errCount(err, errZeroDivision) != 1 || !t1.Cancelled() || !t2.Cancelled() {
				t.Errorf("err=%v t1=%v t2=%v", err, t1.Cancelled(), t2.Cancelled())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// A child crashes while the body is in a call that fails in its cleanup:
	// both errors are reported.
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			g.Go(failer(100*time.Millisecond, errZeroDivision))
			aio.Sleep(ctx, 10*time.Second)
			return errMy
		})
		if errCount(err, errZeroDivision) != 1 || errCount(err, errMy) != 1 {
			t.Errorf("err = %v; want errZeroDivision and errMy", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskGroupNested(t *testing.T) { // test_taskgroup_13, _14
	crashAfter := func(d time.Duration) func(context.Context) error {
		return failer(d, &valueError{d})
	}
	for _, outerFirst := range []bool{true, false} {
		err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
			err := aio.Group(ctx, func(ctx context.Context, g1 *aio.TaskGroup) error {
				d1, d2 := 100*time.Millisecond, 10*time.Second
				if !outerFirst {
					d1, d2 = d2, d1
				}
				g1.Go(crashAfter(d1))
				return aio.Group(ctx, func(ctx context.Context, g2 *aio.TaskGroup) error {
					g2.Go(crashAfter(d2))
					return nil
				})
			})
			var ve *valueError
			if !errors.As(err, &ve) || ve.d != 100*time.Millisecond {
				t.Errorf("outerFirst=%v: err = %v; want the 100ms valueError", outerFirst, err)
			}
			if errCount(err, errAnyValue) != 1 {
				t.Errorf("outerFirst=%v: err = %v; want exactly one error", outerFirst, err)
			}
			return nil
		})
		if err != nil || took != 100*time.Millisecond {
			t.Fatalf("err=%v took=%v", err, took)
		}
	}
}

var errAnyValue = errors.New("value error")

type valueError struct{ d time.Duration }

func (e *valueError) Error() string        { return "value error " + e.d.String() }
func (e *valueError) Is(target error) bool { return target == errAnyValue }

func TestTaskGroupTasksAddedWhileExiting(t *testing.T) { // test_taskgroup_23, _24, _25
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		done := 0
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			g.Go(func(ctx context.Context) error {
				if err := aio.Sleep(ctx, 100*time.Millisecond); err != nil {
					return err
				}
				for _, d := range []time.Duration{100, 200} {
					g.Go(func(ctx context.Context) error {
						err := aio.Sleep(ctx, d*time.Millisecond)
						done++
						return err
					})
				}
				return nil
			})
			return nil
		})
		if done != 2 {
			t.Errorf("done = %d; want 2", done)
		}
		return err
	})
	if err != nil || took != 300*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
	// Hydras keep adding tasks; Hercules fails; the group still ends.
	err, _, _ = vrun(t, func(ctx context.Context, tr *transcript) error {
		n := 0
		var hydra func(g *aio.TaskGroup) func(context.Context) error
		hydra = func(g *aio.TaskGroup) func(context.Context) error {
			return func(ctx context.Context) error {
				n++
				if err := aio.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
				g.Go(hydra(g))
				g.Go(hydra(g))
				return nil
			}
		}
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			g.Go(hydra(g))
			g.Go(func(ctx context.Context) error {
				for n < 10 {
					if err := aio.Sleep(ctx, 15*time.Millisecond); err != nil {
						return err
					}
				}
				return errZeroDivision
			})
			return nil
		})
		if errCount(err, errZeroDivision) != 1 || n < 10 {
			t.Errorf("err=%v n=%d", err, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskGroupNoTaskAfterFailure(t *testing.T) { // test_taskgroup_no_create_task_after_failure
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		ran := false
		var late *aio.Task[struct{}]
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			g.Go(failer(0, errZeroDivision))
			aio.Sleep(ctx, time.Second) // cancelled by the failure
			late = g.Go(func(ctx context.Context) error { ran = true; return nil })
			return nil
		})
		if ran || !late.Cancelled() {
			t.Errorf("a task started after the failure ran (%v) or was not cancelled (%v)", ran, late.Err())
		}
		if errCount(err, errZeroDivision) != 1 {
			t.Errorf("err = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskGroupFinished(t *testing.T) { // test_taskgroup_finished
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var saved *aio.TaskGroup
		aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error { saved = g; return nil })
		defer func() {
			if recover() == nil {
				t.Error("Go after the group finished did not panic")
			}
		}()
		saved.Go(func(ctx context.Context) error { return nil })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskGroupTaskName(t *testing.T) { // test_taskgroup_task_name
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			tk := g.Go(func(ctx context.Context) error { return nil }, aio.WithName("example name"))
			if tk.Name() != "example name" {
				t.Errorf("name = %q", tk.Name())
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskGroupWithoutTask(t *testing.T) { // test_taskgroup_without_parent_task
	err := aio.Group(context.Background(), func(ctx context.Context, g *aio.TaskGroup) error { return nil })
	if !errors.Is(err, aio.ErrNoTask) {
		t.Fatalf("err = %v; want ErrNoTask", err)
	}
}

func TestTaskGroupBodyPanics(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var child *aio.Task[struct{}]
		tk := aio.Go(ctx, func(ctx context.Context) error {
			return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
				child = g.Go(failer(time.Hour, nil))
				panic("boom")
			})
		})
		_, err := tk.Await(ctx)
		var pe *aio.PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" || !child.Cancelled() {
			t.Errorf("err = %v, child cancelled %v; want the panic, child cancelled", err, child.Cancelled())
		}
		return nil
	})
	if err != nil || took != 0 {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

// TestTaskGroupSpawnIn: a task of the group that returns a value, read once
// the group is done; a failure among them cancels the others as Go's do.
func TestTaskGroupSpawnIn(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var a, b *aio.Task[int]
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			a = aio.SpawnIn(g, sleeper(time.Second, 42))
			b = aio.SpawnIn(g, sleeper(2*time.Second, 11))
			return nil
		})
		if x, _ := a.Result(); x != 42 {
			t.Errorf("a = %d; want 42", x)
		}
		if x, _ := b.Result(); x != 11 {
			t.Errorf("b = %d; want 11", x)
		}
		err = aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			a = aio.SpawnIn(g, sleeper(time.Hour, 1))
			aio.SpawnIn(g, func(ctx context.Context) (int, error) { return 0, failer(time.Second, errMy)(ctx) })
			return nil
		})
		if !errors.Is(err, errMy) || !a.Cancelled() {
			t.Errorf("group: %v, sibling cancelled %v; want errMy, true", err, a.Cancelled())
		}
		return nil
	})
	if err != nil || took != 3*time.Second {
		t.Fatalf("err=%v took=%v; want nil, 3s", err, took)
	}
}

// TestTaskGroupStart: Start returns once the task says it is ready, with the
// task still running in the group; an error before ready goes to Start's
// caller, not to the group; one after ready fails the group.
func TestTaskGroupStart(t *testing.T) {
	err, took, tr := vrun(t, func(ctx context.Context, tr *transcript) error {
		err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			var port int
			err := g.Start(func(ctx context.Context, ready func()) error {
				if err := aio.Sleep(ctx, time.Second); err != nil { // binding
					return err
				}
				port = 8080
				ready()
				tr.printf("serving")
				return aio.Sleep(ctx, time.Second)
			})
			tr.printf("started: %v, port %d", err, port)
			err = g.Start(func(ctx context.Context, ready func()) error {
				return aio.Sleep(ctx, time.Second)
			})
			tr.printf("never ready: %v", errors.Is(err, aio.ErrNotStarted))
			err = g.Start(func(ctx context.Context, ready func()) error { return errMy })
			tr.printf("failed before ready: %v", errors.Is(err, errMy))
			var pe *aio.PanicError
			err = g.Start(func(ctx context.Context, ready func()) error { panic("bind failed") })
			tr.printf("panicked before ready: %v", errors.As(err, &pe) && pe.Value == "bind failed")
			return nil
		})
		tr.printf("group: %v", err)
		err = aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			g.Start(func(ctx context.Context, ready func()) error {
				ready()
				return failer(time.Second, errMy)(ctx)
			})
			return aio.Sleep(ctx, time.Hour)
		})
		tr.printf("failed after ready: %v", errors.Is(err, errMy))
		return nil
	})
	if err != nil || took != 3*time.Second {
		t.Fatalf("err=%v took=%v; want nil, 3s", err, took)
	}
	wantTranscript(t, tr, `
1s serving
1s started: <nil>, port 8080
2s never ready: true
2s failed before ready: true
2s panicked before ready: true
2s group: <nil>
3s failed after ready: true`)
}
