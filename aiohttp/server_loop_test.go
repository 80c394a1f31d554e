package aiohttp_test

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiotest"
)

// serveTask starts srv in a task of the loop of ctx and returns its base URL
// and the task, whose value is what Serve returned.
func serveTask(t *testing.T, ctx context.Context, srv *aiohttp.Server) (string, *aio.Task[error]) {
	t.Helper()
	ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	task := aio.Spawn(ctx, func(ctx context.Context) (error, error) { return srv.Serve(ctx, ln), nil })
	return "http://" + ln.Addr().String(), task
}

// stopServer closes srv and waits until its connections are gone.
func stopServer(ctx context.Context, srv *aiohttp.Server) {
	srv.Close()
	srv.Shutdown(ctx)
}

// rawConn dials the server of base from the loop and writes raw.
func rawConn(ctx context.Context, base, raw string) (*aionet.Stream, error) {
	s, err := aionet.Dial(ctx, "tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return nil, err
	}
	s.Write([]byte(raw))
	return s, nil
}

// readAll reads s until the server closes it.
func readAll(ctx context.Context, s *aionet.Stream) (string, error) {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := s.Read(ctx, buf)
		b.Write(buf[:n])
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
	}
}

// TestHandlersAwait: 1,000 keep-alive clients at once, each making three
// requests whose handler awaits a sleep and shares a counter with no mutex;
// every request succeeds and they all run at once on the loop.
func TestHandlersAwait(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var inFlight, most, served int
		mux := http.NewServeMux()
		mux.HandleFunc("GET /slow/{id}", func(w http.ResponseWriter, r *http.Request) {
			inFlight++
			most = max(most, inFlight)
			defer func() { inFlight-- }()
			if err := aio.Sleep(r.Context(), time.Second); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			served++
			fmt.Fprintf(w, "slow %s", r.PathValue("id"))
		})
		srv := &aiohttp.Server{Handler: mux}
		base, serving := serveTask(t, ctx, srv)
		client := &aiohttp.Session{Limit: 1000}
		defer client.Close()
		start := aio.LoopOf(ctx).Now()
		const clients, each = 1000, 3
		err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for i := range clients {
				tg.Go(func(ctx context.Context) error {
					for j := range each {
						resp, err := client.Get(ctx, fmt.Sprintf("%s/slow/%d-%d", base, i, j))
						if err != nil {
							return err
						}
						text, err := resp.Text(ctx)
						if err != nil {
							return err
						}
						if want := fmt.Sprintf("slow %d-%d", i, j); resp.StatusCode != 200 || text != want {
							return fmt.Errorf("got %d %q, want 200 %q", resp.StatusCode, text, want)
						}
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if took := aio.LoopOf(ctx).Now().Sub(start); took != each*time.Second {
			t.Errorf("took %v on the loop's clock; want %v (the handlers ran at once)", took, each*time.Second)
		}
		if served != clients*each || most != clients {
			t.Errorf("served %d, at most %d at once; want %d and %d", served, most, clients*each, clients)
		}
		if err := srv.Shutdown(ctx); err != nil {
			return err
		}
		if err, _ := serving.Await(ctx); err != nil {
			t.Errorf("Serve returned %v; want nil", err)
		}
		return nil
	})
}

// TestTimeouts: each of the server's timeouts cuts off a client that does
// not keep up, at the moment it says, on the loop's virtual clock.
func TestServerTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		srv   *aiohttp.Server
		raw   string
		read  bool          // whether the client reads the response
		after time.Duration // when the server should close the connection
		want  string        // a prefix of what the client reads
	}{
		{"slowloris header", &aiohttp.Server{ReadHeaderTimeout: 5 * time.Second},
			"GET / HTTP/1.1\r\nHost: x\r\nX-Slow:", true, 5 * time.Second, ""},
		{"ReadTimeout covers the header", &aiohttp.Server{ReadTimeout: 7 * time.Second},
			"GET / HTTP/1.1\r\n", true, 7 * time.Second, ""},
		{"silent connection", &aiohttp.Server{ReadHeaderTimeout: 3 * time.Second},
			"", true, 3 * time.Second, ""},
		{"body that never ends", &aiohttp.Server{ReadTimeout: 4 * time.Second},
			"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", true, 4 * time.Second,
			"HTTP/1.1 400 Bad Request"},
		{"idle keep-alive", &aiohttp.Server{IdleTimeout: 30 * time.Second, ReadTimeout: 2 * time.Second},
			"GET /hi HTTP/1.1\r\nHost: x\r\n\r\n", true, 30 * time.Second, "HTTP/1.1 200 OK"},
		{"client that never reads", &aiohttp.Server{WriteTimeout: 6 * time.Second},
			"GET /flood HTTP/1.1\r\nHost: x\r\n\r\n", false, 6 * time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aiotest.Run(t, func(ctx context.Context) error {
				var handlerErr error
				var flooded aio.Event
				mux := http.NewServeMux()
				mux.HandleFunc("/hi", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
				mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
					if _, err := io.ReadAll(r.Body); err != nil {
						handlerErr = err
						http.Error(w, err.Error(), http.StatusBadRequest)
					}
				})
				mux.HandleFunc("/flood", func(w http.ResponseWriter, r *http.Request) {
					defer flooded.Set()
					chunk := make([]byte, 64<<10)
					for range 1 << 14 { // 1 GiB: more than any socket buffer
						if _, err := w.Write(chunk); err != nil {
							handlerErr = err
							return
						}
					}
				})
				srv := tt.srv
				srv.Handler = mux
				base, _ := serveTask(t, ctx, srv)
				defer stopServer(ctx, srv)
				start := aio.LoopOf(ctx).Now()
				s, err := rawConn(ctx, base, tt.raw)
				if err != nil {
					return err
				}
				defer s.Close()
				if !tt.read {
					if err := flooded.Wait(ctx); err != nil {
						return err
					}
				} else {
					got, err := readAll(ctx, s)
					if err != nil && !errors.Is(err, aionet.ErrClosed) {
						t.Logf("read: %v", err)
					}
					if !strings.HasPrefix(got, tt.want) {
						t.Errorf("read %q; want it to start with %q", got, tt.want)
					}
				}
				if took := aio.LoopOf(ctx).Now().Sub(start); took != tt.after {
					t.Errorf("the server closed after %v; want %v", took, tt.after)
				}
				switch tt.name {
				case "body that never ends":
					if !errors.Is(handlerErr, os.ErrDeadlineExceeded) {
						t.Errorf("the handler's read failed with %v; want os.ErrDeadlineExceeded", handlerErr)
					}
				case "client that never reads":
					if handlerErr == nil {
						t.Errorf("the handler's writes never failed")
					}
				}
				return nil
			})
		})
	}
}

// TestShutdown: Shutdown stops accepting, closes idle connections at once,
// lets the requests in flight finish with complete responses, then returns.
func TestShutdown(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var started aio.Event
		mux := http.NewServeMux()
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			started.Set()
			if err := aio.Sleep(r.Context(), 2*time.Second); err != nil {
				return
			}
			io.WriteString(w, "finished")
		})
		mux.HandleFunc("/hi", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
		srv := &aiohttp.Server{Handler: mux}
		base, serving := serveTask(t, ctx, srv)
		l := aio.LoopOf(ctx)

		// An idle keep-alive connection, and ten requests in flight.
		idle, err := rawConn(ctx, base, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			return err
		}
		defer idle.Close()
		if _, err := idle.ReadUntil(ctx, []byte("hi")); err != nil {
			return err
		}
		var busy []*aionet.Stream
		for range 10 {
			s, err := rawConn(ctx, base, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
			if err != nil {
				return err
			}
			defer s.Close()
			busy = append(busy, s)
		}
		if err := started.Wait(ctx); err != nil {
			return err
		}
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return err
		}
		start := l.Now()
		shut := aio.Go(ctx, srv.Shutdown)
		if rest, err := readAll(ctx, idle); rest != "" || err != nil {
			t.Errorf("the idle connection read %q, %v; want it closed", rest, err)
		}
		if took := l.Now().Sub(start); took != 0 {
			t.Errorf("the idle connection closed after %v; want at once", took)
		}
		for i, s := range busy {
			got, err := readAll(ctx, s)
			if err != nil || !strings.HasPrefix(got, "HTTP/1.1 200 OK") || !strings.HasSuffix(got, "finished") || !strings.Contains(got, "Connection: close") {
				t.Errorf("request %d in flight got %q, %v; want a whole 200 with Connection: close", i, got, err)
			}
		}
		if _, err := shut.Await(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if took := l.Now().Sub(start); took != time.Second {
			t.Errorf("Shutdown took %v; want the 1 s the requests had left", took)
		}
		if err, _ := serving.Await(ctx); err != nil {
			t.Errorf("Serve returned %v; want nil", err)
		}
		if _, err := aionet.Dial(ctx, "tcp", strings.TrimPrefix(base, "http://")); err == nil {
			t.Errorf("the server still accepts after Shutdown")
		}
		return nil
	})
}

// TestShutdownDeadline: requests still running when Shutdown's context ends
// are cut off, and Shutdown says why.
func TestShutdownDeadline(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var started aio.Event
		var handlerErr error
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started.Set()
			handlerErr = aio.Sleep(r.Context(), time.Hour)
		})}
		base, _ := serveTask(t, ctx, srv)
		s, err := rawConn(ctx, base, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			return err
		}
		defer s.Close()
		if err := started.Wait(ctx); err != nil {
			return err
		}
		defer stopServer(ctx, srv)
		err = aio.Timeout(ctx, 3*time.Second, srv.Shutdown)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v; want context.DeadlineExceeded", err)
		}
		if got, _ := readAll(ctx, s); got != "" {
			t.Errorf("the cut request read %q; want nothing", got)
		}
		if err := aio.Sleep(ctx, 0); err != nil {
			return err
		}
		if !errors.Is(handlerErr, context.Canceled) {
			t.Errorf("the handler's await ended with %v; want a cancellation", handlerErr)
		}
		return nil
	})
}

// TestServeContextShutsDownGracefully: cancelling Serve's context (what
// aio.Run does on SIGINT or SIGTERM) lets the request in flight finish.
func TestServeContextShutsDownGracefully(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var started aio.Event
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started.Set()
			if aio.Sleep(r.Context(), time.Second) == nil {
				io.WriteString(w, "done")
			}
		})}
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		serving := aio.Go(ctx, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
		s, err := rawConn(ctx, "http://"+ln.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			return err
		}
		defer s.Close()
		if err := started.Wait(ctx); err != nil {
			return err
		}
		serving.CancelWithMessage("SIGTERM")
		got, err := readAll(ctx, s)
		if err != nil || !strings.HasSuffix(got, "done") {
			t.Errorf("the request in flight got %q, %v; want it finished", got, err)
		}
		if _, err := serving.Await(ctx); err != nil {
			t.Errorf("Serve returned %v; want nil", err)
		}
		return nil
	})
}

// TestHandlerPanic: a panicking handler gets its client a 500 and closes its
// connection; the panic reaches the exception handler; other connections
// are served on.
func TestHandlerPanic(t *testing.T) {
	var reports []aio.ExceptionContext
	aiotest.Run(t, func(ctx context.Context) error {
		mux := http.NewServeMux()
		mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
		mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		})
		mux.HandleFunc("/hi", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
		srv := &aiohttp.Server{Handler: mux}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		s, err := rawConn(ctx, base, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\nGET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /hi HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			return err
		}
		defer s.Close()
		got, _ := readAll(ctx, s)
		first, rest, _ := strings.Cut(got, "\r\n\r\nhi")
		if !strings.HasPrefix(first, "HTTP/1.1 200 OK\r\n") || !strings.HasPrefix(rest, "HTTP/1.1 500 Internal Server Error\r\n") || strings.Count(got, "HTTP/1.1") != 2 {
			t.Errorf("pipelined /hi, /boom, /hi: the client read %q; want the first answer, one 500 and the connection closed", got)
		}
		a, err := rawConn(ctx, base, "GET /abort HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			return err
		}
		defer a.Close()
		if got, _ := readAll(ctx, a); strings.Contains(got, "0\r\n\r\n") || !strings.Contains(got, "partial") {
			t.Errorf("ErrAbortHandler after a flush: read %q; want the partial body cut short", got)
		}
		resp, err := (&aiohttp.Session{}).Get(ctx, base+"/hi")
		if err != nil {
			return err
		}
		if text, _ := resp.Text(ctx); text != "hi" {
			t.Errorf("another connection got %q", text)
		}
		resp.Close()
		return nil
	}, aio.WithExceptionHandler(func(c aio.ExceptionContext) { reports = append(reports, c) }))
	if len(reports) != 1 {
		t.Fatalf("%d reports; want 1 (ErrAbortHandler is not reported): %v", len(reports), reports)
	}
	var pe *aio.PanicError
	if !errors.As(reports[0].Err, &pe) || pe.Value != "boom" || !strings.Contains(reports[0].Message, "/boom") {
		t.Errorf("report %+v; want the panic of /boom", reports[0])
	}
}

// TestClientGoneCancelsRequest: a client that hangs up cancels r.Context().
func TestClientGoneCancelsRequest(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var started aio.Event
		ended := aio.NewFuture[error](ctx)
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started.Set()
			ended.SetResult(aio.Sleep(r.Context(), time.Hour))
		})}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		s, err := rawConn(ctx, base, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			return err
		}
		if err := started.Wait(ctx); err != nil {
			return err
		}
		start := aio.LoopOf(ctx).Now()
		s.Close()
		err, _ = ended.Await(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the handler's sleep ended with %v; want a cancellation", err)
		}
		if took := aio.LoopOf(ctx).Now().Sub(start); took != 0 {
			t.Errorf("cancelled after %v; want at once", took)
		}
		return nil
	})
}

// TestHijack: a handler takes the connection over; what the server had
// buffered is in the reader it gets.
func TestHijack(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, rw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
			rw.Flush()
			for {
				line, err := rw.ReadString('\n')
				if err != nil {
					return
				}
				rw.WriteString("echo: " + line)
				rw.Flush()
			}
		})}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		s, err := rawConn(ctx, base, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nfirst\n")
		if err != nil {
			return err
		}
		defer s.Close()
		br := bufio.NewReader(streamReader{ctx, s})
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != 101 {
			t.Errorf("status %d", resp.StatusCode)
		}
		if line, _ := br.ReadString('\n'); line != "echo: first\n" {
			t.Errorf("read %q; want the line sent with the request echoed", line)
		}
		s.Write([]byte("second\n"))
		if line, _ := br.ReadString('\n'); line != "echo: second\n" {
			t.Errorf("read %q", line)
		}
		return nil
	})
}

type streamReader struct {
	ctx context.Context
	s   *aionet.Stream
}

func (r streamReader) Read(p []byte) (int, error) { return r.s.Read(r.ctx, p) }

// TestResponseController: Flush and the deadlines reach the response through
// http.ResponseController.
func TestResponseController(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			io.WriteString(w, "first ")
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Errorf("SetWriteDeadline: %v", err)
			}
			if err := rc.SetReadDeadline(time.Time{}); err != nil {
				t.Errorf("SetReadDeadline: %v", err)
			}
			if err := rc.EnableFullDuplex(); err != nil {
				t.Errorf("EnableFullDuplex: %v", err)
			}
			aio.Sleep(r.Context(), time.Second)
			io.WriteString(w, "second")
		})}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		s, err := rawConn(ctx, base, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if err != nil {
			return err
		}
		defer s.Close()
		start := aio.LoopOf(ctx).Now()
		got, err := s.ReadUntil(ctx, []byte("first \r\n"))
		if err != nil || !strings.Contains(string(got), "Transfer-Encoding: chunked") {
			t.Errorf("flushed part: %q, %v", got, err)
		}
		if took := aio.LoopOf(ctx).Now().Sub(start); took != 0 {
			t.Errorf("the flushed part came after %v; want at once", took)
		}
		return nil
	})
}

// TestManyLoopsServeOnePort: a Server serves one port from several loops
// (RunLoops, SO_REUSEPORT), and Shutdown from a goroutine reaches them all.
func TestManyLoopsServeOnePort(t *testing.T) {
	defer aiotest.CheckLeaks(t)()
	var hits [4]atomic.Int32
	srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range hits {
			if r.Context().Value(loopKey{}) == i {
				hits[i].Add(1)
			}
		}
		io.WriteString(w, "ok")
	})}
	var addr string
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- aio.RunLoops(context.Background(), 4, func(ctx context.Context, loops []*aio.Loop, i int) error {
			lc := aionet.ListenConfig{ReusePort: true}
			if i > 0 {
				if _, _, err := aio.Recv(ctx, ready); err != nil {
					return err
				}
			}
			ln, err := lc.Listen(ctx, "tcp", cmp.Or(addr, "127.0.0.1:0"))
			if err != nil {
				return err
			}
			if i == 0 {
				addr = ln.Addr().String()
				close(ready)
			}
			return srv.Serve(context.WithValue(ctx, loopKey{}, i), ln)
		}, aio.WithInterrupt(false))
	}()
	<-ready
	a := addr
	for i := 0; i < 200; i++ {
		tr := &http.Transport{DisableKeepAlives: true}
		resp, err := (&http.Client{Transport: tr}).Get("http://" + a + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var total, loopsUsed int32
	for i := range hits {
		n := hits[i].Load()
		total += n
		if n > 0 {
			loopsUsed++
		}
	}
	if total != 200 || loopsUsed < 2 {
		t.Errorf("%d requests over %d loops; want 200 over several", total, loopsUsed)
	}
}

type loopKey struct{}

// TestServerLimits: a header over MaxHeaderBytes gets 431, a declared body
// over MaxBodyBytes 413 before the handler runs, and a chunked body that
// grows past it fails the handler's read with *http.MaxBytesError; each
// closes its connection.
func TestServerLimits(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		var tooBig error
		handled := 0
		srv := &aiohttp.Server{MaxHeaderBytes: 1024, MaxBodyBytes: 10, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handled++
			if _, err := io.ReadAll(r.Body); err != nil {
				tooBig = err
				http.Error(w, "too big", http.StatusRequestEntityTooLarge)
			}
		})}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		tests := []struct{ name, raw, want string }{
			{"header too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8192) + "\r\n\r\n",
				"HTTP/1.1 431 Request Header Fields Too Large"},
			{"declared body too large", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
				"HTTP/1.1 413 Request Entity Too Large"},
			{"chunked body too large", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n",
				"HTTP/1.1 413 Request Entity Too Large"},
			{"body at the limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhelloworld",
				"HTTP/1.1 200 OK"},
		}
		for _, tt := range tests {
			s, err := rawConn(ctx, base, tt.raw)
			if err != nil {
				return err
			}
			got, _ := readAll(ctx, s) // the server closes each connection
			s.Close()
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("%s: got %q; want %q", tt.name, got[:min(len(got), 60)], tt.want)
			}
		}
		var mbe *http.MaxBytesError
		if handled != 2 || !errors.As(tooBig, &mbe) {
			t.Errorf("the handler ran %d times (want 2: the chunked body and the one at the limit); its read failed with %v, want *http.MaxBytesError", handled, tooBig)
		}
		return nil
	})
}

// TestSessionTimeoutAndJSON: Session.Timeout bounds a request to the end of
// its body, on the loop's clock, whether the headers or the body are late;
// Session.JSON sends a JSON body, and refuses one it cannot encode.
func TestSessionTimeoutAndJSON(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /late-headers", func(w http.ResponseWriter, r *http.Request) {
			aio.Sleep(r.Context(), 2*time.Second)
		})
		mux.HandleFunc("GET /late-body", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "first part, ")
			w.(http.Flusher).Flush()
			if aio.Sleep(r.Context(), 2*time.Second) == nil {
				io.WriteString(w, "too late")
			}
		})
		mux.HandleFunc("GET /in-time", func(w http.ResponseWriter, r *http.Request) {
			aio.Sleep(r.Context(), 500*time.Millisecond)
			io.WriteString(w, "in time")
		})
		mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s", r.Header.Get("Content-Type"), b)
		})
		srv := &aiohttp.Server{Handler: mux}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		s := &aiohttp.Session{BaseURL: base, Timeout: time.Second}
		defer s.Close()
		clock := aio.LoopOf(ctx)
		since := func(t0 time.Time) time.Duration { return clock.Now().Sub(t0) }

		t0 := clock.Now()
		if _, err := s.Get(ctx, "/late-headers"); !errors.Is(err, context.DeadlineExceeded) || since(t0) != time.Second {
			t.Errorf("late headers: %v after %v; want DeadlineExceeded after 1s", err, since(t0))
		}
		t0 = clock.Now()
		resp, err := s.Get(ctx, "/late-body")
		if err != nil {
			return err
		}
		if text, err := resp.Text(ctx); !errors.Is(err, context.DeadlineExceeded) || since(t0) != time.Second {
			t.Errorf("late body: %q, %v after %v; want DeadlineExceeded after 1s", text, err, since(t0))
		}
		resp, err = s.Get(ctx, "/in-time")
		if err != nil {
			return err
		}
		if text, err := resp.Text(ctx); text != "in time" || err != nil {
			t.Errorf("in time: %q, %v", text, err)
		}

		resp, err = s.JSON(ctx, http.MethodPost, "/echo", map[string]int{"a": 1})
		if err != nil {
			return err
		}
		if text, _ := resp.Text(ctx); text != `application/json {"a":1}` {
			t.Errorf("JSON body: %q", text)
		}
		if _, err := s.JSON(ctx, http.MethodPost, "/echo", make(chan int)); err == nil || !strings.Contains(err.Error(), "JSON body") {
			t.Errorf("a value JSON cannot encode: %v", err)
		}
		return nil
	})
}

// TestSessionStats: the pool's figures while five requests share two
// connections, read from a task and from another goroutine, then at rest.
func TestSessionStats(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			aio.Sleep(r.Context(), time.Second)
		})}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		s := &aiohttp.Session{LimitPerHost: 2}
		defer s.Close()
		if st, err := s.Stats(ctx); err != nil || st.Open != 0 || len(st.Hosts) != 0 {
			t.Errorf("unused session: %+v, %v", st, err)
		}
		get := func(ctx context.Context) (struct{}, error) {
			resp, err := s.Get(ctx, base)
			if err == nil {
				_, err = resp.Bytes(ctx)
			}
			return struct{}{}, err
		}
		g := aio.Spawn(ctx, func(ctx context.Context) ([]struct{}, error) { return aio.Gather(ctx, get, get, get, get, get) })
		aio.Sleep(ctx, 500*time.Millisecond)
		want := aiohttp.PoolStats{Open: 2, InUse: 2, Waiting: 3, Hosts: map[string]aiohttp.HostStats{"http://" + strings.TrimPrefix(base, "http://"): {Open: 2, InUse: 2, Waiting: 3}}}
		if st, err := s.Stats(ctx); err != nil || fmt.Sprint(st) != fmt.Sprint(want) {
			t.Errorf("in flight, from the loop: %+v, %v; want %+v", st, err, want)
		}
		other := make(chan string, 1)
		go func() {
			st, err := s.Stats(context.Background())
			other <- fmt.Sprint(st, err)
		}()
		var got string
		for got == "" { // keep the loop busy, so that the virtual clock stands still meanwhile
			select {
			case got = <-other:
			default:
				aio.Yield(ctx)
			}
		}
		if got != fmt.Sprint(want, nil) {
			t.Errorf("in flight, from another goroutine: %s; want %+v", got, want)
		}
		if _, err := g.Await(ctx); err != nil {
			return err
		}
		if st, _ := s.Stats(ctx); st.Open != 2 || st.Idle != 2 || st.InUse != 0 || st.Waiting != 0 {
			t.Errorf("at rest: %+v; want 2 open, both idle", st)
		}
		return nil
	})
}

// TestPipelinedResponses: requests sent together are answered in order, and
// the answer to one does not wait for the next one's handler: while /slow
// sleeps, the client reads the answers before it; three quick ones, then
// the slow one, then a quick one after it.
func TestPipelinedResponses(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /quick/{n}", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "quick %s;", r.PathValue("n"))
		})
		mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			if aio.Sleep(r.Context(), time.Hour) == nil {
				fmt.Fprint(w, "slow;")
			}
		})
		srv := &aiohttp.Server{Handler: mux}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		var raw strings.Builder
		for _, path := range []string{"/quick/1", "/quick/2", "/quick/3", "/slow", "/quick/4"} {
			fmt.Fprintf(&raw, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		}
		s, err := rawConn(ctx, base, raw.String())
		if err != nil {
			return err
		}
		defer s.Close()
		br := bufio.NewReader(streamReader{ctx, s})
		read := func(want string) error {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if string(body) != want {
				return fmt.Errorf("answer %q, want %q", body, want)
			}
			return nil
		}
		start := aio.LoopOf(ctx).Now()
		for _, want := range []string{"quick 1;", "quick 2;", "quick 3;"} {
			if err := read(want); err != nil {
				return err
			}
		}
		if waited := aio.LoopOf(ctx).Now().Sub(start); waited != 0 {
			t.Errorf("the answers before /slow came after %v on the loop's clock; want at once", waited)
		}
		for _, want := range []string{"slow;", "quick 4;"} {
			if err := read(want); err != nil {
				return err
			}
		}
		if waited := aio.LoopOf(ctx).Now().Sub(start); waited != time.Hour {
			t.Errorf("the answers after /slow came after %v; want %v", waited, time.Hour)
		}
		return nil
	})
}

// TestHeadInPieces: a head that arrives in pieces is read whole before it
// is checked; an empty Host field (a target without authority) is kept
// apart from a missing one in any piece.
func TestHeadInPieces(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
		want   string // the start of the answer
	}{
		{"empty Host split", []string{"POST /echo HTTP/1.1\r\nHo", "st:\r\nContent-Len", "gth: 3\r\n\r\nabc"}, "HTTP/1.1 200 OK"},
		{"empty Host last", []string{"POST /echo HTTP/1.1\r\nContent-Length: 3\r\n", "Host:\r\n", "\r\nabc"}, "HTTP/1.1 200 OK"},
		{"missing Host", []string{"POST /echo HTTP/1.1\r\nContent-Length: 3\r\n", "X-Host: a\r\n", "\r\nabc"}, "HTTP/1.1 400 Bad Request"},
		{"Host with a value", []string{"POST /echo HTTP/1.1\r\nHost: a", ".example\r\nContent-Length: 3\r\n\r\nabc"}, "HTTP/1.1 200 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aiotest.Run(t, func(ctx context.Context) error {
				srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					fmt.Fprintf(w, "%s %q", body, r.Host)
				})}
				base, _ := serveTask(t, ctx, srv)
				defer stopServer(ctx, srv)
				s, err := rawConn(ctx, base, tt.pieces[0])
				if err != nil {
					return err
				}
				defer s.Close()
				for _, p := range tt.pieces[1:] {
					// The loop runs the server's read of what came before.
					if err := aio.Sleep(ctx, time.Millisecond); err != nil {
						return err
					}
					s.Write([]byte(p))
				}
				s.Write([]byte("GET /end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
				got, _ := readAll(ctx, s)
				if !strings.HasPrefix(got, tt.want) {
					t.Errorf("read %q; want it to start with %q", got, tt.want)
				}
				return nil
			})
		})
	}
}
