//go:build unix

package aionet

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"

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
