package aionet_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// limitFDs lowers the descriptor limit so that exactly one more descriptor
// can be opened, and returns what restores it.
func limitFDs(t *testing.T) (restore func()) {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	var open []int
	for _, e := range entries {
		n, _ := strconv.Atoi(e.Name())
		open = append(open, n)
	}
	// Descriptors are numbered lowest free first: allow the lowest free one
	// and no other. (The directory's own descriptor is closed by now.)
	free := 0
	for slices.Contains(open, free) {
		free++
	}
	second := free + 1
	for slices.Contains(open, second) {
		second++
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = uint64(second)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	return func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) }
}

// Out of descriptors, a server cannot accept: it reports the error, does not
// try again at every pass (the queued connection keeps the socket readable),
// and takes the connection once it can.
func TestAcceptOutOfDescriptors(t *testing.T) {
	for _, mode := range []string{"tasks", "protocol"} {
		t.Run(mode, func(t *testing.T) {
			clk := aio.NewVirtualClock(time.Time{})
			var failures []error
			handler := aio.WithExceptionHandler(func(ec aio.ExceptionContext) { failures = append(failures, ec.Err) })
			runGuarded(t, "10 s on the virtual clock did not pass: the loop retried accept without a pause", func(ctx context.Context) error {
				ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				defer ln.Close()
				if mode == "tasks" {
					srv := aionet.Serve(ctx, ln, echo)
					defer srv.Close()
				} else if err := ln.ServeProtocol(func() aionet.Protocol { return &echoProtocol{lost: func(error) {}} }); err != nil {
					return err
				}
				aio.Yield(ctx) // the server waits for connections
				restore := limitFDs(t)
				c, err := aionet.Dial(ctx, "tcp", ln.Addr().String())
				if err != nil {
					restore()
					return err
				}
				defer c.Close()
				err = aio.Sleep(ctx, 10*time.Second)
				restore()
				if err != nil {
					return err
				}
				if len(failures) == 0 || len(failures) > 11 || !errors.Is(failures[0], syscall.EMFILE) {
					t.Errorf("%d accept failures reported in 10 s with retries 1 s apart, first %v", len(failures), failures[0:min(1, len(failures))])
				}
				return aio.Timeout(ctx, 5*time.Second, func(ctx context.Context) error {
					c.Write([]byte("served\n"))
					line, err := c.ReadLine(ctx)
					if string(line) != "served\n" {
						t.Errorf("once descriptors are free: %q, %v", line, err)
					}
					return err
				})
			}, aio.WithClock(clk), handler)
		})
	}
}
