package aio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestGather(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		// Results in argument order, whatever the completion order.
		rs, err := aio.Gather(ctx, sleeper(3*time.Second, "a"), sleeper(time.Second, "b"))
		if err != nil || fmt.Sprint(rs) != "[a b]" {
			t.Errorf("Gather = %v, %v", rs, err)
		}
		// Nothing to wait for.
		if rs, err := aio.Gather[int](ctx); err != nil || len(rs) != 0 {
			t.Errorf("empty Gather = %v, %v", rs, err)
		}
		return nil
	})
	if err != nil || took != 3*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestGatherFirstErrorOthersGoOn(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		finished := false
		slow := func(ctx context.Context) (int, error) {
			err := aio.Sleep(ctx, 3*time.Second)
			finished = err == nil
			return 1, err
		}
		bad := func(ctx context.Context) (int, error) { return 0, failer(time.Second, errMy)(ctx) }
		rs, err := aio.Gather(ctx, slow, bad)
		if err != errMy || rs != nil {
			t.Errorf("Gather = %v, %v; want errMy", rs, err)
		}
		if at := tr.clock.Since(); at != time.Second {
			t.Errorf("Gather returned at %v; want 1s", at)
		}
		aio.Sleep(ctx, 2*time.Second)
		if !finished {
			t.Error("the other task was stopped")
		}
		return nil
	})
	if err != nil || took != 3*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestGatherAll(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		cancelled := aio.Spawn(ctx, sleeper(time.Hour, 0))
		cancelled.Cancel()
		done := aio.Spawn(ctx, sleeper(0, 5))
		aio.Yield(ctx)
		rs, err := aio.GatherAll(ctx,
			sleeper(2*time.Second, 1),
			func(ctx context.Context) (int, error) { return 0, failer(time.Second, errMy)(ctx) },
			cancelled.Await, done.Await)
		if err != nil || len(rs) != 4 {
			t.Fatalf("GatherAll = %v, %v", rs, err)
		}
		if rs[0].Value != 1 || rs[0].Err != nil || rs[1].Err != errMy || !errors.Is(rs[2].Err, context.Canceled) || rs[3].Value != 5 {
			t.Errorf("GatherAll = %+v", rs)
		}
		return nil
	})
	if err != nil || took != 2*time.Second {
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestGatherCancelled(t *testing.T) { // test_gather_cancel_*: cancelling the gather cancels the children
	for _, all := range []bool{false, true} {
		err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
			cancelled, cleanup := 0, 0
			child := func(ctx context.Context) (int, error) {
				err := aio.Sleep(ctx, time.Hour)
				if errors.Is(err, context.Canceled) {
					cancelled++
				}
				aio.Sleep(aio.Cleanup(ctx), time.Second)
				cleanup++
				return 0, err
			}
			g := aio.Go(ctx, func(ctx context.Context) error {
				if all {
					_, err := aio.GatherAll(ctx, child, child, child)
					return err
				}
				_, err := aio.Gather(ctx, child, child, child)
				return err
			})
			aio.Sleep(ctx, time.Second)
			g.Cancel()
			_, err := g.Await(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("gather err = %v", err)
			}
			// GatherAll returned only after the children's cleanup.
			if all && cleanup != 3 {
				t.Errorf("cleanup = %d", cleanup)
			}
			aio.Sleep(ctx, time.Second)
			if cancelled != 3 || cleanup != 3 {
				t.Errorf("%d children cancelled, %d cleaned up; want 3", cancelled, cleanup)
			}
			return nil
		})
		if want := map[bool]time.Duration{false: 2 * time.Second, true: 3 * time.Second}[all]; err != nil || took != want {
			t.Fatalf("all=%v err=%v took=%v; want %v", all, err, took, want)
		}
	}
}

func TestGatherFutures(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		a, b := aio.NewFuture[string](ctx), aio.NewFuture[string](ctx)
		l := aio.LoopOf(ctx)
		l.CallLater(2*time.Second, func() { a.SetResult("x") })
		l.CallLater(time.Second, func() { b.SetResult("y") })
		rs, err := aio.Gather(ctx, a.Await, b.Await)
		if err != nil || fmt.Sprint(rs) != "[x y]" {
			t.Errorf("Gather(futures) = %v, %v", rs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWait(t *testing.T) {
	err, took, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		spawn := func() []*aio.Task[int] {
			return []*aio.Task[int]{
				aio.Spawn(ctx, sleeper(3*time.Second, 3)),
				aio.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, failer(2*time.Second, errMy)(ctx) }),
				aio.Spawn(ctx, sleeper(time.Second, 1)),
			}
		}
		names := func(ts []*aio.Task[int]) []int {
			var out []int
			for _, tk := range ts {
				v, err := tk.Result()
				if err != nil {
					v = -1
				}
				out = append(out, v)
			}
			return out
		}
		for _, c := range []struct {
			mode    aio.WaitMode
			timeout time.Duration
			done    []int
			npend   int
			at      time.Duration
		}{
			{aio.FirstCompleted, 0, []int{1}, 2, time.Second},
			{aio.FirstError, 0, []int{-1, 1}, 1, 2 * time.Second},
			{aio.AllCompleted, 0, []int{3, -1, 1}, 0, 3 * time.Second},
			{aio.AllCompleted, 1500 * time.Millisecond, []int{1}, 2, 1500 * time.Millisecond},
		} {
			start := tr.clock.Since()
			ts := spawn()
			done, pending, err := aio.Wait(ctx, c.mode, c.timeout, ts...)
			if err != nil || !slices.Equal(names(done), c.done) || len(pending) != c.npend || tr.clock.Since()-start != c.at {
				t.Errorf("mode %d: done %v pending %d err %v after %v", c.mode, names(done), len(pending), err, tr.clock.Since()-start)
			}
			// Wait cancels nothing.
			for _, tk := range pending {
				tk.Await(ctx)
			}
			for _, tk := range ts {
				tk.Err()
			}
		}
		// FirstError with no error falls back to all completed; nothing to
		// wait for returns at once.
		ts := []*aio.Task[int]{aio.Spawn(ctx, sleeper(time.Second, 1)), aio.Spawn(ctx, sleeper(2*time.Second, 2))}
		done, _, _ := aio.Wait(ctx, aio.FirstError, 0, ts...)
		if len(done) != 2 {
			t.Errorf("FirstError without errors: %d done", len(done))
		}
		if done, pending, err := aio.Wait(ctx, aio.FirstCompleted, 0, ts...); len(done) != 2 || len(pending) != 0 || err != nil {
			t.Errorf("Wait on done tasks: %v %v %v", done, pending, err)
		}
		return nil
	})
	if err != nil || took != 14*time.Second { // four rounds of 3 s, then 2 s
		t.Fatalf("err=%v took=%v", err, took)
	}
}

func TestAsCompletedBreakAndCancel(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		var stopped error
		slowest := func(ctx context.Context) (int, error) {
			err := aio.Sleep(ctx, 2*time.Second)
			stopped = err
			return 2, err
		}
		for v, err := range aio.AsCompleted(ctx, slowest, sleeper(time.Second, 1)) {
			if v != 1 || err != nil {
				t.Errorf("first = %v, %v", v, err)
			}
			break
		}
		aio.Yield(ctx)
		if !errors.Is(stopped, context.Canceled) {
			t.Errorf("the task left behind by break: %v; want cancelled", stopped)
		}
		// Cancelled while waiting: yields the cause once, then stops.
		slow := aio.Spawn(context.WithoutCancel(ctx), sleeper(time.Hour, 0))
		var got []error
		aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			for _, err := range aio.AsCompleted(ctx, slow.Await) {
				got = append(got, err)
			}
			return nil
		})
		if len(got) != 1 || !errors.Is(got[0], context.DeadlineExceeded) {
			t.Errorf("got %v", got)
		}
		slow.Cancel()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
