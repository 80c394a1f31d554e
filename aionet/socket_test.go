//go:build unix

package aionet_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// listenSocket makes a listening socket on loopback (or a temporary path).
func listenSocket(t *testing.T, ctx context.Context, network string) *aionet.Socket {
	t.Helper()
	ln, err := aionet.NewSocket(ctx, network)
	if err != nil {
		t.Fatal(err)
	}
	addr := map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0", "unix": t.TempDir() + "/s.sock"}[network]
	if err := ln.Bind(ctx, addr); err != nil {
		ln.Close()
		if network == "tcp6" {
			t.Skip("no IPv6 loopback:", err)
		}
		t.Fatal(err)
	}
	if err := ln.Listen(0); err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestSocketStream(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6", "unix"} {
		t.Run(network, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				ln := listenSocket(t, ctx, network)
				defer ln.Close()
				// The server echoes until EOF, then half-closes.
				srv := aio.Go(ctx, func(ctx context.Context) error {
					c, err := ln.Accept(ctx)
					if err != nil {
						return err
					}
					defer c.Close()
					buf := make([]byte, 7000) // not a divisor of the sizes below
					for {
						n, err := c.Recv(ctx, buf)
						if err == io.EOF {
							return c.CloseWrite()
						}
						if err != nil {
							return err
						}
						if _, err := c.Send(ctx, buf[:n]); err != nil {
							return err
						}
					}
				})
				c, err := aionet.NewSocket(ctx, network)
				if err != nil {
					return err
				}
				defer c.Close()
				if err := c.Connect(ctx, ln.LocalAddr().String()); err != nil {
					return err
				}
				if c.RemoteAddr().String() != ln.LocalAddr().String() {
					t.Errorf("RemoteAddr %v, listening on %v", c.RemoteAddr(), ln.LocalAddr())
				}
				// 4 MiB does not fit in the socket buffers: Send must wait for
				// the echo to be read, so reading runs in a task of its own.
				for _, size := range []int{1, 1000, 65536, 4 << 20} {
					msg := make([]byte, size)
					rand.Read(msg)
					got := aio.Spawn(ctx, func(ctx context.Context) ([]byte, error) {
						var got []byte
						buf := make([]byte, 64<<10)
						for len(got) < size {
							n, err := c.Recv(ctx, buf)
							if err != nil {
								return got, err
							}
							got = append(got, buf[:n]...)
						}
						return got, nil
					})
					if n, err := c.Send(ctx, msg); n != size || err != nil {
						t.Fatalf("Send(%d bytes) = %d, %v", size, n, err)
					}
					echoed, err := got.Await(ctx)
					if err != nil || !bytes.Equal(echoed, msg) {
						t.Fatalf("%d bytes: echo of %d bytes, equal %v, %v", size, len(echoed), bytes.Equal(echoed, msg), err)
					}
				}
				if err := c.CloseWrite(); err != nil {
					return err
				}
				if n, err := c.Recv(ctx, make([]byte, 10)); n != 0 || err != io.EOF {
					t.Errorf("Recv after the peer's half-close = %d, %v; want io.EOF", n, err)
				}
				_, err = srv.Await(ctx)
				return err
			})
		})
	}
}

func TestSocketDatagrams(t *testing.T) {
	run(t, func(ctx context.Context) error {
		srv, err := aionet.NewSocket(ctx, "udp4")
		if err != nil {
			return err
		}
		defer srv.Close()
		if err := srv.Bind(ctx, "127.0.0.1:0"); err != nil {
			return err
		}
		c, err := aionet.NewSocket(ctx, "udp4")
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Connect(ctx, srv.LocalAddr().String()); err != nil {
			return err
		}
		// Two tasks receive on one socket at once: each gets one datagram.
		recv := func(ctx context.Context) (string, error) {
			buf := make([]byte, 100)
			n, from, err := srv.RecvFrom(ctx, buf)
			if err == nil && from.String() != c.LocalAddr().String() {
				t.Errorf("datagram from %v, sent from %v", from, c.LocalAddr())
			}
			if _, err := srv.SendTo(ctx, append([]byte("re: "), buf[:n]...), from); err != nil {
				return "", err
			}
			return string(buf[:n]), err
		}
		a, b := aio.Spawn(ctx, recv), aio.Spawn(ctx, recv)
		aio.Yield(ctx) // both wait now
		for _, msg := range []string{"one", "two"} {
			if _, err := c.Send(ctx, []byte(msg)); err != nil {
				return err
			}
		}
		got, err := aio.Gather(ctx, a.Await, b.Await)
		if err != nil || len(got) != 2 || got[0] == got[1] {
			t.Errorf("two receivers got %q, %v", got, err)
		}
		for range 2 {
			buf := make([]byte, 100)
			n, err := c.Recv(ctx, buf)
			if err != nil || !bytes.HasPrefix(buf[:n], []byte("re: ")) {
				t.Errorf("reply %q, %v", buf[:n], err)
			}
		}
		// An empty datagram is a datagram, not the end of a stream.
		if _, err := c.Send(ctx, nil); err != nil {
			return err
		}
		if n, _, err := srv.RecvFrom(ctx, make([]byte, 10)); n != 0 || err != nil {
			t.Errorf("empty datagram: %d, %v", n, err)
		}
		return nil
	})
}

func TestSocketErrors(t *testing.T) {
	run(t, func(ctx context.Context) error {
		if _, err := aionet.NewSocket(ctx, "tcp"); err == nil {
			t.Error(`NewSocket("tcp") succeeded: it names no family`)
		}
		if _, err := aionet.NewSocket(context.Background(), "tcp4"); !errors.Is(err, aio.ErrNoTask) {
			t.Errorf("NewSocket outside a loop = %v", err)
		}

		// Nobody listens on a port just closed.
		ln := listenSocket(t, ctx, "tcp4")
		addr := ln.LocalAddr().String()
		ln.Close()
		c, err := aionet.NewSocket(ctx, "tcp4")
		if err != nil {
			return err
		}
		defer c.Close()
		err = c.Connect(ctx, addr)
		var opErr *net.OpError
		if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &opErr) || opErr.Op != "dial" {
			t.Errorf("Connect to a closed port = %v", err)
		}
		if _, err := c.Transport(nil); err == nil {
			t.Error("Transport of an unconnected socket succeeded")
		}

		// Closing a socket wakes the task waiting on it.
		ln = listenSocket(t, ctx, "tcp4")
		accept := aio.Spawn(ctx, func(ctx context.Context) (*aionet.Socket, error) { return ln.Accept(ctx) })
		aio.Yield(ctx)
		ln.Close()
		if _, err := accept.Await(ctx); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept on a socket closed meanwhile = %v", err)
		}
		if _, err := ln.Accept(ctx); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close = %v", err)
		}
		if err := ln.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		return nil
	})
}

func TestSocketRecvCancelledLosesNothing(t *testing.T) {
	clk := aio.NewVirtualClock(time.Time{})
	run(t, func(ctx context.Context) error {
		ln := listenSocket(t, ctx, "tcp4")
		defer ln.Close()
		c, err := aionet.NewSocket(ctx, "tcp4")
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Connect(ctx, ln.LocalAddr().String()); err != nil {
			return err
		}
		s, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		buf := make([]byte, 10)
		err = aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			_, err := s.Recv(ctx, buf)
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) || clk.Since() != time.Second {
			t.Errorf("Recv with nothing to read, 1 s timeout: %v after %v", err, clk.Since())
		}
		c.Send(ctx, []byte("after"))
		if n, err := s.Recv(ctx, buf); string(buf[:n]) != "after" || err != nil {
			t.Errorf("Recv after a cancelled one = %q, %v", buf[:n], err)
		}
		return nil
	}, aio.WithClock(clk))
}

// A socket handed to a Stream keeps its descriptor open for the stream.
func TestSocketToStream(t *testing.T) {
	run(t, func(ctx context.Context) error {
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", echo)
		if err != nil {
			return err
		}
		defer srv.Close()
		sock, err := aionet.NewSocket(ctx, "tcp4")
		if err != nil {
			return err
		}
		if err := sock.Bind(ctx, "127.0.0.1:0"); err != nil { // a chosen local address
			return err
		}
		local := sock.LocalAddr().String()
		if err := sock.Connect(ctx, srv.Addr().String()); err != nil {
			return err
		}
		s, err := sock.Stream()
		if err != nil {
			return err
		}
		defer s.Close()
		if _, err := sock.Send(ctx, []byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Send on a socket handed to a stream = %v", err)
		}
		if s.LocalAddr().String() != local {
			t.Errorf("stream's local address %v, bound to %v", s.LocalAddr(), local)
		}
		s.Write([]byte("hello\n"))
		line, err := s.ReadLine(ctx)
		if string(line) != "hello\n" || err != nil {
			t.Errorf("echo through the stream = %q, %v", line, err)
		}
		return nil
	})
}

// A readable socket that nobody reads must not keep the loop awake: the
// loop polls it only while a task waits on it. If it did not, the loop would
// find it ready at every pass and the virtual clock would never move on.
func TestUnreadSocketsLetTheLoopSleep(t *testing.T) {
	clk := aio.NewVirtualClock(time.Time{})
	runGuarded(t, "an hour's sleep on the virtual clock did not end: the loop never went idle", func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		pc, err := aionet.ListenPacket(ctx, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer pc.Close()
		// Something waits on each, and gives up: the watch must go too.
		aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			_, err := ln.Accept(ctx)
			return err
		})
		aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
			_, _, err := pc.ReadFrom(ctx, make([]byte, 10))
			return err
		})
		c, err := aionet.Dial(ctx, "tcp", ln.Addr().String()) // pending, not accepted
		if err != nil {
			return err
		}
		defer c.Close()
		u, err := aionet.DialPacket(ctx, "udp", pc.LocalAddr().String())
		if err != nil {
			return err
		}
		defer u.Close()
		u.Write(ctx, []byte("unread"))
		if err := aio.Sleep(ctx, time.Hour); err != nil {
			return err
		}
		// Nothing was lost meanwhile.
		s, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		s.Close()
		buf := make([]byte, 10)
		n, _, err := pc.ReadFrom(ctx, buf)
		if string(buf[:n]) != "unread" || err != nil {
			t.Errorf("datagram after the sleep: %q, %v", buf[:n], err)
		}
		return nil
	}, aio.WithClock(clk))
}

// A listener serves protocols or hands connections to Accept, not both: the
// other use gets a clear error, and a waiting Accept is not left hanging.
func TestServeProtocolExcludesAccept(t *testing.T) {
	run(t, func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		waiting := aio.Spawn(ctx, func(ctx context.Context) (*aionet.Stream, error) { return ln.Accept(ctx) })
		aio.Yield(ctx)
		factory := func() aionet.Protocol { return &echoProtocol{lost: func(error) {}} }
		if err := ln.ServeProtocol(factory); err != nil {
			return err
		}
		if _, err := waiting.Await(ctx); err == nil {
			t.Error("an Accept waiting when ServeProtocol began got a connection")
		}
		if _, err := ln.Accept(ctx); err == nil {
			t.Error("Accept on a listener serving protocols succeeded")
		}
		if err := ln.ServeProtocol(factory); err == nil {
			t.Error("a second ServeProtocol succeeded")
		}
		// And it serves.
		c, err := aionet.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("served\n"))
		if line, err := c.ReadLine(ctx); string(line) != "served\n" || err != nil {
			t.Errorf("echo through the protocol = %q, %v", line, err)
		}
		ln.Close()
		if err := ln.ServeProtocol(factory); !errors.Is(err, net.ErrClosed) {
			t.Errorf("ServeProtocol on a closed listener = %v", err)
		}
		return nil
	})
}
