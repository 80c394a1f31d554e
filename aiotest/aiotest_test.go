//go:build unix

package aiotest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiotest"
)

func TestMain(m *testing.M) {
	c := make(chan os.Signal, 1) // start os/signal's own goroutine before the counts
	signal.Notify(c, os.Interrupt)
	signal.Stop(c)
	os.Exit(m.Run())
}

// racy has a bug that FIFO order hides: the checker reads a flag that the
// setter only sets after a yield; whether it sees it depends on which of two
// tasks ready at the same moment runs first.
func racy(ctx context.Context) error {
	ready := false
	setter := aio.Go(ctx, func(ctx context.Context) error {
		if err := aio.Yield(ctx); err != nil {
			return err
		}
		ready = true
		return nil
	})
	checker := aio.Go(ctx, func(ctx context.Context) error {
		if err := aio.Yield(ctx); err != nil {
			return err
		}
		if !ready {
			return errors.New("read the flag before it was set")
		}
		return nil
	})
	_, err := aio.Gather(ctx, setter.Await, checker.Await)
	return err
}

func TestOrderingsCatchARace(t *testing.T) {
	aiotest.Run(t, racy) // FIFO: passes
	seed, err := aiotest.FindSeed(100, racy)
	if seed == 0 || err == nil || !strings.Contains(err.Error(), "before it was set") {
		t.Fatalf("no seed among 100 found the race (seed %d, %v)", seed, err)
	}
	for range 3 { // the seed replays the failure, every time
		if err := aiotest.RunSeed(seed, racy); err == nil {
			t.Fatalf("seed %d did not replay the failure", seed)
		}
	}
}

func TestOrderingsPassForCorrectCode(t *testing.T) {
	aiotest.Orderings(t, 50, func(ctx context.Context) error {
		var ev aio.Event
		var mu aio.Lock
		n := 0
		return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			for range 5 {
				g.Go(func(ctx context.Context) error {
					if err := ev.Wait(ctx); err != nil {
						return err
					}
					mu.Lock(ctx)
					defer mu.Unlock()
					v := n
					aio.Yield(ctx)
					n = v + 1
					return nil
				})
			}
			g.Go(func(ctx context.Context) error { ev.Set(); return nil })
			return nil
		})
	})
}

func TestLeftovers(t *testing.T) {
	err := aiotest.RunSeed(1, func(ctx context.Context) error {
		aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) }, aio.WithName("forgotten"))
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "tasks left pending: forgotten") {
		t.Fatalf("a forgotten task = %v", err)
	}
	var fd int
	err = aiotest.RunSeed(1, func(ctx context.Context) error {
		var err error
		fd, err = syscall.Open(os.DevNull, syscall.O_RDONLY, 0) // never closed
		return err
	})
	syscall.Close(fd)
	if err == nil || !strings.Contains(err.Error(), "descriptors") {
		t.Fatalf("a descriptor left open = %v", err)
	}
}

func TestVirtualClock(t *testing.T) {
	start := time.Now()
	aiotest.Run(t, func(ctx context.Context) error {
		return aio.Sleep(ctx, 24*time.Hour) // a day, in no time
	})
	if time.Since(start) > 10*time.Second {
		t.Fatal("the clock did not jump")
	}
}

// recorder is a testing.TB that notes failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }

func TestCheckLeaks(t *testing.T) {
	r := &recorder{TB: t}
	check := aiotest.CheckLeaks(r)
	stop := make(chan struct{})
	for range 10 { // ten, so that goroutines of earlier tests ending meanwhile cannot hide them
		go func() { <-stop }()
	}
	check() // waits 5 s for them, then reports them
	close(stop)
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "goroutines left running") {
		t.Errorf("goroutines left running: %q", r.errors)
	}
	r.errors = nil
	check = aiotest.CheckLeaks(r)
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	check()
	if len(r.errors) != 0 {
		t.Errorf("nothing left: %q", r.errors)
	}
}
