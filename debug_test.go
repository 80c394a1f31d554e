package aio_test

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestDebugSlowStep(t *testing.T) {
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, nil))
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		tk := aio.Go(ctx, func(ctx context.Context) error {
			time.Sleep(30 * time.Millisecond) // blocks the loop: a bug debug mode finds
			return aio.Sleep(ctx, time.Second)
		}, aio.WithName("blocker"))
		aio.LoopOf(ctx).CallSoon(func() { time.Sleep(30 * time.Millisecond) })
		_, err := tk.Await(ctx)
		return err
	}, aio.WithDebug(true, 20*time.Millisecond), aio.WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"task step held the loop too long", "task=blocker", "debug_test.go:", "callback held the loop too long"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestDebugPendingAtClose(t *testing.T) {
	defer noLeaks(t)()
	rep := newReports()
	l := aio.NewLoop(aio.WithDebug(true, 0), aio.WithExceptionHandler(rep.handle), aio.WithClock(aio.NewVirtualClock(time.Time{})))
	aio.Go(l.Context(), func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) }, aio.WithName("forgotten"))
	l.CallSoon(l.Stop)
	l.RunForever()
	l.Close()
	got := rep.all()
	if len(got) != 1 || !strings.Contains(got[0].Message, "Task was destroyed but it is pending") ||
		got[0].Task != "forgotten" || !strings.Contains(got[0].CreatedAt, "debug_test.go") || !strings.Contains(got[0].Message, "debug_test.go") {
		t.Fatalf("reports = %+v", got)
	}
}

func TestDebugNeverRetrievedHasCreationSite(t *testing.T) {
	rep := newReports()
	vrun(t, func(ctx context.Context, tr *transcript) error {
		aio.Go(ctx, failer(0, errMy))
		aio.Sleep(ctx, time.Second)
		for range 3 {
			runtime.GC()
		}
		select {
		case <-rep.ch:
		case <-time.After(10 * time.Second):
		}
		return nil
	}, aio.WithDebug(true, 0), aio.WithExceptionHandler(rep.handle), aio.WithWatchdog(-1)) // the wait above blocks the loop on purpose
	got := rep.all()
	if len(got) != 1 || !strings.Contains(got[0].CreatedAt, "debug_test.go") {
		t.Fatalf("reports = %+v", got)
	}
}

func TestDebugFromEnvironment(t *testing.T) {
	t.Setenv("AIO_DEBUG", "1")
	l := aio.NewLoop()
	defer l.Close()
	if !l.Debug() {
		t.Error("AIO_DEBUG=1 did not turn debug mode on")
	}
	l2 := aio.NewLoop(aio.WithDebug(false, 0))
	defer l2.Close()
	if l2.Debug() {
		t.Error("WithDebug(false) did not win over AIO_DEBUG")
	}
}
