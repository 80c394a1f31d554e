package aionet_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

func TestUDPEcho(t *testing.T) {
	run(t, func(ctx context.Context) error {
		srv, err := aionet.ListenPacket(ctx, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Close()
		aio.Go(ctx, func(ctx context.Context) error {
			buf := make([]byte, 2048)
			for {
				n, from, err := srv.ReadFrom(ctx, buf)
				if err != nil {
					return nil
				}
				srv.WriteTo(ctx, append([]byte("echo "), buf[:n]...), from)
			}
		})
		c, err := aionet.DialPacket(ctx, "udp", srv.LocalAddr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		for _, msg := range []string{"one", "two", "three"} {
			if _, err := c.Write(ctx, []byte(msg)); err != nil {
				return err
			}
			buf := make([]byte, 100)
			var n int
			err := aio.Timeout(ctx, 5*time.Second, func(ctx context.Context) (err error) {
				n, _, err = c.ReadFrom(ctx, buf)
				return err
			})
			if err != nil || string(buf[:n]) != "echo "+msg {
				t.Errorf("reply to %q: %q %v", msg, buf[:n], err)
			}
		}
		srv.Close()
		if _, _, err := srv.ReadFrom(ctx, make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadFrom after Close = %v", err)
		}
		return nil
	})
}
