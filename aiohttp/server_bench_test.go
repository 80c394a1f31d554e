package aiohttp_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
)

// plaintext is TechEmpower's plaintext handler, as bench/http-server has it.
func plaintext(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Server"] = []string{"aio"}
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = []string{strconv.Itoa(13)}
	w.Write([]byte("Hello, World!"))
}

// BenchmarkServer measures a keep-alive request to aio's server and to
// net/http's, from 10 clients that write raw requests and read the
// responses (the client allocates nothing, so allocs/op are the server's).
func BenchmarkServer(b *testing.B) {
	b.Run("aio", func(b *testing.B) {
		addr, stop := serveOnLoop(http.HandlerFunc(plaintext))
		defer stop()
		rawClients(b, addr, 10)
	})
	b.Run("net-http", func(b *testing.B) {
		s := httptest.NewServer(http.HandlerFunc(plaintext))
		defer s.Close()
		rawClients(b, s.Listener.Addr().String(), 10)
	})
}

func rawClients(b *testing.B, addr string, conns int) {
	req := []byte("GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n")
	var wg sync.WaitGroup
	var mu sync.Mutex
	left := b.N
	b.ReportAllocs()
	b.ResetTimer()
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for {
				mu.Lock()
				if left == 0 {
					mu.Unlock()
					return
				}
				left--
				mu.Unlock()
				if _, err := c.Write(req); err != nil {
					b.Error(err)
					return
				}
				n := 0
				for !bytes.HasSuffix(buf[:n], []byte("Hello, World!")) {
					m, err := c.Read(buf[n:])
					if err != nil && err != io.EOF || m == 0 {
						b.Error("read:", err)
						return
					}
					n += m
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkServerPipelined measures the server's own work per request: one
// connection brings requests 16 at a time (pipelined, as wrk's -s pipeline
// script sends them), so that system calls are a sixteenth of a request's
// cost and the parsing, handler and response code are the rest.
func BenchmarkServerPipelined(b *testing.B) {
	const depth = 16
	addr, stop := serveOnLoop(http.HandlerFunc(plaintext))
	defer stop()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	batch := bytes.Repeat([]byte("GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"), depth)
	buf := make([]byte, 64<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += depth {
		if _, err := c.Write(batch); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < depth; {
			n, err := c.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			got += bytes.Count(buf[:n], []byte("Hello, World!"))
		}
	}
	b.StopTimer()
}

// serveOnLoop serves h with aio's server on a loop of its own, and returns
// the address and a function that closes the server and waits for the loop
// to end.
func serveOnLoop(h http.Handler) (addr string, stop func()) {
	addrs := make(chan string, 1)
	srv := &aiohttp.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		aio.Run(context.Background(), func(ctx context.Context) error {
			ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			addrs <- ln.Addr().String()
			return srv.Serve(ctx, ln)
		}, aio.WithInterrupt(false))
	}()
	return <-addrs, func() { srv.Close(); <-done }
}
