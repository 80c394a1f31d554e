//go:build unix

package aionet

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

// A name may resolve to several addresses: Dial tries them in turn, as
// asyncio's create_connection does, and reports the first failure if none
// accepts.
func TestDialTriesEveryAddress(t *testing.T) {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		srv, err := StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *Stream) error { return nil })
		if err != nil {
			return err
		}
		defer srv.Close()
		closedLn, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		closed := closedLn.Addr()
		closedLn.Close() // nobody listens there now

		fd, got, err := dial(ctx, "tcp", []net.Addr{closed, srv.Addr()})
		if err != nil || got.String() != srv.Addr().String() {
			t.Errorf("dial(closed, open) = %v, %v", got, err)
		} else {
			syscall.Close(fd)
		}

		_, _, err = dial(ctx, "tcp", []net.Addr{closed, closed})
		var opErr *net.OpError
		if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &opErr) || opErr.Addr.String() != closed.String() {
			t.Errorf("dial(closed, closed) = %v", err)
		}

		// A name with one address, through the resolver.
		addrs, err := resolveAll(ctx, "tcp4", "localhost:80")
		if err != nil || len(addrs) == 0 || addrs[0].String() != "127.0.0.1:80" {
			t.Errorf(`resolveAll("localhost:80") = %v, %v`, addrs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Happy Eyeballs: when the preferred family does not answer, the other one
// is tried 300 ms later, not after a connect timeout; when it fails at once,
// the other is tried at once.
func TestDialFallsBackToTheOtherFamily(t *testing.T) {
	clk := aio.NewVirtualClock(time.Time{})
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		srv, err := StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *Stream) error { return nil })
		if err != nil {
			return err
		}
		defer srv.Close()

		// An IPv6 address that does not answer: a listener whose queue of
		// connections waiting to be accepted is full drops new SYNs.
		full, err := NewSocket(ctx, "tcp6")
		if err != nil {
			return err
		}
		defer full.Close()
		if err := full.Bind(ctx, "[::1]:0"); err != nil {
			t.Skip("no IPv6 loopback:", err)
		}
		full.Listen(1)
		for i := 0; ; i++ {
			c, err := NewSocket(ctx, "tcp6")
			if err != nil {
				return err
			}
			defer c.Close()
			err = aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
				return c.Connect(ctx, full.LocalAddr().String())
			})
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if err != nil || i > 100 {
				t.Skip("cannot make a listener that drops connections:", err)
			}
		}

		start := clk.Since()
		fd, got, err := dial(ctx, "tcp", []net.Addr{full.LocalAddr(), srv.Addr()})
		if err != nil || got.String() != srv.Addr().String() || clk.Since()-start != fallbackDelay {
			t.Errorf("dial(silent IPv6, IPv4) = %v, %v after %v", got, err, clk.Since()-start)
		} else {
			syscall.Close(fd)
		}

		closedLn, err := Listen(ctx, "tcp6", "[::1]:0")
		if err != nil {
			return err
		}
		closed := closedLn.Addr()
		closedLn.Close()
		start = clk.Since()
		fd, got, err = dial(ctx, "tcp", []net.Addr{closed, srv.Addr()})
		if err != nil || got.String() != srv.Addr().String() || clk.Since() != start {
			t.Errorf("dial(refusing IPv6, IPv4) = %v, %v after %v", got, err, clk.Since()-start)
		} else {
			syscall.Close(fd)
		}

		// Both fail: the error is the preferred family's.
		_, _, err = dial(ctx, "tcp", []net.Addr{closed, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: closed.(*net.TCPAddr).Port}})
		var opErr *net.OpError
		if !errors.As(err, &opErr) || opErr.Addr.String() != closed.String() {
			t.Errorf("dial(refusing IPv6, refusing IPv4) = %v", err)
		}
		return nil
	}, aio.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
}
