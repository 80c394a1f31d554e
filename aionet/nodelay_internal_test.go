//go:build linux

package aionet

import (
	"context"
	"testing"

	"github.com/aio-go/aio"
	"golang.org/x/sys/unix"
)

// Both ends of a TCP connection send small writes at once (TCP_NODELAY), as
// Go's net and asyncio do: a reply written in pieces is not held back
// waiting for the peer's delayed ACK.
func TestTCPNoDelay(t *testing.T) {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		accepted := make(chan *Stream, 1)
		srv, err := StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *Stream) error {
			accepted <- s
			return s.WaitClosed(ctx)
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		c, err := Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		for len(accepted) == 0 {
			aio.Yield(ctx)
		}
		for side, s := range map[string]*Stream{"dialled": c, "accepted": <-accepted} {
			v, err := unix.GetsockoptInt(s.t.(*fdTransport).fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
			if err != nil || v == 0 {
				t.Errorf("%s socket: TCP_NODELAY = %d, %v", side, v, err)
			}
		}
		return nil
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
}
