package aiohttp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// MessageType says what a WebSocket message holds.
type MessageType int

// The message types.
const (
	TextMessage   MessageType = websocket.TextMessage
	BinaryMessage MessageType = websocket.BinaryMessage
)

// Message is a WebSocket message (aiohttp's WSMessage, for data).
type Message struct {
	Type MessageType
	Data []byte
}

// Text returns the message's data as a string.
func (m Message) Text() string { return string(m.Data) }

// Close codes of RFC 6455 section 7.4.1 that programs use most.
const (
	CloseNormal          = websocket.CloseNormalClosure
	CloseGoingAway       = websocket.CloseGoingAway
	CloseProtocolError   = websocket.CloseProtocolError
	CloseUnsupportedData = websocket.CloseUnsupportedData
	CloseNoStatus        = websocket.CloseNoStatusReceived
	CloseAbnormal        = websocket.CloseAbnormalClosure
	CloseInvalidPayload  = websocket.CloseInvalidFramePayloadData
	CloseMessageTooBig   = websocket.CloseMessageTooBig
	CloseInternalError   = websocket.CloseInternalServerErr
)

// CloseError is what Receive returns once the peer has closed the
// connection: its close code and reason.
type CloseError struct {
	Code   int
	Reason string
}

// Error reports the close code and reason.
func (e *CloseError) Error() string {
	return "aiohttp: websocket closed: " + (&websocket.CloseError{Code: e.Code, Text: e.Reason}).Error()
}

// ErrMessageTooBig is returned by Receive for a message larger than the
// limit; the connection is then closed with CloseMessageTooBig.
var ErrMessageTooBig = errors.New("aiohttp: websocket message larger than the limit")

// ErrInvalidText is returned by Receive for a text message that is not
// valid UTF-8, after which the connection is closed with
// CloseInvalidPayload (RFC 6455 section 8.1), and by Send for such a
// message, which it does not send.
var ErrInvalidText = errors.New("aiohttp: websocket text message is not valid UTF-8")

// WebSocketOptions configures both ends of a WebSocket; the zero value is
// ready to use.
type WebSocketOptions struct {
	// Subprotocols are the ones offered (client) or accepted (server), in
	// order of preference.
	Subprotocols []string
	// MaxMessageSize bounds a received message; 4 MiB if zero (aiohttp's
	// max_msg_size), no bound if negative.
	MaxMessageSize int64
	// CheckOrigin decides whether a server accepts a request's Origin;
	// nil accepts a request without Origin, or from the same host.
	CheckOrigin func(r *http.Request) bool
	// Compression negotiates per-message deflate (RFC 7692).
	Compression bool
	// Header is sent with the client's handshake request.
	Header http.Header
	// HandshakeTimeout bounds the opening handshake; 10 s if zero.
	HandshakeTimeout time.Duration
}

func (o *WebSocketOptions) maxMessageSize() int64 {
	switch {
	case o == nil || o.MaxMessageSize == 0:
		return 4 << 20
	case o.MaxMessageSize < 0:
		return 0
	}
	return o.MaxMessageSize
}

// WebSocket is a WebSocket connection for tasks (aiohttp's
// WebSocketResponse and ClientWebSocketResponse): Receive and Send suspend
// the calling task, not the loop, and end with its context. One task may
// receive while others send; sends are taken in turn. Pings are answered,
// and the close handshake is made, without the caller's help. The framing
// is github.com/gorilla/websocket's, over the loop's connection.
type WebSocket struct {
	c       *websocket.Conn
	nc      *aionet.Conn
	wmu     aio.Lock            // one writer at a time (gorilla's rule)
	in      *aio.Queue[Message] // what the reader task read ahead
	end     error               // what the reader ended with
	ctx     context.Context
	closing bool
}

func newWebSocket(ctx context.Context, c *websocket.Conn, limit int64) *WebSocket {
	ws := &WebSocket{c: c, ctx: context.WithoutCancel(ctx), in: aio.NewQueue[Message](1)}
	nc := c.NetConn()
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	ws.nc, _ = nc.(*aionet.Conn)
	c.SetReadLimit(limit)
	// gorilla answers pings and close frames from the reader, waiting for
	// the writer's lock on a channel; here the answer goes out from a task
	// of its own, in turn with the other writes, so that nothing blocks the
	// loop.
	c.SetPingHandler(func(data string) error {
		ws.control(websocket.PongMessage, []byte(data))
		return nil
	})
	c.SetCloseHandler(func(code int, text string) error {
		if !ws.closing {
			ws.closing = true
			if code == websocket.CloseNoStatusReceived {
				ws.control(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			} else {
				ws.control(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""))
			}
		}
		return nil
	})
	aio.Go(ws.ctx, ws.read, aio.WithName("aiohttp.websocket.reader"))
	return ws
}

// read is the reader task: it reads messages ahead of Receive, one at a
// time, so that a Receive ended by its context loses nothing and leaves the
// connection usable (gorilla's reads cannot be interrupted and resumed), and
// so that pings are answered while nobody receives.
func (ws *WebSocket) read(ctx context.Context) error {
	for {
		kind, data, err := ws.c.ReadMessage()
		if err == nil && kind == websocket.TextMessage && !utf8.Valid(data) {
			ws.closeWith(CloseInvalidPayload, "invalid UTF-8")
			err = ErrInvalidText
		}
		if err != nil {
			// Every Receive from now on, and those waiting, get the end.
			ws.end = ws.readError(err)
			ws.in.Shutdown(false)
			return nil
		}
		if ws.in.Put(ctx, Message{Type: MessageType(kind), Data: data}) != nil {
			return nil
		}
	}
}

// control sends a control frame from a task of its own.
func (ws *WebSocket) control(kind int, data []byte) {
	aio.Go(ws.ctx, func(ctx context.Context) error {
		ws.write(ctx, func() error { // best effort: a failure shows in the reads
			return ws.c.WriteControl(kind, data, time.Now().Add(10*time.Second))
		})
		return nil
	}, aio.WithName("aiohttp.websocket.control"))
}

// Upgrade turns the request into a WebSocket connection (aiohttp's
// WebSocketResponse.prepare), from inside a handler of a Server. If it fails,
// it has answered the request with an error status.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *WebSocketOptions) (*WebSocket, error) {
	if aio.LoopOf(r.Context()) == nil { // a handler under net/http's server, say
		http.Error(w, "WebSocket upgrade outside an aio loop", http.StatusInternalServerError)
		return nil, fmt.Errorf("aiohttp: Upgrade needs a request served from a loop (aiohttp.Server): %w", aio.ErrNoTask)
	}
	if opts == nil {
		opts = &WebSocketOptions{}
	}
	up := websocket.Upgrader{
		Subprotocols:      opts.Subprotocols,
		CheckOrigin:       opts.CheckOrigin,
		EnableCompression: opts.Compression,
		HandshakeTimeout:  opts.HandshakeTimeout,
	}
	resp := unwrapResponse(w)
	if resp != nil {
		resp.c.upgrading = true
	}
	c, err := up.Upgrade(w, r, nil)
	if resp != nil {
		resp.c.upgrading = false
	}
	if err != nil {
		return nil, err
	}
	ws := newWebSocket(r.Context(), c, opts.maxMessageSize())
	if resp != nil {
		resp.c.ws = ws // closed when the handler returns, as aiohttp does
		resp.c.sv.addSocket(resp.c)
	}
	return ws, nil
}

// unwrapResponse finds the server's own ResponseWriter under middleware
// that wraps it (and says so with Unwrap, as http.ResponseController asks).
func unwrapResponse(w http.ResponseWriter) *response {
	for {
		switch t := w.(type) {
		case *response:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// WebSocket opens a WebSocket connection to rawURL, ws:// or wss:// (or
// http:// and https://, or relative to the session's BaseURL), as aiohttp's
// ClientSession.ws_connect, on a connection of its own: WebSockets are not
// pooled. It goes through the session's Proxy (a CONNECT tunnel), with its
// Header, Jar and TLSConfig. The response is the server's answer to the
// handshake; on a failed handshake it is returned with the error when there
// was one.
func (s *Session) WebSocket(ctx context.Context, rawURL string, opts *WebSocketOptions) (*WebSocket, *http.Response, error) {
	if err := s.bind(ctx); err != nil {
		return nil, nil, err
	}
	if opts == nil {
		opts = &WebSocketOptions{}
	}
	target, err := s.webSocketURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	var tlsConfig *tls.Config
	if s.TLSConfig != nil {
		tlsConfig = http1Only(s.TLSConfig) // the handshake is HTTP/1.1
	}
	d := websocket.Dialer{
		Proxy: func(req *http.Request) (*url.URL, error) {
			if s.Proxy == nil {
				return nil, nil
			}
			proxy, err := s.Proxy(req) // req's URL is the http(s) form, as for requests
			if err == nil && proxy != nil && proxy.Scheme != "http" {
				return nil, fmt.Errorf("aiohttp: unsupported proxy scheme %q", proxy.Scheme)
			}
			return proxy, err
		},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			st, err := aionet.Dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return st.Conn(), nil
		},
		TLSClientConfig:   tlsConfig,
		HandshakeTimeout:  cmpDuration(opts.HandshakeTimeout, 10*time.Second),
		Subprotocols:      opts.Subprotocols,
		EnableCompression: opts.Compression,
		Jar:               s.Jar,
	}
	header := http.Header{}
	for k, vv := range s.Header {
		header[k] = vv
	}
	for k, vv := range opts.Header {
		header[k] = vv
	}
	c, resp, err := d.DialContext(ctx, target, header)
	if err != nil {
		return nil, resp, err
	}
	return newWebSocket(ctx, c, opts.maxMessageSize()), resp, nil
}

// webSocketURL resolves a relative URL against the session's BaseURL, and
// gives an http(s) URL its ws(s) form, as aiohttp's ws_connect takes both.
func (s *Session) webSocketURL(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u, err = s.resolve(u); err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	return u.String(), nil
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Subprotocol returns the subprotocol agreed on in the handshake.
func (ws *WebSocket) Subprotocol() string { return ws.c.Subprotocol() }

// Receive waits for the next message (aiohttp's receive). Once the peer has
// closed the connection it returns a *CloseError with its code; a message
// over the size limit gets ErrMessageTooBig. Pings, pongs and close frames
// are handled inside.
func (ws *WebSocket) Receive(ctx context.Context) (Message, error) {
	m, err := ws.in.Get(ctx)
	if errors.Is(err, aio.ErrQueueShutDown) {
		return Message{}, ws.end
	}
	return m, err
}

func (ws *WebSocket) readError(err error) error {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return &CloseError{Code: ce.Code, Reason: ce.Text}
	case errors.Is(err, websocket.ErrReadLimit):
		ws.closeWith(websocket.CloseMessageTooBig, "message too big")
		return ErrMessageTooBig
	}
	return err
}

// Messages returns an iterator over the messages received, for a range
// loop (aiohttp's async for msg in ws). It ends when the peer closes the
// connection normally; another end is yielded as an error, after which it
// stops.
func (ws *WebSocket) Messages(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for {
			m, err := ws.Receive(ctx)
			var ce *CloseError
			if errors.As(err, &ce) && (ce.Code == CloseNormal || ce.Code == CloseGoingAway || ce.Code == CloseNoStatus) {
				return
			}
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// Send sends a message of the given type. A text message must be valid
// UTF-8 (ErrInvalidText).
func (ws *WebSocket) Send(ctx context.Context, kind MessageType, data []byte) error {
	if kind == TextMessage && !utf8.Valid(data) {
		return ErrInvalidText
	}
	return ws.write(ctx, func() error { return ws.c.WriteMessage(int(kind), data) })
}

// SendText sends a text message (aiohttp's send_str).
func (ws *WebSocket) SendText(ctx context.Context, text string) error {
	return ws.Send(ctx, TextMessage, []byte(text))
}

// SendJSON sends v encoded as JSON in a text message (aiohttp's send_json).
func (ws *WebSocket) SendJSON(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ws.Send(ctx, TextMessage, b)
}

// ReceiveJSON receives a message and decodes it as JSON into v.
func (ws *WebSocket) ReceiveJSON(ctx context.Context, v any) error {
	m, err := ws.Receive(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(m.Data, v)
}

// Ping sends a ping; the peer's pong is handled by Receive.
func (ws *WebSocket) Ping(ctx context.Context, data []byte) error {
	return ws.write(ctx, func() error {
		return ws.c.WriteControl(websocket.PingMessage, data, time.Now().Add(10*time.Second))
	})
}

// write runs fn as the one writer, with ctx reaching the connection.
func (ws *WebSocket) write(ctx context.Context, fn func() error) error {
	if err := ws.wmu.Lock(ctx); err != nil {
		return err
	}
	defer ws.wmu.Unlock()
	if ws.nc != nil {
		ws.nc.SetWriteContext(ctx)
		defer ws.nc.SetWriteContext(nil)
	}
	if err := fn(); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	return nil
}

// Close makes the close handshake (aiohttp's close): it sends a close
// frame with code and reason, waits until the peer answers with its own
// (messages received meanwhile are dropped) or ctx ends, and closes the
// connection.
func (ws *WebSocket) Close(ctx context.Context, code int, reason string) error {
	defer ws.c.Close()
	if !ws.closing {
		ws.closing = true
		err := ws.write(ctx, func() error {
			return ws.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(10*time.Second))
		})
		if err != nil {
			return err
		}
	}
	for {
		_, err := ws.Receive(ctx)
		var ce *CloseError
		if errors.As(err, &ce) {
			return nil
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return err
			}
			return nil // the peer hung up without its close frame
		}
	}
}

// goAway starts the close handshake with 1001 Going Away, for a server
// that shuts down: the peer's answer ends Receive with a CloseError, and
// the handler returns.
func (ws *WebSocket) goAway() {
	if ws.closing {
		return
	}
	ws.closing = true
	ws.control(websocket.CloseMessage, websocket.FormatCloseMessage(CloseGoingAway, "server shutting down"))
}

// closeWith sends a close frame and closes the connection, from a task of
// its own: the caller does not wait.
func (ws *WebSocket) closeWith(code int, reason string) {
	if ws.closing {
		return
	}
	ws.closing = true
	aio.Go(ws.ctx, func(ctx context.Context) error {
		defer ws.c.Close()
		ws.write(ctx, func() error { // best effort: the connection closes anyway
			return ws.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		})
		return nil
	}, aio.WithName("aiohttp.websocket.close"))
}
