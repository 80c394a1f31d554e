package aio_test

// Task and future semantics, many of them from CPython's test_tasks.py.

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestTaskCancelBeforeStart(t *testing.T) { // test_cancel, test_cancel_at_start
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		ran := false
		tk := aio.Go(ctx, func(ctx context.Context) error { ran = true; return nil })
		if !tk.CancelWithMessage("early") {
			t.Error("Cancel of a pending task reported false")
		}
		_, err := tk.Await(ctx)
		var ce *aio.CancelledError
		if ran || !tk.Cancelled() || !errors.As(err, &ce) || ce.Msg != "early" || !errors.Is(err, context.Canceled) {
			t.Errorf("ran=%v cancelled=%v err=%v", ran, tk.Cancelled(), err)
		}
		if tk.Cancel() {
			t.Error("Cancel of a done task reported true")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskCancelWhileSuspended(t *testing.T) { // test_cancel_with_message_then_future_result
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var sleepErr error
		var taskCtx context.Context
		tk := aio.Go(ctx, func(ctx context.Context) error {
			taskCtx = ctx
			sleepErr = aio.Sleep(ctx, time.Hour)
			return sleepErr
		})
		aio.Sleep(ctx, time.Second)
		tk.CancelWithMessage("my message")
		_, err := tk.Await(ctx)
		var ce *aio.CancelledError
		if !errors.As(err, &ce) || ce.Msg != "my message" || sleepErr != err {
			t.Errorf("err=%v sleepErr=%v", err, sleepErr)
		}
		if taskCtx.Err() != context.Canceled || context.Cause(taskCtx) != err {
			t.Errorf("task context Err=%v Cause=%v", taskCtx.Err(), context.Cause(taskCtx))
		}
		return nil
	})
	if err != nil || took != time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestTaskSwallowsCancellation(t *testing.T) { // test_cancel_yield / a task that handles its cancellation
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		tk := aio.Spawn(ctx, func(ctx context.Context) (int, error) {
			if err := aio.Sleep(ctx, time.Hour); err != nil {
				// Level-triggered: further Awaits with ctx fail at once too.
				if err2 := aio.Yield(ctx); err2 != err {
					t.Errorf("second await = %v; want %v", err2, err)
				}
				return 42, nil
			}
			return 0, nil
		})
		aio.Yield(ctx)
		tk.Cancel()
		v, err := tk.Await(ctx)
		if v != 42 || err != nil || tk.Cancelled() {
			t.Errorf("v=%d err=%v cancelled=%v", v, err, tk.Cancelled())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskCancelReachesChildren(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var child, detached *aio.Task[struct{}]
		parent := aio.Go(ctx, func(ctx context.Context) error {
			child = aio.Go(ctx, failer(time.Hour, nil))
			detached = aio.Go(context.WithoutCancel(ctx), failer(time.Hour, nil))
			return aio.Sleep(ctx, time.Hour)
		})
		aio.Sleep(ctx, time.Second)
		parent.Cancel()
		if _, err := child.Await(ctx); !child.Cancelled() || !errors.Is(err, context.Canceled) {
			t.Errorf("child err = %v", err)
		}
		if detached.Done() {
			t.Error("a task spawned with WithoutCancel was cancelled with its parent")
		}
		detached.Cancel()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A task spawned under a finished parent still hears its grandparent.
	err, _, _ = vrun(t, func(ctx context.Context, tr *transcript) error {
		var child *aio.Task[struct{}]
		middle := aio.Go(ctx, func(ctx context.Context) error {
			aio.Go(ctx, func(ctx context.Context) error {
				child = aio.Go(ctx, failer(time.Hour, nil))
				return nil
			})
			return aio.Sleep(ctx, time.Hour)
		})
		aio.Sleep(ctx, time.Second)
		middle.Cancel()
		_, err := child.Await(ctx)
		if !child.Cancelled() || !errors.Is(err, context.Canceled) {
			t.Errorf("grandchild err = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskAwaitWithDerivedContext(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		type key struct{}
		vctx := context.WithValue(ctx, key{}, "v")
		var got any
		tk := aio.Go(vctx, func(ctx context.Context) error {
			got = ctx.Value(key{})
			return aio.Sleep(context.WithValue(ctx, key{}, "w"), time.Hour)
		})
		aio.Sleep(ctx, time.Second)
		tk.Cancel()
		if _, err := tk.Await(ctx); !errors.Is(err, context.Canceled) || got != "v" {
			t.Errorf("err=%v value=%v", err, got)
		}
		// A standard library context, cancelled by another task.
		std, cancel := context.WithCancelCause(ctx)
		aio.LoopOf(ctx).CallLater(time.Second, func() { cancel(errMy) })
		if err := aio.Sleep(std, time.Hour); err != errMy {
			t.Errorf("sleep with a derived context: %v; want errMy", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskAwaitSelf(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var self *aio.Task[int]
		self = aio.Spawn(ctx, func(ctx context.Context) (int, error) { return self.Await(ctx) })
		if _, err := self.Await(ctx); err == nil || !strings.Contains(err.Error(), "itself") {
			t.Errorf("err = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTaskPanic(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		tk := aio.Go(ctx, func(ctx context.Context) error {
			aio.Yield(ctx)
			panicker()
			return nil
		})
		other := aio.Spawn(ctx, sleeper(time.Second, "still here"))
		_, err := tk.Await(ctx)
		var pe *aio.PanicError
		if !errors.As(err, &pe) || !errors.Is(err, errMy) || !strings.Contains(string(pe.Stack), "panicker") {
			t.Errorf("err = %v", err)
		}
		if v, err := other.Await(ctx); v != "still here" || err != nil {
			t.Errorf("other task: %q %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func panicker() { panic(errMy) }

func TestLoopCallbackPanicIsNotSwallowed(t *testing.T) {
	defer noLeaks(t)()
	l := aio.NewLoop()
	defer l.Close()
	l.CallSoon(func() { panic("in the loop") })
	defer func() {
		if r := recover(); r != "in the loop" {
			t.Fatalf("recovered %v", r)
		}
		if l.IsRunning() {
			t.Error("loop still marked running")
		}
	}()
	l.RunForever()
}

// reports collects what reaches the exception handler.
type reports struct {
	mu  sync.Mutex
	got []aio.ExceptionContext
	ch  chan struct{}
}

func newReports() *reports { return &reports{ch: make(chan struct{}, 100)} }

func (r *reports) handle(ec aio.ExceptionContext) {
	r.mu.Lock()
	r.got = append(r.got, ec)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *reports) all() []aio.ExceptionContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]aio.ExceptionContext(nil), r.got...)
}

func TestUnretrievedFailureReported(t *testing.T) {
	t.Run("at close", func(t *testing.T) {
		rep := newReports()
		var keep *aio.Task[struct{}]
		vrun(t, func(ctx context.Context, tr *transcript) error {
			keep = aio.Go(ctx, failer(0, errMy), aio.WithName("dropped"))
			seen := aio.Go(ctx, failer(0, errZeroDivision))
			err := aio.Sleep(ctx, time.Second)
			seen.Err() // retrieved: not reported
			return err
		}, aio.WithExceptionHandler(rep.handle))
		got := rep.all()
		if len(got) != 1 || got[0].Err != errMy || got[0].Task != "dropped" || got[0].Message != "Task exception was never retrieved" {
			t.Fatalf("reports = %+v", got)
		}
		runtime.KeepAlive(keep)
	})
	t.Run("while the loop runs", func(t *testing.T) {
		// Nobody collects garbage: the loop asks for a collection when it
		// goes idle with a failure unretrieved, and reports it then, with
		// where the task was created (debug mode).
		rep := newReports()
		vrun(t, func(ctx context.Context, tr *transcript) error {
			aio.Go(ctx, failer(0, errMy), aio.WithName("dropped"))
			_, _, err := aio.Recv(ctx, rep.ch) // the loop idles until the report
			return err
		}, aio.WithExceptionHandler(rep.handle), aio.WithDebug(true, time.Hour))
		if got := rep.all(); len(got) != 1 || got[0].Err != errMy || !strings.Contains(got[0].CreatedAt, "task_test.go") {
			t.Fatalf("reports = %+v", got)
		}
	})
	t.Run("when collected", func(t *testing.T) {
		rep := newReports()
		vrun(t, func(ctx context.Context, tr *transcript) error {
			aio.Go(ctx, failer(0, errMy))
			if err := aio.Sleep(ctx, time.Second); err != nil {
				return err
			}
			for range 3 {
				runtime.GC()
			}
			select {
			case <-rep.ch:
			case <-time.After(10 * time.Second):
				t.Error("no report after the failed task was collected")
			}
			return nil
		}, aio.WithExceptionHandler(rep.handle), aio.WithWatchdog(-1)) // the wait above blocks the loop on purpose
		if got := rep.all(); len(got) != 1 || got[0].Err != errMy {
			t.Fatalf("reports = %+v", got)
		}
	})
	t.Run("cancellations are not failures", func(t *testing.T) {
		rep := newReports()
		vrun(t, func(ctx context.Context, tr *transcript) error {
			tk := aio.Go(ctx, failer(time.Hour, nil))
			aio.Yield(ctx)
			tk.Cancel()
			aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
				aio.Go(ctx, failer(time.Hour, nil)) // cancelled by the timeout
				return nil
			})
			return aio.Sleep(ctx, 2*time.Second)
		}, aio.WithExceptionHandler(rep.handle))
		if got := rep.all(); len(got) != 0 {
			t.Fatalf("reports = %+v", got)
		}
	})
}

func TestAwaitOutsideTask(t *testing.T) {
	defer noLeaks(t)()
	if err := aio.Sleep(context.Background(), time.Second); !errors.Is(err, aio.ErrNoTask) {
		t.Errorf("Sleep(Background) = %v", err)
	}
	if tk := aio.Go(context.Background(), func(context.Context) error { return nil }); !errors.Is(tk.Err(), aio.ErrNoTask) {
		t.Errorf("Go(Background) = %v", tk.Err())
	}
	l := aio.NewLoop(aio.WithClock(aio.NewVirtualClock(time.Time{})))
	var cbErr, goroutineErr error
	var taskCtx context.Context
	tk := aio.Go(l.Context(), func(ctx context.Context) error {
		taskCtx = ctx
		l.CallSoon(func() { cbErr = aio.Sleep(ctx, time.Second) })
		return aio.Sleep(ctx, 2*time.Second)
	})
	if err := l.RunUntilComplete(tk); err != nil || tk.Err() != nil {
		t.Fatal(err, tk.Err())
	}
	if !errors.Is(cbErr, aio.ErrNoTask) {
		t.Errorf("Sleep in a callback = %v", cbErr)
	}
	l.Close()
	done := make(chan struct{})
	go func() { goroutineErr = aio.Sleep(taskCtx, time.Second); close(done) }()
	<-done
	if !errors.Is(goroutineErr, aio.ErrClosed) {
		t.Errorf("Sleep after close = %v", goroutineErr)
	}
	if err := l.RunForever(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("RunForever after close = %v", err)
	}
	if tk := aio.Go(taskCtx, func(context.Context) error { return nil }); !errors.Is(tk.Err(), aio.ErrClosed) {
		t.Errorf("Go on a closed loop = %v", tk.Err())
	}
	if err := l.CallSoonThreadsafe(func() {}); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("CallSoonThreadsafe after close = %v", err)
	}
}

func TestTaskNamesAndIntrospection(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		if n := aio.CurrentTask(ctx).Name(); n != "main" {
			t.Errorf("main task name %q", n)
		}
		a := aio.Go(ctx, failer(time.Second, nil))
		b := aio.Go(ctx, failer(2*time.Second, nil), aio.WithName("b"))
		if a.Name() != "Task-2" || b.Name() != "b" {
			t.Errorf("names %q %q", a.Name(), b.Name())
		}
		if n := len(aio.AllTasks(ctx)); n != 3 {
			t.Errorf("AllTasks = %d; want 3", n)
		}
		var inside string
		aio.Go(ctx, func(ctx context.Context) error { inside = aio.CurrentTask(ctx).Name(); return nil }, aio.WithName("c")).Await(ctx)
		if inside != "c" {
			t.Errorf("CurrentTask inside c = %q", inside)
		}
		a.Await(ctx)
		if n := len(aio.AllTasks(ctx)); n != 2 {
			t.Errorf("AllTasks after a finished = %d; want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFuture(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		f := aio.NewFuture[int](ctx)
		if _, err := f.Result(); err != aio.ErrNotDone || f.Done() {
			t.Errorf("Result of a pending future: %v", err)
		}
		var order []string
		f.OnDone(func() { order = append(order, "first") })
		stop := f.OnDone(func() { order = append(order, "removed") })
		f.OnDone(func() { order = append(order, "second") })
		if !stop() || stop() {
			t.Error("stop should report true once")
		}
		waiters := make([]*aio.Task[int], 3)
		for i := range waiters {
			waiters[i] = aio.Spawn(ctx, f.Await)
		}
		aio.Yield(ctx)
		if !f.SetResult(7) || f.SetResult(8) || f.SetError(errMy) || f.Cancel() {
			t.Error("a future settles once")
		}
		if len(order) != 0 {
			t.Error("done callbacks ran synchronously")
		}
		rs, err := aio.Gather(ctx, waiters[0].Await, waiters[1].Await, waiters[2].Await)
		if err != nil || rs[0] != 7 || rs[2] != 7 {
			t.Errorf("waiters got %v %v", rs, err)
		}
		if strings.Join(order, ",") != "first,second" {
			t.Errorf("callbacks %v", order)
		}
		late := false
		f.OnDone(func() { late = true })
		aio.Yield(ctx)
		if !late {
			t.Error("OnDone on a done future did not run")
		}
		g := aio.NewFuture[string](ctx)
		g.CancelWithMessage("nope")
		if _, err := g.Await(ctx); !g.Cancelled() || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled future: %v", err)
		}
		h := aio.NewFuture[string](ctx)
		h.SetError(errMy)
		if _, err := h.Await(ctx); err != errMy {
			t.Errorf("failed future: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunCancelsLeftoverTasks(t *testing.T) {
	rep := newReports()
	cleaned := 0
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		for range 3 {
			aio.Go(ctx, func(ctx context.Context) error {
				err := aio.Sleep(ctx, time.Hour)
				aio.Sleep(context.WithoutCancel(ctx), time.Second) // cleanup that awaits
				cleaned++
				return err
			})
		}
		aio.Go(ctx, func(ctx context.Context) error {
			aio.Sleep(ctx, time.Hour)
			return errMy // fails during shutdown
		})
		return aio.Sleep(ctx, time.Second)
	}, aio.WithExceptionHandler(rep.handle))
	if err != nil || cleaned != 3 || took != 2*time.Second {
		t.Fatalf("err=%v cleaned=%d took=%v", err, cleaned, took)
	}
	if got := rep.all(); len(got) != 1 || got[0].Err != errMy || !strings.Contains(got[0].Message, "shutdown") {
		t.Fatalf("reports = %+v", got)
	}
}

func TestRunContextCancelled(t *testing.T) {
	defer noLeaks(t)()
	ctx, cancel := context.WithCancelCause(context.Background())
	err := aio.Run(ctx, func(ctx context.Context) error {
		go cancel(errMy) // from another goroutine, while main waits
		_, err := aio.NewFuture[int](ctx).Await(ctx)
		return err
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})))
	if err != errMy {
		t.Fatalf("Run = %v; want the context's cause", err)
	}
	// Already cancelled: main never runs.
	ran := false
	err = aio.Run(ctx, func(ctx context.Context) error { ran = true; return nil })
	if ran || err != errMy {
		t.Fatalf("ran=%v err=%v", ran, err)
	}
}

func TestNestedRun(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		if err := aio.Run(ctx, func(context.Context) error { return nil }); err != aio.ErrNestedRun {
			t.Errorf("nested Run = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGoexitInTask(t *testing.T) {
	defer noLeaks(t)()
	var tk *aio.Task[struct{}]
	var sibling *aio.Task[struct{}]
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		aio.Run(context.Background(), func(ctx context.Context) error {
			sibling = aio.Go(ctx, func(ctx context.Context) error {
				defer func() {}()
				return aio.Sleep(ctx, time.Hour)
			})
			tk = aio.Go(ctx, func(ctx context.Context) error { runtime.Goexit(); return nil })
			_, err := tk.Await(ctx)
			return err
		}, aio.WithClock(aio.NewVirtualClock(time.Time{})), aio.WithExceptionHandler(func(aio.ExceptionContext) {}))
		t.Error("Run returned after a Goexit")
	}()
	<-exited
	if !errors.Is(tk.Err(), aio.ErrGoexit) || !errors.Is(sibling.Err(), aio.ErrClosed) {
		t.Fatalf("task err %v, sibling err %v", tk.Err(), sibling.Err())
	}
}

// TestUnretrievedFailureReportedAfterItsLastReference: a failed task still
// referenced when the idle loop first asks for a collection is reported once
// the reference goes, at the loop's next ask (a second later), not at the
// runtime's own collection two minutes later. Real clock, bounded.
func TestUnretrievedFailureReportedAfterItsLastReference(t *testing.T) {
	rep := newReports()
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		held := aio.Go(ctx, failer(0, errMy), aio.WithName("held"))
		if err := aio.Sleep(ctx, 300*time.Millisecond); err != nil { // idle: the loop asks for a collection, held is reachable
			return err
		}
		runtime.KeepAlive(held)
		held = nil
		err := aio.Timeout(ctx, 10*time.Second, func(ctx context.Context) error {
			_, _, err := aio.Recv(ctx, rep.ch)
			return err
		})
		if err != nil {
			t.Errorf("no report within 10 s of the last reference going: %v", err)
		}
		return nil
	}, aio.WithExceptionHandler(rep.handle), aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
}
