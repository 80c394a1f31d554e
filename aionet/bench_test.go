package aionet_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"testing"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// BenchmarkEcho measures request-response round trips over loopback TCP: ten
// client connections (goroutines with net.Conn) against an echo server on
// one aio loop, and against Go's goroutine-per-connection server with the
// same handler buffer, in the same run. Compare the two lines of a size, not
// across machines: client and server share the processors.
func BenchmarkEcho(b *testing.B) {
	servers := []struct {
		name  string
		start func(b *testing.B) (addr string, stop func())
	}{{"aio", startAioEcho}, {"gonet", startGoEcho}}
	for _, size := range []int{1 << 10, 100 << 10} {
		for _, srv := range servers {
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, srv.name), func(b *testing.B) {
				addr, stop := srv.start(b)
				defer stop()
				echoClients(b, addr, size, 10)
			})
		}
	}
}

// startAioEcho runs the echo handler of the tests on a loop of its own.
func startAioEcho(b *testing.B) (string, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- aio.Run(ctx, func(ctx context.Context) error {
			srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", echo)
			if err != nil {
				return err
			}
			defer srv.Close()
			addr <- srv.Addr().String()
			return aio.Sleep(ctx, math.MaxInt64) // serve until the benchmark ends
		})
	}()
	select {
	case a := <-addr:
		return a, func() { cancel(); <-done }
	case err := <-done:
		cancel()
		b.Fatal(err)
		return "", nil
	}
}

// startGoEcho is the peer: a goroutine per connection, blocking reads and
// writes through Go's netpoller, the same 32 KiB buffer as echo.
func startGoEcho(b *testing.B) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 32*1024)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String(), func() { ln.Close(); wg.Wait() }
}

// echoClients sends b.N messages of size bytes over conns connections, one
// message in flight per connection, and reads each echo back in full.
func echoClients(b *testing.B, addr string, size, conns int) {
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i, c := range cs {
		n := b.N / conns
		if i < b.N%conns {
			n++
		}
		wg.Go(func() {
			buf := make([]byte, size)
			for range n {
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	for _, c := range cs {
		c.Close() // the server side ends its handler on EOF
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
