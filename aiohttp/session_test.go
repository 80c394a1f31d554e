package aiohttp_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiotest"
)

// run runs main on a fresh loop with the real clock, and checks that no
// goroutine and no descriptor is left once it and the servers are closed.
func run(t *testing.T, main func(ctx context.Context) error, opts ...aio.Option) {
	t.Helper()
	defer aiotest.CheckLeaks(t)()
	opts = append([]aio.Option{aio.WithInterrupt(false)}, opts...)
	if err := aio.Run(context.Background(), main, opts...); err != nil {
		t.Fatal(err)
	}
}

// server is an httptest server that counts the connections it accepts.
type server struct {
	*httptest.Server
	conns atomic.Int32
}

func newServer(t *testing.T, h http.Handler, useTLS bool) *server {
	s := &server{Server: httptest.NewUnstartedServer(h)}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func TestGetText(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		fmt.Fprint(w, "<!doctype html><html itemscope=\"\" itemtype=\"http://schema.org/WebPage\" lang=\"en\">")
	}), false)
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{}
		defer s.Close()
		resp, err := s.Get(ctx, srv.URL+"/page")
		if err != nil {
			return err
		}
		text, err := resp.Text(ctx)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || resp.Header.Get("X-Path") != "/page" || !strings.HasPrefix(text, "<!doctype html>") {
			t.Errorf("got %d %v %q", resp.StatusCode, resp.Header, text)
		}
		return nil
	})
}

// Sequential requests share one connection; concurrent ones open more,
// within LimitPerHost.
func TestKeepAliveAndLimits(t *testing.T) {
	var active, most atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := active.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		defer active.Add(-1)
		fmt.Fprint(w, r.URL.Path)
	})
	for _, tc := range []struct {
		name         string
		limitPerHost int
		wantConns    int32
	}{{"no cap", 0, 6}, {"two per host", 2, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, h, false)
			most.Store(0)
			run(t, func(ctx context.Context) error {
				s := &aiohttp.Session{LimitPerHost: tc.limitPerHost}
				defer s.Close()
				for i := range 5 {
					if body, err := get(ctx, s, srv.URL+fmt.Sprint("/seq", i)); err != nil || body != fmt.Sprint("/seq", i) {
						return fmt.Errorf("sequential GET %d: %q %v", i, body, err)
					}
				}
				for range 2 { // a body-less response frees its connection unread
					if resp, err := s.Head(ctx, srv.URL+"/head"); err != nil || resp.StatusCode != 200 {
						return fmt.Errorf("HEAD: %v %v", resp, err)
					}
				}
				if n := srv.conns.Load(); n != 1 {
					t.Errorf("5 sequential GETs and 2 HEADs used %d connections; want 1", n)
				}
				var tasks []func(context.Context) (string, error)
				for i := range 6 {
					tasks = append(tasks, func(ctx context.Context) (string, error) {
						return get(ctx, s, srv.URL+fmt.Sprint("/par", i))
					})
				}
				bodies, err := aio.Gather(ctx, tasks...)
				if err != nil {
					return err
				}
				for i, b := range bodies {
					if b != fmt.Sprint("/par", i) {
						t.Errorf("concurrent GET %d = %q", i, b)
					}
				}
				if n := srv.conns.Load(); n != tc.wantConns {
					t.Errorf("6 concurrent requests used %d connections in all; want %d", n, tc.wantConns)
				}
				if tc.limitPerHost > 0 && most.Load() > int32(tc.limitPerHost) {
					t.Errorf("%d requests in flight at once; the cap is %d", most.Load(), tc.limitPerHost)
				}
				return nil
			})
		})
	}
}

func get(ctx context.Context, s *aiohttp.Session, url string) (string, error) {
	resp, err := s.Get(ctx, url)
	if err != nil {
		return "", err
	}
	return resp.Text(ctx)
}

func TestGzipAndChunked(t *testing.T) {
	big := strings.Repeat("all work and no play makes Jack a dull boy\n", 2000)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			for i := range 5 {
				fmt.Fprintf(w, "part %d;", i)
				w.(http.Flusher).Flush()
			}
			return
		}
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			io.WriteString(w, big)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		if r.URL.Path == "/gz-empty" {
			w.Header().Set("Content-Length", "0")
			return
		}
		zw := gzip.NewWriter(w)
		io.WriteString(zw, big)
		zw.Close()
	}), false)
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{}
		defer s.Close()
		for range 2 { // the second request reuses the connection: the gzip body was read to its end
			resp, err := s.Get(ctx, srv.URL+"/gz")
			if err != nil {
				return err
			}
			text, err := resp.Text(ctx)
			if err != nil || text != big || !resp.Uncompressed || resp.Header.Get("Content-Encoding") != "" {
				t.Errorf("gzip body: %d bytes, uncompressed=%v, err %v", len(text), resp.Uncompressed, err)
			}
		}
		if n := srv.conns.Load(); n != 1 {
			t.Errorf("two gzip requests used %d connections", n)
		}
		// No body, nothing decoded: the header stays as sent (net/http's too).
		empty, err := s.Get(ctx, srv.URL+"/gz-empty")
		if err != nil {
			return err
		}
		if text, err := empty.Text(ctx); err != nil || text != "" || empty.Uncompressed || empty.Header.Get("Content-Encoding") != "gzip" || empty.ContentLength != 0 {
			t.Errorf("an empty gzip body: %q, err %v, uncompressed=%v, header %v, length %d; want the header as sent",
				text, err, empty.Uncompressed, empty.Header, empty.ContentLength)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/gz", nil)
		req.Header.Set("Accept-Encoding", "gzip") // the caller's choice: the body is left as sent
		resp, err := s.Do(ctx, req)
		if err != nil {
			return err
		}
		raw, err := resp.Bytes(ctx)
		if err != nil || !bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) || resp.Uncompressed {
			t.Errorf("with the caller's Accept-Encoding: %d bytes starting %x, err %v", len(raw), raw[:min(2, len(raw))], err)
		}
		if text, err := get(ctx, s, srv.URL+"/chunked"); text != "part 0;part 1;part 2;part 3;part 4;" || err != nil {
			t.Errorf("chunked body = %q %v", text, err)
		}
		resp, err = s.Get(ctx, srv.URL+"/gz")
		if err != nil {
			return err
		}
		var streamed strings.Builder
		most := 0
		for chunk, err := range resp.Chunks(ctx, 1000) {
			if err != nil {
				return err
			}
			most = max(most, len(chunk))
			streamed.Write(chunk)
		}
		if streamed.String() != big || most > 1000 {
			t.Errorf("Chunks: %d bytes in chunks of up to %d", streamed.Len(), most)
		}
		resp, err = s.Get(ctx, srv.URL+"/gz")
		if err != nil {
			return err
		}
		for range resp.Chunks(ctx, 10) {
			break // closes the response
		}
		if _, err := resp.Text(ctx); !errors.Is(err, http.ErrBodyReadAfterClose) {
			t.Errorf("read after breaking out of Chunks: %v", err)
		}
		return nil
	})
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s /b %q auth=%q", r.Method, body, r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/see-other", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusSeeOther) })
	mux.HandleFunc("/temporary", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/b", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://[::1")
		w.WriteHeader(http.StatusFound)
	})
	srv := newServer(t, mux, false)
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{Header: http.Header{"Authorization": {"Bearer x"}}}
		defer s.Close()
		for _, tc := range []struct {
			method, path, body, want string
		}{
			{"GET", "/a", "", `GET /b "" auth="Bearer x"`},
			{"POST", "/see-other", "data", `GET /b "" auth="Bearer x"`},
			{"POST", "/temporary", "data", `POST /b "data" auth="Bearer x"`},
		} {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := s.Do(ctx, req)
			if err != nil {
				return err
			}
			text, err := resp.Text(ctx)
			if text != tc.want || err != nil || resp.Request.URL.Path != "/b" {
				t.Errorf("%s %s: %q %v, ended at %s; want %q", tc.method, tc.path, text, err, resp.Request.URL, tc.want)
			}
		}
		_, err := s.Get(ctx, srv.URL+"/loop")
		if !errors.Is(err, aiohttp.ErrTooManyRedirects) {
			t.Errorf("redirect loop: %v", err)
		}
		if resp, err := s.Get(ctx, srv.URL+"/bad"); resp != nil || err == nil || !strings.Contains(err.Error(), "bad redirect location") {
			t.Errorf("a bad Location: %v %v", resp, err)
		}
		s2 := &aiohttp.Session{MaxRedirects: -1}
		defer s2.Close()
		resp, err := s2.Get(ctx, srv.URL+"/a")
		if err != nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/b" {
			t.Errorf("redirects off: %v %v", resp, err)
		}
		if err == nil {
			resp.Close()
		}
		return nil
	})
}

func TestHTTPS(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "secure=%v", r.TLS != nil)
	}), true)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{TLSConfig: &tls.Config{RootCAs: roots}}
		defer s.Close()
		for range 2 {
			if text, err := get(ctx, s, srv.URL); text != "secure=true" || err != nil {
				t.Errorf("https GET = %q %v", text, err)
			}
		}
		resp, err := s.Get(ctx, srv.URL)
		if err != nil {
			return err
		}
		resp.Close()
		if resp.TLS == nil || !resp.TLS.HandshakeComplete || len(resp.TLS.PeerCertificates) == 0 {
			t.Errorf("an https response's TLS = %+v; want the connection's state, as net/http gives", resp.TLS)
		}
		if n := srv.conns.Load(); n != 1 {
			t.Errorf("two https requests used %d connections", n)
		}
		untrusted := &aiohttp.Session{}
		defer untrusted.Close()
		var uerr *tls.CertificateVerificationError
		if _, err := untrusted.Get(ctx, srv.URL); !errors.As(err, &uerr) {
			t.Errorf("untrusted certificate: %v", err)
		}
		return nil
	})
}

// A timeout scope ends a request waiting for the headers, and one waiting
// for the body; the connection is then closed, not reused. On the virtual
// clock the timeouts fire as soon as the loop has nothing else to do: at the
// waits under test, since the connection is already open.
func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "ok")
			return
		case "/body":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "first part;")
			w.(http.Flusher).Flush()
		}
		<-release
	}), false)
	run(t, func(ctx context.Context) error {
		defer close(release)
		s := &aiohttp.Session{}
		defer s.Close()
		for i, path := range []string{"/headers", "/body"} {
			if text, err := get(ctx, s, srv.URL+"/ok"); text != "ok" || err != nil {
				return fmt.Errorf("GET /ok: %q %v", text, err)
			}
			err := aio.Timeout(ctx, 5*time.Second, func(ctx context.Context) error {
				_, err := get(ctx, s, srv.URL+path)
				return err
			})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %v; want the timeout", path, err)
			}
			if n := srv.conns.Load(); n != int32(i+1) {
				t.Errorf("%s went out on connection %d; want the kept one, %d", path, n, i+1)
			}
		}
		if _, err := get(ctx, s, srv.URL+"/ok"); err != nil || srv.conns.Load() != 3 {
			t.Errorf("after the timeouts: %v, on connection %d; want a new one, 3", err, srv.conns.Load())
		}
		return nil
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})))
}

// rawServer answers each connection with fn, on goroutines of its own.
func rawServer(t *testing.T, fn func(i int, c net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				fn(i, c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// A kept connection the server closes after reading the next request: an
// idempotent request is sent again on a new connection, a POST is not.
func TestStaleConnection(t *testing.T) {
	var conns atomic.Int32
	url := rawServer(t, func(i int, c net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(c)
		for n := 0; ; n++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if n == 1 {
				return // the second request on a connection: close without answering
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{}
		defer s.Close()
		for i := range 2 {
			if text, err := get(ctx, s, url); text != "ok" || err != nil {
				t.Errorf("GET %d = %q %v", i, text, err)
			}
		}
		if n := conns.Load(); n != 2 {
			t.Errorf("server saw %d connections; want 2 (the retry opened the second)", n)
		}
		// The POST goes out on the kept second connection, as its second
		// request: the server closes it, and the POST is not sent again.
		if _, err := s.Post(ctx, url, "text/plain", strings.NewReader("x")); err == nil || !errors.Is(err, io.EOF) {
			t.Errorf("POST on a connection closed under it: %v", err)
		}
		if n := conns.Load(); n != 2 {
			t.Errorf("server saw %d connections after the POST; want 2 (no retry)", n)
		}
		return nil
	})
}

func TestBadServers(t *testing.T) {
	garbage := rawServer(t, func(i int, c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "SMTP ready, not HTTP\r\n\r\n")
	})
	reset := rawServer(t, func(i int, c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		c.(*net.TCPConn).SetLinger(0) // close with a reset
	})
	endless := rawServer(t, func(i int, c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Filler: " + strings.Repeat("x", 1000) + "\r\n"
		for range 3000 { // 3 MB of headers, and counting
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
	})
	cut := rawServer(t, func(i int, c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
	})
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{}
		defer s.Close()
		if _, err := s.Get(ctx, garbage); err == nil || !strings.Contains(err.Error(), "malformed HTTP") {
			t.Errorf("garbage response: %v", err)
		}
		if _, err := s.Get(ctx, reset); err == nil {
			t.Error("reset connection: no error")
		}
		resp, err := s.Get(ctx, cut)
		if err != nil {
			return err
		}
		if text, err := resp.Text(ctx); !errors.Is(err, io.ErrUnexpectedEOF) || text != "only this" {
			t.Errorf("body cut short: %q %v", text, err)
		}
		if _, err := s.Get(ctx, endless); err == nil || !strings.Contains(err.Error(), "response headers exceed the limit (1048576 bytes)") {
			t.Errorf("endless headers: %v", err)
		}
		small := &aiohttp.Session{MaxHeaderBytes: 30} // the reply's headers take 40
		defer small.Close()
		if _, err := small.Get(ctx, cut); err == nil || !strings.Contains(err.Error(), "exceed the limit (30 bytes)") {
			t.Errorf("headers over a limit of 30 bytes: %v", err)
		}
		if _, err := s.Get(ctx, "ftp://example.com/"); err == nil || !strings.Contains(err.Error(), "unsupported protocol scheme") {
			t.Errorf("ftp URL: %v", err)
		}
		return nil
	})
}

func TestCookiesStatusAndClose(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "42"})
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		if err != nil {
			http.Error(w, "no cookie", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, c.Value)
	})
	srv := newServer(t, mux, false)
	run(t, func(ctx context.Context) error {
		jar, _ := cookiejar.New(nil)
		s := &aiohttp.Session{Jar: jar}
		resp, err := s.Get(ctx, srv.URL+"/get")
		if err != nil {
			return err
		}
		var se *aiohttp.StatusError
		if err := resp.CheckStatus(); !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
			t.Errorf("CheckStatus before the cookie: %v", err)
		}
		resp.Close()
		if _, err := get(ctx, s, srv.URL+"/set"); err != nil {
			return err
		}
		if text, err := get(ctx, s, srv.URL+"/get"); text != "42" || err != nil {
			t.Errorf("with the cookie: %q %v", text, err)
		}
		// The caller's request is left as it was: sent twice, it carries
		// the cookie once each time.
		req, _ := http.NewRequest("GET", srv.URL+"/get", nil)
		for range 2 {
			resp, err := s.Do(ctx, req)
			if err != nil {
				return err
			}
			if text, err := resp.Text(ctx); text != "42" || err != nil {
				t.Errorf("a request sent again: %q %v", text, err)
			}
		}
		if len(req.Header) != 0 {
			t.Errorf("Do changed the caller's request: %v", req.Header)
		}
		s.Close()
		if _, err := s.Get(ctx, srv.URL+"/get"); !errors.Is(err, aiohttp.ErrSessionClosed) {
			t.Errorf("after Close: %v", err)
		}
		return nil
	})
}

// Under Limit, requests to two hosts share the places: no more connections
// are open at once than the limit, idle ones to the other host are closed to
// make room, and a request that gives up waiting in line loses its place
// without taking one from those behind it.
func TestSessionLimitAcrossHosts(t *testing.T) {
	var dialled atomic.Int32
	track := func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			dialled.Add(1)
		}
	}
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		fmt.Fprint(w, r.URL.Path)
	})
	a, b := httptest.NewUnstartedServer(h), httptest.NewUnstartedServer(h)
	for _, srv := range []*httptest.Server{a, b} {
		srv.Config.ConnState = track
		srv.Start()
		defer srv.Close()
	}
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{Limit: 2}
		defer s.Close()
		most := 0 // connections the session has open, seen from its tasks
		var tasks []func(context.Context) (string, error)
		for i := range 20 {
			site := []string{a.URL, b.URL}[i%2]
			tasks = append(tasks, func(ctx context.Context) (string, error) {
				resp, err := s.Get(ctx, fmt.Sprintf("%s/%d", site, i))
				most = max(most, aiohttp.OpenConns(s))
				if err != nil {
					return "", err
				}
				return resp.Text(ctx)
			})
		}
		bodies, err := aio.Gather(ctx, tasks...)
		if err != nil {
			return err
		}
		for i, body := range bodies {
			if body != fmt.Sprint("/", i) {
				t.Errorf("request %d = %q", i, body)
			}
		}
		if most > 2 {
			t.Errorf("%d connections open at once under a limit of 2", most)
		}
		// A connection put back goes to the next request in line for its
		// host rather than closing to make room: few are opened. (How many
		// depends on the order the server answers in.)
		t.Logf("%d connections for 20 requests", dialled.Load())
		if n := dialled.Load(); n >= 10 {
			t.Errorf("20 requests in line for two hosts opened %d connections; want a few", n)
		}

		// Both places taken by requests that hang; a third gives up waiting.
		holders := []*aio.Task[string]{
			aio.Spawn(ctx, func(ctx context.Context) (string, error) { return get(ctx, s, a.URL+"/hold") }),
			aio.Spawn(ctx, func(ctx context.Context) (string, error) { return get(ctx, s, b.URL+"/hold") }),
		}
		for range 10 { // let both take their places
			aio.Yield(ctx)
		}
		err = aio.Timeout(ctx, 20*time.Millisecond, func(ctx context.Context) error {
			_, err := get(ctx, s, a.URL+"/impatient")
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a request waiting for a place: %v; want its timeout", err)
		}
		close(release)
		for _, h := range holders {
			if body, err := h.Await(ctx); body != "/hold" || err != nil {
				t.Errorf("held request: %q %v", body, err)
			}
		}
		if body, err := get(ctx, s, b.URL+"/after"); body != "/after" || err != nil {
			t.Errorf("after the impatient one left: %q %v", body, err)
		}
		return nil
	})
}

// proxyServer is a forward proxy on goroutines: CONNECT tunnels, and
// requests in the absolute form fetched with net/http. It wants the
// Proxy-Authorization of user:secret and counts what it serves.
func proxyServer(t *testing.T) (u *url.URL, conns, tunnels, forwarded *atomic.Int32) {
	conns, tunnels, forwarded = new(atomic.Int32), new(atomic.Int32), new(atomic.Int32)
	var wg sync.WaitGroup
	fetch := &http.Transport{DisableKeepAlives: true} // leaves no goroutine behind
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "Basic dXNlcjpzZWNyZXQ=" { // user:secret
			http.Error(w, "who are you?", http.StatusProxyAuthRequired)
			return
		}
		if r.Method == http.MethodConnect {
			target, err := net.Dial("tcp", r.Host)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			client, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				target.Close()
				return
			}
			tunnels.Add(1)
			io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n")
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				io.Copy(dst, struct{ io.Reader }{src}) // not splice: its pipes outlive the test
				dst.Close()
				src.Close()
			}
			go pipe(target, client)
			go pipe(client, target)
			return
		}
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		forwarded.Add(1)
		out, _ := http.NewRequest(r.Method, r.URL.String(), r.Body)
		resp, err := fetch.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	u, _ = url.Parse(srv.URL)
	u.User = url.UserPassword("user", "secret")
	return u, conns, tunnels, forwarded
}

func TestProxy(t *testing.T) {
	plain := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "plain ", r.URL.Path) }), false)
	secure := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secure ", r.URL.Path) }), true)
	roots := x509.NewCertPool()
	roots.AddCert(secure.Certificate())
	proxy, proxyConns, tunnels, forwarded := proxyServer(t)
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{Proxy: http.ProxyURL(proxy), TLSConfig: &tls.Config{RootCAs: roots}}
		defer s.Close()
		for range 2 { // the second time on the kept connection, or tunnel
			if text, err := get(ctx, s, plain.URL+"/a"); text != "plain /a" || err != nil {
				t.Errorf("http through the proxy: %q %v", text, err)
			}
			if text, err := get(ctx, s, secure.URL+"/b"); text != "secure /b" || err != nil {
				t.Errorf("https through a tunnel: %q %v", text, err)
			}
		}
		if f, tu, c := forwarded.Load(), tunnels.Load(), proxyConns.Load(); f != 2 || tu != 1 || c != 2 {
			t.Errorf("the proxy forwarded %d requests and opened %d tunnels over %d connections; want 2, 1 and 2 (one kept for http, one tunnel)", f, tu, c)
		}
		anon := *proxy
		anon.User = nil
		s2 := &aiohttp.Session{Proxy: http.ProxyURL(&anon), TLSConfig: &tls.Config{RootCAs: roots}}
		defer s2.Close()
		resp, err := s2.Get(ctx, plain.URL+"/a")
		if err != nil || resp.StatusCode != http.StatusProxyAuthRequired {
			t.Errorf("http without the proxy's password: %v %v", resp, err)
		}
		if err == nil {
			resp.Close()
		}
		if _, err := s2.Get(ctx, secure.URL+"/b"); err == nil || !strings.Contains(err.Error(), "407") {
			t.Errorf("https without the proxy's password: %v", err)
		}
		s3 := &aiohttp.Session{Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: "127.0.0.1:1"})}
		if _, err := s3.Get(ctx, plain.URL); err == nil || !strings.Contains(err.Error(), "unsupported proxy scheme") {
			t.Errorf("a socks5 proxy: %v", err)
		}
		return nil
	})
}

// TestRequestsThatMustNotGoOut: a method or header that would split the
// request on the wire is refused before anything is sent.
func TestRequestsThatMustNotGoOut(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), false)
	run(t, func(ctx context.Context) error {
		tests := []struct {
			name    string
			method  string
			header  http.Header
			session http.Header
		}{
			{"CR/LF in the method", "GET / HTTP/1.1\r\nX-Injected: 1\r\nX:", nil, nil},
			{"space in the method", "GET X", nil, nil},
			{"CR/LF in a value", "GET", http.Header{"X-A": {"ok\r\nX-Injected: 1"}}, nil},
			{"bad name", "GET", http.Header{"Bad Name": {"v"}}, nil},
			{"CR/LF in a session value", "GET", nil, http.Header{"X-A": {"a\nb"}}},
		}
		for _, tt := range tests {
			s := &aiohttp.Session{Header: tt.session}
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Method = tt.method
			for k, v := range tt.header {
				req.Header[k] = v
			}
			if _, err := s.Do(ctx, req); err == nil || !strings.Contains(err.Error(), "invalid") {
				t.Errorf("%s: Do = %v; want it refused", tt.name, err)
			}
			s.Close()
		}
		if n := srv.conns.Load(); n != 0 {
			t.Errorf("%d connections made for requests that were refused", n)
		}
		return nil
	})
}

// TestRedirectKeepsSessionCredentialsHome: the session's own Authorization
// and Cookie go to the host the request was made to, not to another one a
// redirect leads to (they were added again at every hop).
func TestRedirectKeepsSessionCredentialsHome(t *testing.T) {
	others, homes := make(chan http.Header, 1), make(chan http.Header, 1)
	away := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		others <- r.Header.Clone()
	}), false)
	start := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		homes <- r.Header.Clone()
		// The same machine under another name: another host to the client.
		http.Redirect(w, r, strings.Replace(away.URL, "127.0.0.1", "localhost", 1)+"/landing", http.StatusFound)
	}), false)
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{Header: http.Header{"Authorization": {"Bearer secret"}, "Cookie": {"sid=1"}, "X-Trace": {"t"}}}
		defer s.Close()
		resp, err := s.Get(ctx, start.URL)
		if err != nil {
			return err
		}
		resp.Close()
		home, other := <-homes, <-others
		if home.Get("Authorization") != "Bearer secret" || home.Get("Cookie") != "sid=1" {
			t.Errorf("the first host got %v; want the session's credentials", home)
		}
		if other.Get("Authorization") != "" || other.Get("Cookie") != "" || other.Get("X-Trace") != "t" {
			t.Errorf("the other host got %v; want no credentials, other headers kept", other)
		}
		return nil
	})
}

// TestURLCredentials: a user and password in the URL are sent as Basic
// Authorization (as net/http's client does), not over a request's own
// Authorization, and not to another host a redirect leads to.
func TestURLCredentials(t *testing.T) {
	auths := make(chan string, 4)
	away := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths <- "away " + r.Header.Get("Authorization")
	}), false)
	home := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths <- r.URL.Path + " " + r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/leave":
			http.Redirect(w, r, strings.Replace(away.URL, "127.0.0.1", "localhost", 1)+"/landing", http.StatusFound)
		case "/missing":
			http.NotFound(w, r)
		}
	}), false)
	withUser := strings.Replace(home.URL, "http://", "http://ann:pa%20ss@", 1)
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{}
		defer s.Close()
		get := func(url, auth string) error {
			req, _ := http.NewRequest("GET", url, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := s.Do(ctx, req)
			if err != nil {
				return err
			}
			return resp.Close()
		}
		if err := get(withUser+"/a", ""); err != nil {
			return err
		}
		if err := get(withUser+"/b", "Bearer own"); err != nil {
			return err
		}
		if err := get(withUser+"/leave", ""); err != nil {
			return err
		}
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:pa ss"))
		for _, want := range []string{"/a " + basic, "/b Bearer own", "/leave " + basic, "away "} {
			if got := <-auths; got != want {
				t.Errorf("the server saw %q; want %q", got, want)
			}
		}
		// Errors name the URL without its password.
		resp, err := s.Get(ctx, withUser+"/missing")
		if err != nil {
			return err
		}
		resp.Close()
		<-auths
		_, dialErr := s.Get(ctx, "http://ann:pa%20ss@127.0.0.1:1/")
		for _, err := range []error{resp.CheckStatus(), dialErr} {
			if err == nil || strings.Contains(err.Error(), "pa%20ss") || strings.Contains(err.Error(), "pa ss") {
				t.Errorf("error %v; want one without the password", err)
			}
		}
		return nil
	})
}

// TestTimeoutInTheStatusLine: a timeout that ends the wait in the middle of
// the status line or of a header is a timeout, not a malformed response.
func TestTimeoutInTheStatusLine(t *testing.T) {
	for _, partial := range []string{"HTTP/1.1 200 O", "HTTP/1.1 200 OK\r\nContent-Ty"} {
		aiotest.Run(t, func(ctx context.Context) error {
			srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
				if _, err := s.ReadUntil(ctx, []byte("\r\n\r\n")); err != nil {
					return err
				}
				s.Write([]byte(partial))
				aio.Sleep(ctx, time.Hour)
				return nil
			})
			if err != nil {
				return err
			}
			s := &aiohttp.Session{}
			defer s.Close()
			err = aio.Timeout(ctx, time.Second, func(ctx context.Context) error {
				_, err := s.Get(ctx, "http://"+srv.Addr().String()+"/")
				return err
			})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("after %q: %v; want context.DeadlineExceeded", partial, err)
			}
			srv.Close()
			srv.CloseClients()
			return srv.WaitClosed(ctx)
		})
	}
}

// TestBaseURLAndMethods: relative URLs resolve against BaseURL, and Put,
// Patch and Delete send their methods with their bodies.
func TestBaseURLAndMethods(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, b)
	}), false)
	run(t, func(ctx context.Context) error {
		s := &aiohttp.Session{BaseURL: srv.URL + "/api/v1/"}
		defer s.Close()
		calls := []struct {
			do   func() (*aiohttp.Response, error)
			want string
		}{
			{func() (*aiohttp.Response, error) { return s.Get(ctx, "users") }, "GET /api/v1/users "},
			{func() (*aiohttp.Response, error) { return s.Get(ctx, "/top") }, "GET /top "},
			{func() (*aiohttp.Response, error) {
				return s.Put(ctx, "users/1", "text/plain", strings.NewReader("ann"))
			}, "PUT /api/v1/users/1 ann"},
			{func() (*aiohttp.Response, error) {
				return s.Patch(ctx, "users/1", "text/plain", strings.NewReader("bo"))
			}, "PATCH /api/v1/users/1 bo"},
			{func() (*aiohttp.Response, error) { return s.Delete(ctx, "users/1") }, "DELETE /api/v1/users/1 "},
			{func() (*aiohttp.Response, error) { return s.Get(ctx, srv.URL+"/abs") }, "GET /abs "},
		}
		for _, c := range calls {
			resp, err := c.do()
			if err != nil {
				return err
			}
			if text, _ := resp.Text(ctx); text != c.want {
				t.Errorf("got %q; want %q", text, c.want)
			}
		}
		return nil
	})
}

// TestExpectContinue: a request with "Expect: 100-continue" sends its body
// after the server's "100 Continue", not after a final answer (which is the
// response, on a connection that then closes), and after a second of
// silence from a server that ignores the expectation.
func TestExpectContinue(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		loop := aio.LoopOf(ctx)
		srv := &aiohttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body) // the server sends "100 Continue" at the first read
			fmt.Fprintf(w, "got %s", b)
		})}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)

		// A raw server: answers at once with 417, or never before the body.
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		seen := aio.NewQueue[string](2) // what the raw server read after the head, per connection
		aio.Go(ctx, func(ctx context.Context) error {
			for {
				s, err := ln.Accept(ctx)
				if err != nil {
					return nil
				}
				aio.Go(ctx, func(ctx context.Context) error {
					defer s.Close()
					var in []byte
					buf := make([]byte, 512)
					for !bytes.Contains(in, []byte("\r\n\r\n")) {
						n, err := s.Read(ctx, buf)
						if err != nil {
							return nil
						}
						in = append(in, buf[:n]...)
					}
					_, body, _ := bytes.Cut(in, []byte("\r\n\r\n"))
					if bytes.Contains(in, []byte("/refuse")) {
						s.Write([]byte("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"))
					}
					for len(body) < len("payload") {
						n, err := s.Read(ctx, buf)
						if err != nil {
							break
						}
						body = append(body, buf[:n]...)
					}
					seen.Put(ctx, string(body))
					s.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlate"))
					return nil
				})
			}
		}, aio.WithName("raw server"))
		raw := "http://" + ln.Addr().String()

		s := &aiohttp.Session{}
		defer s.Close()
		post := func(url string) (int, string, time.Duration, error) {
			req, _ := http.NewRequest("POST", url, strings.NewReader("payload"))
			req.Header.Set("Expect", "100-continue")
			start := loop.Now()
			resp, err := s.Do(ctx, req)
			if err != nil {
				return 0, "", 0, err
			}
			text, err := resp.Text(ctx)
			return resp.StatusCode, text, loop.Now().Sub(start), err
		}
		if code, text, took, err := post(base + "/upload"); err != nil || code != 200 || text != "got payload" || took != 0 {
			t.Errorf("after 100 Continue: %d %q in %v, %v; want 200 \"got payload\" at once", code, text, took, err)
		}
		if code, _, took, err := post(raw + "/refuse"); err != nil || code != 417 || took != 0 {
			t.Errorf("answered first: %d in %v, %v; want the 417 at once", code, took, err)
		}
		if body, _ := seen.Get(ctx); body != "" {
			t.Errorf("after the 417 the client sent %q; want no body", body)
		}
		if code, text, took, err := post(raw + "/silent"); err != nil || code != 200 || text != "late" || took != time.Second {
			t.Errorf("no answer: %d %q in %v, %v; want the body sent after 1s and 200 \"late\"", code, text, took, err)
		}
		if body, _ := seen.Get(ctx); body != "payload" {
			t.Errorf("the silent server read %q; want the body", body)
		}
		return nil
	})
}
