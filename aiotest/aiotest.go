// Package aiotest runs test bodies on aio loops: on a virtual clock that
// jumps whenever every task waits (Trio's autojump clock, Tokio's paused
// time), under many seeded orderings of the tasks that are ready at the same
// moment, and with a check that the body leaves no task pending, no goroutine
// running and no descriptor open. It owns the test harness only; the loop is
// package aio's.
package aiotest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// Run runs body as the main task of a loop on a virtual clock and fails t if
// body returns an error, leaves tasks pending, or leaves goroutines or
// descriptors behind once the loop is closed.
func Run(t testing.TB, body func(ctx context.Context) error, opts ...aio.Option) {
	t.Helper()
	if err := check(body, opts...); err != nil {
		t.Fatal(err)
	}
}

// Orderings runs body n times, each under a different seeded order of the
// tasks ready at the same moment (aio.WithShuffle, seeds 1 to n), as subtests
// named seed=N, and stops at the first failure: replay it with
// go test -run 'TestName/seed=N'. With AIOTEST_SEED=N in the environment only
// that seed runs.
func Orderings(t *testing.T, n int, body func(ctx context.Context) error, opts ...aio.Option) {
	t.Helper()
	first, last := uint64(1), uint64(n)
	if s := os.Getenv("AIOTEST_SEED"); s != "" {
		fmt.Sscan(s, &first)
		last = first
	}
	for seed := first; seed <= last; seed++ {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			if err := RunSeed(seed, body, opts...); err != nil {
				t.Fatalf("fails under the ordering of seed %d (replay: AIOTEST_SEED=%d or -run '%s'): %v",
					seed, seed, t.Name(), err)
			}
		})
		if !ok {
			return
		}
	}
}

// RunSeed runs body once under the ordering of seed, as Run does, and
// returns what went wrong.
func RunSeed(seed uint64, body func(ctx context.Context) error, opts ...aio.Option) error {
	return check(body, append(opts, aio.WithShuffle(seed))...)
}

// FindSeed tries seeds 1 to n and returns the first one under which body
// fails, with the failure; 0 and nil if none does.
func FindSeed(n int, body func(ctx context.Context) error, opts ...aio.Option) (uint64, error) {
	for seed := uint64(1); seed <= uint64(n); seed++ {
		if err := RunSeed(seed, body, opts...); err != nil {
			return seed, err
		}
	}
	return 0, nil
}

// check runs body and looks for what it left behind.
func check(body func(ctx context.Context) error, opts ...aio.Option) error {
	leaks := leakCheck()
	opts = append([]aio.Option{aio.WithClock(aio.NewVirtualClock(time.Time{})), aio.WithInterrupt(false)}, opts...)
	var pending []string
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		err := body(ctx)
		for _, t := range aio.AllTasks(ctx) {
			if t != aio.CurrentTask(ctx) {
				pending = append(pending, t.Name())
			}
		}
		return err
	}, opts...)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if len(pending) > 0 {
		errs = append(errs, fmt.Errorf("aiotest: tasks left pending: %s", strings.Join(pending, ", ")))
	}
	return errors.Join(append(errs, leaks())...)
}

// CheckLeaks notes the goroutines running and the descriptors open now, and
// returns a function that fails t if more are left when it is called: a
// check for code that runs loops on the real clock, which Run does not.
// Goroutines on their way out get up to 5 seconds, descriptors 5 more (a
// server in the same process closes its side when it notices: under load,
// more than a second after the client closed).
//
//	defer aiotest.CheckLeaks(t)()
func CheckLeaks(t testing.TB) func() {
	t.Helper()
	leaks := leakCheck()
	return func() {
		t.Helper()
		if err := leaks(); err != nil {
			t.Error(err)
		}
	}
}

// leakCheck notes the goroutines and descriptors there are now, and returns
// a function that reports any more.
func leakCheck() func() error {
	goroutines, fds := runtime.NumGoroutine(), openFDs()
	return func() error {
		deadline := time.Now().Add(5 * time.Second) // for goroutines on their way out
		for runtime.NumGoroutine() > goroutines {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				return fmt.Errorf("aiotest: %d goroutines left running:\n%s",
					runtime.NumGoroutine()-goroutines, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(time.Millisecond)
		}
		deadline = time.Now().Add(5 * time.Second) // for descriptors their goroutines close
		for n := openFDs(); fds >= 0 && n > fds; n = openFDs() {
			if time.Now().After(deadline) {
				return fmt.Errorf("aiotest: %d descriptors left open", n-fds)
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
}

// openFDs counts the process's open descriptors (Linux), or -1.
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}
