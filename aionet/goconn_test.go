package aionet_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiotest"
)

// runLoop runs a loop on a goroutine of its own until the test ends, for
// goroutine-based code to use.
func runLoop(t *testing.T) *aio.Loop {
	t.Helper()
	check := aiotest.CheckLeaks(t)
	loops := make(chan *aio.Loop, 1)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- aio.Run(context.Background(), func(ctx context.Context) error {
			loops <- aio.LoopOf(ctx)
			_, _, err := aio.Recv(ctx, stop)
			return err
		}, aio.WithInterrupt(false))
	}()
	l := <-loops
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Error(err)
		}
		check()
	})
	return l
}

// TestGoConnUnderNetHTTP: net/http's Transport, which reads and writes its
// connections from goroutines of its own, over the loop's sockets (it crashed
// the process or froze the loop with Conn); 100 requests, kept alive.
func TestGoConnUnderNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(body))
	}))
	defer srv.Close()
	l := runLoop(t)
	tr := &http.Transport{DialContext: aionet.GoDialer(l)}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for i := range 100 {
		resp, err := client.Get(fmt.Sprintf("%s/%d", srv.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("GET /%d 0", i); err != nil || string(b) != want {
			t.Fatalf("got %q %v; want %q", b, err, want)
		}
	}
}

// TestGoConnTLSHandshakeContext: crypto/tls over a GoConn, its handshake
// bounded by a context (crypto/tls closes the connection from a goroutine of
// its own when the context ends: a data race and a hang with Conn).
func TestGoConnTLSHandshakeContext(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	stalled, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	l := runLoop(t)
	dial := aionet.GoDialer(l)
	for range 100 {
		c, err := dial(context.Background(), "tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := tc.HandshakeContext(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		tc.Close()
	}
	c, err := dial(context.Background(), "tcp", stalled.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tls.Client(c, &tls.Config{InsecureSkipVerify: true}).HandshakeContext(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("handshake with a stalled peer = %v after %v; want the context's deadline, promptly", err, time.Since(start))
	}
}

// BenchmarkGoConnHTTP: a keep-alive GET through net/http's Transport over a
// GoConn, against the same over Go's own sockets.
func BenchmarkGoConnHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	get := func(b *testing.B, tr *http.Transport) {
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.Get(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("GoConn", func(b *testing.B) {
		loops := make(chan *aio.Loop, 1)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			aio.Run(context.Background(), func(ctx context.Context) error {
				loops <- aio.LoopOf(ctx)
				aio.Recv(ctx, stop)
				return nil
			}, aio.WithInterrupt(false))
		}()
		get(b, &http.Transport{DialContext: aionet.GoDialer(<-loops)})
		close(stop)
		<-done
	})
	b.Run("net", func(b *testing.B) { get(b, &http.Transport{}) })
}

// TestConnFromAGoroutine: a Conn (for tasks) handed to net/http's
// Transport, which reads and writes from goroutines of its own, gets a clear
// error at every call: 100 requests fail with aio.ErrWrongGoroutine, nothing
// crashes, and the loop serves on. (It crashed the process with a nil
// dereference in the task's park, returned ErrNoTask, or froze the loop.)
func TestConnFromAGoroutine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	l := runLoop(t)
	wrong := func(ctx context.Context, network, address string) (net.Conn, error) {
		s, err := aio.Submit(l, func(ctx context.Context) (*aionet.Stream, error) {
			return aionet.Dial(ctx, network, address)
		}).Wait(ctx)
		if err != nil {
			return nil, err
		}
		return s.Conn(), nil // the task adapter, used from goroutines
	}
	tr := &http.Transport{DialContext: wrong, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	wrongG := 0
	for range 100 {
		_, err := (&http.Client{Transport: tr}).Get(srv.URL)
		switch {
		case errors.Is(err, aio.ErrWrongGoroutine):
			wrongG++
		case errors.Is(err, net.ErrClosed):
			// net/http's other goroutine saw the connection its first
			// call's ErrWrongGoroutine had it close: net/http reports that.
		default:
			t.Fatalf("GET through a Conn from goroutines = %v; want aio.ErrWrongGoroutine", err)
		}
	}
	if wrongG == 0 {
		t.Error("no request reported aio.ErrWrongGoroutine")
	}
	// The loop is fine: it still serves.
	got, err := aio.Submit(l, func(ctx context.Context) (string, error) {
		return "alive", aio.Sleep(ctx, time.Millisecond)
	}).Wait(context.Background())
	if got != "alive" || err != nil {
		t.Errorf("the loop after: %q %v", got, err)
	}
}
