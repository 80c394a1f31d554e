package aiohttp_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiotest"
)

// wsEcho is a WebSocket handler that echoes what it receives and reports how
// its receive loop ended.
func wsEcho(ended *aio.Future[error], opts *aiohttp.WebSocketOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := aiohttp.Upgrade(w, r, opts)
		if err != nil {
			return
		}
		for m, err := range ws.Messages(r.Context()) {
			if err != nil {
				ended.SetResult(err)
				return
			}
			if m.Text() == "close-me" {
				ended.SetResult(ws.Close(r.Context(), 4001, "asked to"))
				return
			}
			if err := ws.Send(r.Context(), m.Type, m.Data); err != nil {
				ended.SetResult(err)
				return
			}
		}
		ended.SetResult(nil) // the client closed normally
	})
}

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/" }

// wsEchoPair serves wsEcho with the server options given and connects a
// client to it; stop closes the server.
func wsEchoPair(t *testing.T, ctx context.Context, opts *aiohttp.WebSocketOptions) (ws *aiohttp.WebSocket, resp *http.Response, ended *aio.Future[error], stop func()) {
	t.Helper()
	ended = aio.NewFuture[error](ctx)
	srv := &aiohttp.Server{Handler: wsEcho(ended, opts)}
	base, _ := serveTask(t, ctx, srv)
	ws, resp, err := (&aiohttp.Session{}).WebSocket(ctx, wsURL(base), nil)
	if err != nil {
		stopServer(ctx, srv)
		t.Fatal(err)
	}
	return ws, resp, ended, func() { stopServer(ctx, srv) }
}

// TestWebSocketEcho: text, binary and JSON messages both ways, a ping, and a
// close handshake started by the client.
func TestWebSocketEcho(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		ws, resp, ended, stop := wsEchoPair(t, ctx, nil)
		defer stop()
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Errorf("handshake status %d", resp.StatusCode)
		}
		if err := ws.SendText(ctx, "hello"); err != nil {
			return err
		}
		if m, err := ws.Receive(ctx); err != nil || m.Type != aiohttp.TextMessage || m.Text() != "hello" {
			t.Errorf("text echo: %v %q %v", m.Type, m.Data, err)
		}
		if err := ws.Send(ctx, aiohttp.BinaryMessage, []byte{0, 1, 2}); err != nil {
			return err
		}
		if m, err := ws.Receive(ctx); err != nil || m.Type != aiohttp.BinaryMessage || string(m.Data) != "\x00\x01\x02" {
			t.Errorf("binary echo: %v %q %v", m.Type, m.Data, err)
		}
		if err := ws.Ping(ctx, []byte("p")); err != nil {
			return err
		}
		if err := ws.SendJSON(ctx, map[string]int{"n": 7}); err != nil {
			return err
		}
		var v map[string]int
		if err := ws.ReceiveJSON(ctx, &v); err != nil || v["n"] != 7 {
			t.Errorf("JSON echo: %v %v", v, err)
		}
		if err := ws.Close(ctx, aiohttp.CloseNormal, "bye"); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err, _ := ended.Await(ctx); err != nil {
			t.Errorf("the server's receive loop ended with %v; want a normal close", err)
		}
		return nil
	})
}

// TestWebSocketCloseCodes: a close started by the server reaches the client
// with its code and reason.
func TestWebSocketCloseCodes(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		ws, _, ended, stop := wsEchoPair(t, ctx, nil)
		defer stop()
		if err := ws.SendText(ctx, "close-me"); err != nil {
			return err
		}
		_, err := ws.Receive(ctx)
		var ce *aiohttp.CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "asked to" {
			t.Errorf("Receive after the server's close = %v; want code 4001 \"asked to\"", err)
		}
		if err, _ := ended.Await(ctx); err != nil {
			t.Errorf("the server's Close: %v", err)
		}
		return ws.Close(ctx, aiohttp.CloseNormal, "")
	})
}

// TestWebSocketMessageTooBig: a message over the server's limit ends the
// connection with 1009.
func TestWebSocketMessageTooBig(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		ws, _, ended, stop := wsEchoPair(t, ctx, &aiohttp.WebSocketOptions{MaxMessageSize: 1000})
		defer stop()
		defer ws.Close(ctx, aiohttp.CloseNormal, "")
		if err := ws.SendText(ctx, strings.Repeat("x", 1000)); err != nil {
			return err
		}
		if m, err := ws.Receive(ctx); err != nil || len(m.Data) != 1000 {
			t.Errorf("a message at the limit: %d bytes, %v", len(m.Data), err)
		}
		if err := ws.SendText(ctx, strings.Repeat("x", 1001)); err != nil {
			return err
		}
		if err, _ := ended.Await(ctx); !errors.Is(err, aiohttp.ErrMessageTooBig) {
			t.Errorf("the server's Receive = %v; want ErrMessageTooBig", err)
		}
		_, err := ws.Receive(ctx)
		var ce *aiohttp.CloseError
		if !errors.As(err, &ce) || ce.Code != aiohttp.CloseMessageTooBig {
			t.Errorf("the client's Receive = %v; want close code 1009", err)
		}
		return nil
	})
}

// TestWebSocketInvalidText: a text message that is not UTF-8 is refused by
// Send, and, sent anyway, ends the connection with 1007 at the receiver.
func TestWebSocketInvalidText(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		ws, _, ended, stop := wsEchoPair(t, ctx, nil)
		defer stop()
		defer ws.Close(ctx, aiohttp.CloseNormal, "")
		bad := []byte("caf\xe9")
		if err := ws.Send(ctx, aiohttp.TextMessage, bad); !errors.Is(err, aiohttp.ErrInvalidText) {
			t.Errorf("Send of invalid UTF-8 = %v; want ErrInvalidText", err)
		}
		if err := ws.Send(ctx, aiohttp.BinaryMessage, bad); err != nil {
			t.Errorf("Send of the same bytes as binary = %v", err)
		}
		if m, err := ws.Receive(ctx); err != nil || string(m.Data) != string(bad) {
			t.Errorf("binary echo: %q %v", m.Data, err)
		}
		if err := ws.SendUnchecked(ctx, aiohttp.TextMessage, bad); err != nil {
			return err
		}
		if err, _ := ended.Await(ctx); !errors.Is(err, aiohttp.ErrInvalidText) {
			t.Errorf("the server's Receive = %v; want ErrInvalidText", err)
		}
		_, err := ws.Receive(ctx)
		var ce *aiohttp.CloseError
		if !errors.As(err, &ce) || ce.Code != aiohttp.CloseInvalidPayload {
			t.Errorf("the client's Receive = %v; want close code 1007", err)
		}
		return nil
	})
}

// TestWebSocketReceiveCancelled: a Receive waits in its task, and a timeout
// scope or the task's cancellation ends it; the connection stays usable and
// loses no message.
func TestWebSocketReceiveCancelled(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		ws, _, _, stop := wsEchoPair(t, ctx, nil)
		defer stop()
		defer ws.Close(ctx, aiohttp.CloseNormal, "")
		start := aio.LoopOf(ctx).Now()
		err := aio.Timeout(ctx, 5*time.Second, func(ctx context.Context) error {
			_, err := ws.Receive(ctx)
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) || aio.LoopOf(ctx).Now().Sub(start) != 5*time.Second {
			t.Errorf("Receive under a 5 s timeout = %v after %v", err, aio.LoopOf(ctx).Now().Sub(start))
		}
		reader := aio.Spawn(ctx, func(ctx context.Context) (aiohttp.Message, error) { return ws.Receive(ctx) })
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return err
		}
		reader.Cancel()
		if _, err := reader.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Receive = %v", err)
		}
		if err := ws.SendText(ctx, "still there"); err != nil {
			return err
		}
		if m, err := ws.Receive(ctx); err != nil || m.Text() != "still there" {
			t.Errorf("after the cancelled Receives: %q %v", m.Data, err)
		}
		return nil
	})
}

// TestWebSocketTLS: wss through the server's TLS, and the client's.
func TestWebSocketTLS(t *testing.T) {
	cert := testCert(t)
	aiotest.Run(t, func(ctx context.Context) error {
		ended := aio.NewFuture[error](ctx)
		srv := &aiohttp.Server{Handler: wsEcho(ended, nil), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		aio.Go(ctx, func(ctx context.Context) error { srv.Serve(ctx, ln); return nil })
		defer stopServer(ctx, srv)
		s := &aiohttp.Session{TLSConfig: &tls.Config{InsecureSkipVerify: true}}
		defer s.Close()
		resp, err := s.Get(ctx, "https://"+ln.Addr().String()+"/")
		if err != nil {
			return err
		}
		resp.Close()
		if resp.StatusCode != http.StatusBadRequest { // a GET that is no WebSocket handshake
			t.Errorf("https GET: %d", resp.StatusCode)
		}
		ws, _, err := s.WebSocket(ctx, "wss://"+ln.Addr().String()+"/", nil)
		if err != nil {
			return err
		}
		if err := ws.SendText(ctx, "secret"); err != nil {
			return err
		}
		if m, err := ws.Receive(ctx); err != nil || m.Text() != "secret" {
			t.Errorf("wss echo: %q %v", m.Data, err)
		}
		return ws.Close(ctx, aiohttp.CloseNormal, "")
	})
}

// testCert returns net/http/httptest's certificate (for 127.0.0.1).
func testCert(t *testing.T) tls.Certificate {
	s := httptest.NewUnstartedServer(nil)
	defer s.Close()
	s.StartTLS()
	return s.TLS.Certificates[0]
}

// TestWebSocketEveryReceiverSeesTheEnd: when the peer closes, every task
// waiting in Receive gets the close, not only the first.
func TestWebSocketEveryReceiverSeesTheEnd(t *testing.T) {
	aiotest.Run(t, func(ctx context.Context) error {
		ws, _, _, stop := wsEchoPair(t, ctx, nil)
		defer stop()
		receive := func(ctx context.Context) (aiohttp.Message, error) { return ws.Receive(ctx) }
		a, b := aio.Spawn(ctx, receive), aio.Spawn(ctx, receive)
		if err := aio.Sleep(ctx, time.Second); err != nil { // both wait
			return err
		}
		if err := ws.SendText(ctx, "close-me"); err != nil { // the server closes with 4001
			return err
		}
		for _, r := range []*aio.Task[aiohttp.Message]{a, b} {
			_, err := r.Await(ctx)
			var ce *aiohttp.CloseError
			if !errors.As(err, &ce) || ce.Code != 4001 {
				t.Errorf("a waiting Receive ended with %v; want the close 4001", err)
			}
		}
		return nil
	})
}

// TestTLSHandshakeTimeout: a client that opens a TLS connection and says
// nothing is cut off at ReadHeaderTimeout, on the loop's clock.
func TestTLSHandshakeTimeout(t *testing.T) {
	cert := testCert(t)
	aiotest.Run(t, func(ctx context.Context) error {
		srv := &aiohttp.Server{ReadHeaderTimeout: 5 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
			Handler: http.NotFoundHandler()}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		start := aio.LoopOf(ctx).Now()
		s, err := rawConn(ctx, base, "")
		if err != nil {
			return err
		}
		defer s.Close()
		if got, _ := readAll(ctx, s); got != "" {
			t.Errorf("read %q", got)
		}
		if took := aio.LoopOf(ctx).Now().Sub(start); took != 5*time.Second {
			t.Errorf("the silent TLS client was cut after %v; want 5s", took)
		}
		return nil
	})
}

// TestWebSocketShutdown: Shutdown sends each WebSocket a close frame with
// 1001 Going Away, and returns once its handler has returned; Close closes
// them at once.
func TestWebSocketShutdown(t *testing.T) {
	for _, graceful := range []bool{true, false} {
		aiotest.Run(t, func(ctx context.Context) error {
			ended := aio.NewFuture[error](ctx)
			srv := &aiohttp.Server{Handler: wsEcho(ended, nil)}
			base, _ := serveTask(t, ctx, srv)
			defer stopServer(ctx, srv)
			ws, _, err := (&aiohttp.Session{}).WebSocket(ctx, wsURL(base), nil)
			if err != nil {
				return err
			}
			defer ws.Close(ctx, aiohttp.CloseNormal, "")
			if err := ws.SendText(ctx, "hi"); err != nil {
				return err
			}
			if _, err := ws.Receive(ctx); err != nil {
				return err
			}
			var shutdown *aio.Task[struct{}]
			if graceful {
				shutdown = aio.Go(ctx, srv.Shutdown)
			} else {
				srv.Close()
			}
			var m aiohttp.Message
			err = aio.Timeout(ctx, time.Minute, func(ctx context.Context) error {
				m, err = ws.Receive(ctx)
				return err
			})
			var ce *aiohttp.CloseError
			switch {
			case errors.Is(err, context.DeadlineExceeded):
				t.Errorf("graceful=%v: the client heard nothing for a minute", graceful)
			case graceful && (!errors.As(err, &ce) || ce.Code != aiohttp.CloseGoingAway):
				t.Errorf("Receive after Shutdown = %v, %q; want a close with 1001 Going Away", err, m.Data)
			case !graceful && err == nil:
				t.Errorf("Receive after Close = %q; want an error", m.Data)
			}
			if graceful {
				if _, err := shutdown.Await(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				if !ended.Done() {
					t.Errorf("Shutdown returned before the WebSocket's handler")
				}
			}
			return nil
		})
	}
}

// TestUpgradeOffTheLoop: Upgrade in a handler that net/http's server runs
// (no loop) fails with aio.ErrNoTask and answers 500, rather than hand back
// a WebSocket nothing can read.
func TestUpgradeOffTheLoop(t *testing.T) {
	errs := make(chan error, 1)
	ref := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := aiohttp.Upgrade(w, r, nil)
		if ws != nil {
			err = errors.New("got a WebSocket")
		}
		errs <- err
	}))
	defer ref.Close()
	req, _ := http.NewRequest("GET", ref.URL, nil)
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-errs; !errors.Is(err, aio.ErrNoTask) || resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("Upgrade off the loop: %v, status %d; want aio.ErrNoTask and 500", err, resp.StatusCode)
	}
	if err := (&aiohttp.Server{}).Serve(context.Background(), nil); err == nil {
		t.Errorf("Serve with a nil listener succeeded")
	}
}

// TestWebSocketURLsAndProxy: Session.WebSocket takes an http URL or one
// relative to the session's BaseURL, and goes through the session's proxy
// (a CONNECT tunnel), which must be an http one.
func TestWebSocketURLsAndProxy(t *testing.T) {
	proxy, _, tunnels, _ := proxyServer(t)
	run(t, func(ctx context.Context) error {
		ended := aio.NewFuture[error](ctx)
		srv := &aiohttp.Server{Handler: wsEcho(ended, nil)}
		base, _ := serveTask(t, ctx, srv)
		defer stopServer(ctx, srv)
		for _, tc := range []struct {
			name string
			s    *aiohttp.Session
			url  string
		}{
			{"http URL", &aiohttp.Session{}, base + "/"},
			{"relative to BaseURL", &aiohttp.Session{BaseURL: base + "/api/"}, "chat"},
			{"through the proxy", &aiohttp.Session{Proxy: http.ProxyURL(proxy)}, wsURL(base)},
		} {
			ws, _, err := tc.s.WebSocket(ctx, tc.url, nil)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if err := ws.SendText(ctx, tc.name); err != nil {
				return err
			}
			if m, err := ws.Receive(ctx); err != nil || m.Text() != tc.name {
				t.Errorf("%s: echo %q %v", tc.name, m.Data, err)
			}
			ws.Close(ctx, aiohttp.CloseNormal, "")
			tc.s.Close()
		}
		if n := tunnels.Load(); n != 1 {
			t.Errorf("the proxy opened %d tunnels; want 1", n)
		}
		socks := &aiohttp.Session{Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: "127.0.0.1:1"})}
		if _, _, err := socks.WebSocket(ctx, wsURL(base), nil); err == nil || !strings.Contains(err.Error(), "unsupported proxy scheme") {
			t.Errorf("a socks5 proxy: %v", err)
		}
		return nil
	})
}
