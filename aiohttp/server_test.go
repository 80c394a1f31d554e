package aiohttp_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiotest"
	"github.com/gorilla/websocket"
)

// startServer serves srv from a loop of its own, on the real clock, and
// returns its address. The loop ends, and is checked for leaks, when the test
// does.
func startServer(t *testing.T, srv *aiohttp.Server, opts ...aio.Option) string {
	t.Helper()
	check := aiotest.CheckLeaks(t)
	addr := make(chan string, 1)
	done := make(chan error, 1)
	opts = append([]aio.Option{aio.WithInterrupt(false)}, opts...)
	go func() {
		done <- aio.Run(context.Background(), func(ctx context.Context) error {
			ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				addr <- ""
				return err
			}
			addr <- ln.Addr().String()
			return srv.Serve(ctx, ln)
		}, opts...)
	}()
	a := <-addr
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		check()
	})
	if a == "" {
		t.Fatal(<-done)
	}
	return a
}

// exchange sends raw to addr, half-closes if asked, and returns every
// response read back until the server closes or n responses came.
func exchange(t *testing.T, addr, raw string, n int) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for len(out) < n {
		// The method decides whether a body follows: find it in raw.
		req, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(nthRequest(raw, len(out)))))
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			break
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Errorf("reading body %d: %v", len(out), err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
		if resp.StatusCode >= 200 && resp.Close {
			break
		}
	}
	return out
}

// nthRequest returns the request line onwards of the i-th request of raw,
// good enough for http.ReadResponse to know the method.
func nthRequest(raw string, i int) string {
	reqs := strings.SplitAfter(raw, "\r\n\r\n")
	for _, r := range reqs {
		if strings.Contains(r, " HTTP/1.") {
			if i == 0 {
				return r[strings.Index(r, strings.Fields(r)[0]):]
			}
			i--
		}
	}
	return "GET / HTTP/1.1\r\n\r\n"
}

// describe flattens a response for comparison: status, proto, header but
// Date, transfer encoding, body, trailers.
func describe(r *http.Response) string {
	var keys []string
	for k := range r.Header {
		if k != "Date" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Proto, r.Status)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %q\n", k, r.Header[k])
	}
	fmt.Fprintf(&b, "TE=%v CL=%d Close=%v\n", r.TransferEncoding, r.ContentLength, r.Close)
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(&b, "body=%q\n", body)
	if len(r.Trailer) > 0 {
		fmt.Fprintf(&b, "trailer=%v\n", r.Trailer)
	}
	return b.String()
}

// contractHandler answers the paths of the comparison table.
func contractHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, World!")
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><p>hi</p>")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/typed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		for i := range 100 {
			fmt.Fprintf(w, "line %03d %s\n", i, strings.Repeat("x", 60))
		}
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/length", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "12345")
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/notmodified", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Etag", `"x"`)
		w.WriteHeader(http.StatusNotModified)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s %s len=%d te=%v body=%q trailer=%v", r.Method, r.URL, r.ContentLength, r.TransferEncoding, b, r.Trailer)
	})
	mux.HandleFunc("/ignorebody", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "not read")
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "yes")
	})
	mux.HandleFunc("/early", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "after hints")
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	mux.HandleFunc("/late-header", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Header().Set("X-Too-Late", "1")
		io.WriteString(w, "x")
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "teapot", http.StatusTeapot)
	})
	mux.HandleFunc("/empty-length", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "")
		io.WriteString(w, "abc")
	})
	mux.HandleFunc("/bad-length", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "x")
		io.WriteString(w, "abc")
	})
	mux.HandleFunc("/hijack-after-write", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("header-only") {
			w.WriteHeader(http.StatusAccepted)
		} else {
			io.WriteString(w, "before;")
		}
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("6\r\nafter;\r\n0\r\n\r\n") // the rest of the chunked body
		brw.Flush()
	})
	mux.HandleFunc("/echo-then-read", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
		w.(http.Flusher).Flush()
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "; then read %q, %v", b, err)
	})
	mux.HandleFunc("/read-after-answer", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "answer;")
		w.(http.Flusher).Flush()
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "then read %q, %v", b, err)
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Never", "sent")
		io.WriteString(w, "never sent")
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/badnames", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Ok\r\nSet-Cookie"] = []string{"evil=1"}
		w.Header()["Bad Name"] = []string{"x"}
		w.Header().Set("X-Value", "a\r\nSet-Cookie: evil=2")
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/too-long", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "3")
		io.WriteString(w, "abc")
		if _, err := io.WriteString(w, "d"); err != http.ErrContentLength {
			panic(fmt.Sprintf("a write past Content-Length returned %v", err))
		}
	})
	mux.HandleFunc("/chunked-by-handler", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Transfer-Encoding", "chunked")
		io.WriteString(w, "abc")
	})
	mux.HandleFunc("/no-date-no-type", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.Header()["Content-Type"] = nil
		io.WriteString(w, "<html>")
	})
	mux.HandleFunc("/flush-first", func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		io.WriteString(w, "abc")
	})
	mux.HandleFunc("/content", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a.txt", time.Unix(1e9, 0), strings.NewReader(strings.Repeat("0123456789", 100)))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/other?x=1", http.StatusFound)
	})
	mux.HandleFunc("/close-body", func(w http.ResponseWriter, r *http.Request) {
		r.Body.Close()
		_, err := r.Body.Read(make([]byte, 1))
		fmt.Fprint(w, err)
	})
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		err := r.ParseForm()
		fmt.Fprint(w, r.Form, err)
	})
	return mux
}

// TestMatchesNetHTTP sends the same bytes to net/http's server and to aio's,
// both running contractHandler, and compares what comes back.
func TestMatchesNetHTTP(t *testing.T) {
	ref := httptest.NewServer(contractHandler())
	defer ref.Close()
	addr := startServer(t, &aiohttp.Server{Handler: contractHandler()})
	const h = "Host: example.com\r\n"
	tests := []struct {
		name string
		raw  string
		n    int // responses expected at most
	}{
		{"ordinary", "GET /hello HTTP/1.1\r\n" + h + "\r\n", 1},
		{"sniffed html", "GET /html HTTP/1.1\r\n" + h + "\r\n", 1},
		{"empty body", "GET /empty HTTP/1.1\r\n" + h + "\r\n", 1},
		{"status, type and repeated header", "GET /typed HTTP/1.1\r\n" + h + "\r\n", 1},
		{"chunked response", "GET /big HTTP/1.1\r\n" + h + "\r\n", 1},
		{"flushed stream", "GET /stream HTTP/1.1\r\n" + h + "\r\n", 1},
		{"content-length set", "GET /length HTTP/1.1\r\n" + h + "\r\n", 1},
		{"204", "GET /nocontent HTTP/1.1\r\n" + h + "\r\n", 1},
		{"304", "GET /notmodified HTTP/1.1\r\n" + h + "\r\n", 1},
		{"not found", "GET /nowhere HTTP/1.1\r\n" + h + "\r\n", 1},
		{"http.Error", "GET /error HTTP/1.1\r\n" + h + "\r\n", 1},
		{"HEAD", "HEAD /hello HTTP/1.1\r\n" + h + "\r\n", 1},
		{"HEAD of a chunked body", "HEAD /big HTTP/1.1\r\n" + h + "\r\n", 1},
		{"HTTP/1.0", "GET /hello HTTP/1.0\r\n\r\n", 1},
		{"HTTP/1.0 keep-alive", "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 2},
		{"HTTP/1.0 streamed", "GET /big HTTP/1.0\r\n\r\n", 1},
		{"keep-alive", "GET /hello HTTP/1.1\r\n" + h + "\r\nGET /typed HTTP/1.1\r\n" + h + "\r\n", 2},
		{"pipelined", "GET /hello HTTP/1.1\r\n" + h + "\r\nGET /big HTTP/1.1\r\n" + h + "\r\nGET /length HTTP/1.1\r\n" + h + "\r\n", 3},
		{"client asks to close", "GET /hello HTTP/1.1\r\n" + h + "Connection: close\r\n\r\nGET /hello HTTP/1.1\r\n" + h + "\r\n", 2},
		{"handler closes", "GET /close HTTP/1.1\r\n" + h + "\r\nGET /hello HTTP/1.1\r\n" + h + "\r\n", 2},
		{"header after WriteHeader", "GET /late-header HTTP/1.1\r\n" + h + "\r\n", 1},
		{"1xx", "GET /early HTTP/1.1\r\n" + h + "\r\n", 2},
		{"trailers", "GET /trailers HTTP/1.1\r\n" + h + "\r\n", 1},
		{"body with length", "POST /echo HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\nhello", 1},
		{"chunked upload", "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n", 1},
		{"100-continue", "POST /echo HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", 2},
		{"100-continue unread", "POST /ignorebody HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n", 1},
		{"unread body kept", "POST /ignorebody HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\nabcGET /hello HTTP/1.1\r\n" + h + "\r\n", 2},
		{"unknown expectation", "POST /echo HTTP/1.1\r\n" + h + "Expect: telepathy\r\nContent-Length: 3\r\n\r\nabc", 1},
		{"post then CRLF", "POST /echo HTTP/1.1\r\n" + h + "Content-Length: 1\r\n\r\nx\r\nGET /hello HTTP/1.1\r\n" + h + "\r\n", 2},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\n" + h + "\r\n", 1},
		{"OPTIONS * with a body", "OPTIONS * HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\nabcGET /hello HTTP/1.1\r\n" + h + "\r\n", 2},
		{"absolute URI", "GET http://example.com/echo?q=1 HTTP/1.1\r\n" + h + "\r\n", 1},
		{"chunk extension", "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\n\r\n", 1},
		{"bare LF", "GET /hello HTTP/1.1\nHost: example.com\n\n", 1},
		{"length and chunked both: chunked wins", "POST /echo HTTP/1.1\r\n" + h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 1},
		{"chunk size overflows", "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 1},
		{"folded header", "GET /hello HTTP/1.1\r\n" + h + "X: a\r\n b\r\n\r\n", 1},
		{"ErrAbortHandler before anything is sent", "GET /hello HTTP/1.1\r\n" + h + "\r\nGET /abort HTTP/1.1\r\n" + h + "\r\nGET /hello HTTP/1.1\r\n" + h + "\r\n", 3},
		{"empty Content-Length set by the handler", "GET /empty-length HTTP/1.1\r\n" + h + "\r\n", 1},
		{"empty Content-Length set by the handler, HTTP/1.0", "GET /empty-length HTTP/1.0\r\n\r\n", 1},
		{"empty Content-Length set by the handler, HEAD", "HEAD /empty-length HTTP/1.1\r\n" + h + "\r\n", 1},
		{"invalid Content-Length set by the handler", "GET /bad-length HTTP/1.1\r\n" + h + "\r\n", 1},
		{"hijack after WriteHeader", "GET /hijack-after-write?header-only HTTP/1.1\r\n" + h + "\r\n", 1},
		{"body read after the answer", "POST /read-after-answer HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\nabc", 1},
		{"body read after the answer, read before", "POST /echo-then-read HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\nabc", 1},
		{"body read after the answer, 100-continue", "POST /echo-then-read HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", 2},
		{"invalid header names dropped", "GET /badnames HTTP/1.1\r\n" + h + "\r\n", 1},
		{"more than Content-Length", "GET /too-long HTTP/1.1\r\n" + h + "\r\n", 1},
		{"chunked set by the handler", "GET /chunked-by-handler HTTP/1.1\r\n" + h + "\r\n", 1},
		{"chunked set by the handler, HTTP/1.0", "GET /chunked-by-handler HTTP/1.0\r\n\r\n", 1},
		{"Date and Content-Type suppressed", "GET /no-date-no-type HTTP/1.1\r\n" + h + "\r\n", 1},
		{"flush before writing", "GET /flush-first HTTP/1.1\r\n" + h + "\r\n", 1},
		{"flush before writing, HTTP/1.0", "GET /flush-first HTTP/1.0\r\n\r\n", 1},
		{"ServeContent range", "GET /content HTTP/1.1\r\n" + h + "Range: bytes=10-19\r\n\r\n", 1},
		{"ServeContent not modified", "GET /content HTTP/1.1\r\n" + h + "If-Modified-Since: Wed, 18 May 2033 03:33:20 GMT\r\n\r\n", 1},
		{"ServeContent HEAD", "HEAD /content HTTP/1.1\r\n" + h + "\r\n", 1},
		{"redirect", "GET /redirect HTTP/1.1\r\n" + h + "\r\n", 1},
		{"redirect HEAD", "HEAD /redirect HTTP/1.1\r\n" + h + "\r\n", 1},
		{"body closed unread", "POST /close-body HTTP/1.1\r\n" + h + "Content-Length: 3\r\n\r\nabcGET /hello HTTP/1.1\r\n" + h + "\r\n", 2},
		{"chunked body closed unread", "POST /close-body HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /hello HTTP/1.1\r\n" + h + "\r\n", 2},
		{"form", "POST /form?q=1 HTTP/1.1\r\n" + h + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2", 1},
		// Bad input: an answer, then the connection closes.
		{"chunked not last", "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 1},
		{"signed content length", "POST /echo HTTP/1.1\r\n" + h + "Content-Length: +3\r\n\r\nabc", 1},
		{"malformed request line", "GARBAGE\r\n\r\n", 1},
		{"bad header", "GET / HTTP/1.1\r\n" + h + "Bad Header: x\r\n\r\n", 1},
		{"header without colon", "GET / HTTP/1.1\r\n" + h + "NoColon\r\n\r\n", 1},
		{"control byte in value", "GET / HTTP/1.1\r\n" + h + "X: a\x01b\r\n\r\n", 1},
		{"missing host", "GET / HTTP/1.1\r\n\r\n", 1},
		{"empty host", "GET /hello HTTP/1.1\r\nHost:\r\n\r\n", 1},
		{"empty host, spaces", "GET /hello HTTP/1.1\r\nhost:  \r\n\r\n", 1},
		{"empty host, with a body", "POST /echo HTTP/1.1\r\nHost:\r\nContent-Length: 3\r\n\r\nabc", 1},
		{"empty host, bare LF", "POST /echo HTTP/1.1\nHost:\nContent-Length: 3\n\nabc", 1},
		{"missing host, with a body", "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 1},
		{"host only in a folded line", "POST /echo HTTP/1.1\r\nX: a\r\n Host: b\r\nContent-Length: 3\r\n\r\nabc", 1},
		{"missing host, HTTP/1.0", "GET /hello HTTP/1.0\r\n\r\n", 1},
		{"malformed host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 1},
		{"unsupported version", "GET / HTTP/2.0\r\n" + h + "\r\n", 1},
		{"HTTP/0.9", "GET / HTTP/0.9\r\n" + h + "\r\n", 1},
		{"unsupported transfer encoding", "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n", 1},
		{"bad chunking", "POST /echo HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 1},
		{"bad content length", "POST /echo HTTP/1.1\r\n" + h + "Content-Length: x\r\n\r\n", 1},
		{"two content lengths", "POST /echo HTTP/1.1\r\n" + h + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := exchange(t, ref.Listener.Addr().String(), tt.raw, tt.n)
			got := exchange(t, addr, tt.raw, tt.n)
			if len(got) != len(want) {
				t.Fatalf("aio answered %d responses, net/http %d", len(got), len(want))
			}
			for i := range want {
				if g, w := describe(got[i]), describe(want[i]); g != w {
					t.Errorf("response %d:\naio:\n%s\nnet/http:\n%s", i, g, w)
				}
				if got[i].Header.Get("Date") == "" && want[i].Header.Get("Date") != "" {
					t.Errorf("response %d has no Date", i)
				}
			}
		})
	}
}

// A handler that wrote some of its body before Hijack has it sent first,
// after the header (net/http sends the header and drops the bytes it had
// buffered).
func TestHijackAfterWrite(t *testing.T) {
	addr := startServer(t, &aiohttp.Server{Handler: contractHandler()})
	resps := exchange(t, addr, "GET /hijack-after-write HTTP/1.1\r\nHost: x\r\n\r\n", 1)
	if len(resps) != 1 {
		t.Fatalf("%d responses", len(resps))
	}
	if b, _ := io.ReadAll(resps[0].Body); resps[0].StatusCode != 200 || string(b) != "before;after;" {
		t.Errorf("status %d, body %q; want 200 and what was written before the hijack, then after", resps[0].StatusCode, b)
	}
}

// TestPlainHTTPToTLSPort: a plain HTTP request to a TLS server gets
// net/http's answer, which says what went wrong; other bytes that are not
// TLS just close the connection, as with net/http.
func TestPlainHTTPToTLSPort(t *testing.T) {
	cert := testCert(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
	ref := httptest.NewUnstartedServer(h)
	ref.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ref.Config.ErrorLog = log.New(io.Discard, "", 0)
	ref.StartTLS()
	defer ref.Close()
	addr := startServer(t, &aiohttp.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
	read := func(addr, raw string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, raw)
		b, _ := io.ReadAll(c)
		return string(b)
	}
	for _, raw := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "hello, not TLS\r\n\r\n"} {
		if got, want := read(addr, raw), read(ref.Listener.Addr().String(), raw); got != want {
			t.Errorf("%q: aio answered %q, net/http %q", raw, got, want)
		}
	}
}

// With DisableGeneralOptionsHandler, "OPTIONS *" goes to the handler.
func TestOptionsStarToHandler(t *testing.T) {
	addr := startServer(t, &aiohttp.Server{
		DisableGeneralOptionsHandler: true,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Method+" "+r.RequestURI)
		}),
	})
	resps := exchange(t, addr, "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1)
	if len(resps) != 1 {
		t.Fatalf("%d responses", len(resps))
	}
	if b, _ := io.ReadAll(resps[0].Body); string(b) != "OPTIONS *" {
		t.Errorf("handler answered %q; want it to see OPTIONS *", b)
	}
}

// A TLS server offers HTTP/1.1 through ALPN, never HTTP/2, even with "h2"
// in its TLSConfig: a client that would speak HTTP/2 (net/http's) gets
// HTTP/1.1 and its answer.
func TestTLSNegotiatesHTTP1(t *testing.T) {
	cert := testCert(t)
	srv := &aiohttp.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}},
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }),
	}
	addr := startServer(t, srv)
	client := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.TLS == nil || resp.TLS.NegotiatedProtocol != "http/1.1" || resp.Proto != "HTTP/1.1" || string(b) != "HTTP/1.1" {
		t.Errorf("ALPN %q, response %s, handler saw %q; want http/1.1 throughout", resp.TLS.NegotiatedProtocol, resp.Proto, b)
	}
	// A session whose TLSConfig offers "h2" to a server that prefers it
	// (net/http's) still gets HTTP/1.1.
	ref := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "websocket" {
			if c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil); err == nil {
				c.Close()
			}
			return
		}
		io.WriteString(w, r.Proto)
	}))
	ref.EnableHTTP2 = true
	ref.StartTLS()
	defer ref.Close()
	err = aio.Run(context.Background(), func(ctx context.Context) error {
		s := &aiohttp.Session{TLSConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}}
		defer s.Close()
		resp, err := s.Get(ctx, ref.URL)
		if err != nil {
			return err
		}
		text, err := resp.Text(ctx)
		if err != nil || text != "HTTP/1.1" {
			t.Errorf("the session's request reached net/http as %q, %v; want HTTP/1.1", text, err)
		}
		ws, _, err := s.WebSocket(ctx, "wss"+strings.TrimPrefix(ref.URL, "https"), nil)
		if err != nil {
			t.Errorf("a WebSocket to a server that prefers h2: %v", err)
		} else {
			ws.Close(ctx, aiohttp.CloseNormal, "")
		}
		return nil
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
}
