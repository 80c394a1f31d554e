package aiohttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// serverConn is one connection of a Server, served by a task of its own that
// reads the requests one after the other and runs each handler in a scope of
// its own. Its fields belong to the loop's goroutine.
type serverConn struct {
	sv     *serving
	s      *aionet.Stream
	nc     *aionet.Conn // the stream as a net.Conn: for TLS and Hijack
	tc     *tls.Conn    // nil without TLS
	task   *aio.Task[struct{}]
	br     *bufio.Reader
	r      connReader
	out    []byte // response bytes not handed to the stream yet
	hdrBuf []byte // the serialised header snapshot of the response, reused
	body   []byte // the body held back before the header is sent, reused
	remote string // the peer's address, for r.RemoteAddr
	// lastHead is the text of the last short request's line and header:
	// the next one, if the same (a client repeating a request on a
	// keep-alive connection), shares its strings instead of copying them.
	lastHead string
	idle     bool // waiting for the first byte of a request: Shutdown closes it
	first    bool // no request read yet

	rctx, wctx context.Context // the task reading and the task writing now
	rdl, wdl   time.Time       // read and write deadlines on the loop's clock; zero: none
	werr       error           // the first write error: the connection is done
	hijacked   bool
	upgrading  bool // in Upgrade: a Hijack is a WebSocket's
	aborted    bool
	lastPOST   bool
	scope      *aio.TimeoutScope           // r.Context()'s scope, while the handler runs
	hungUp     bool                        // the client hung up while a handler ran
	ws         *WebSocket                  // made by Upgrade: closed when the handler returns
	onHangUp   func(error)                 // cancels scope
	cur        *response                   // the response of the request being handled
	runCur     func(context.Context) error // cur.run, made once
	// flushPending says flushSoon (writeGathered, as a func made once) is
	// due at the loop's next pass.
	flushPending bool
	flushSoon    func()
}

// connReader is what the serverConn's bufio.Reader reads: the connection, within
// the read deadline, and within the header limit while a header is read.
type connReader struct {
	c      *serverConn
	remain int64 // bytes the header may still take; < 0: no limit
	hit    bool  // the header limit was reached
	reads  int   // calls to Read, to know that the buffer was refilled
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.remain >= 0 {
		if r.remain == 0 {
			r.hit = true
			return 0, io.EOF
		}
		if int64(len(p)) > r.remain {
			p = p[:r.remain]
		}
	}
	r.reads++
	n, err := r.c.read(p)
	if r.remain >= 0 {
		r.remain -= int64(n)
	}
	return n, err
}

func newServerConn(sv *serving, s *aionet.Stream, tlsConfig *tls.Config) *serverConn {
	c := &serverConn{sv: sv, s: s, first: true, idle: true}
	c.onHangUp = c.hangUp
	c.runCur = func(ctx context.Context) error { return c.cur.run(ctx) }
	c.flushSoon = c.writeGathered
	c.r.c = c
	c.r.remain = -1
	if tlsConfig != nil {
		c.nc = s.Conn()
		c.tc = tls.Server(c.nc, tlsConfig)
	}
	c.br = sv.getReader(&c.r)
	return c
}

// read reads from the connection with the task of rctx, within rdl. The
// responses gathered for pipelined requests go out first: the client may be
// waiting for them before it sends more.
func (c *serverConn) read(p []byte) (n int, err error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	ctx := c.rctx
	if c.rdl.IsZero() {
		return c.rawRead(ctx, p)
	}
	err = aio.TimeoutAt(ctx, c.rdl, func(ctx context.Context) error {
		n, err = c.rawRead(ctx, p)
		return err
	})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = os.ErrDeadlineExceeded // the connection's deadline, not ctx's
	}
	return n, err
}

func (c *serverConn) rawRead(ctx context.Context, p []byte) (int, error) {
	if c.tc == nil {
		return c.s.Read(ctx, p)
	}
	c.nc.SetReadContext(ctx)
	defer c.nc.SetReadContext(nil)
	return c.tc.Read(p)
}

// flush hands the buffered response bytes to the connection and, if the
// connection's buffer is full, waits (within wdl) until the peer has taken
// enough of it. A failure is kept in werr: the connection is then done.
func (c *serverConn) flush() error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.out) == 0 {
		return nil
	}
	// out is emptied before the write, which may wait for room: a
	// writeGathered that runs meanwhile finds nothing to write again.
	out := c.out
	c.out = c.out[:0]
	err := c.writeRaw(out)
	if err != nil {
		c.werr = err
		c.abort()
	}
	return err
}

// writeGathered hands the responses gathered for pipelined requests to the
// connection, from a loop callback: the task that gathered them awaits
// something in the next request's handler. It does not wait for room (a
// callback cannot): the task's next flush does.
func (c *serverConn) writeGathered() {
	c.flushPending = false
	if c.hijacked || c.werr != nil || len(c.out) == 0 {
		return
	}
	if _, err := c.s.Write(c.out); err != nil {
		c.werr = err
		c.abort()
	}
	c.out = c.out[:0]
}

// writeRaw writes b and waits while the connection's buffer is full, within
// wdl: the deadline is a timeout scope around the wait, for TLS as for plain
// connections (aionet.Conn waits with the context it is given).
func (c *serverConn) writeRaw(b []byte) error {
	ctx := c.wctx
	if c.wdl.IsZero() {
		return c.writeWith(ctx, b)
	}
	if !c.wdl.After(c.sv.loop.Now()) {
		return os.ErrDeadlineExceeded
	}
	err := aio.TimeoutAt(ctx, c.wdl, func(ctx context.Context) error { return c.writeWith(ctx, b) })
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = os.ErrDeadlineExceeded // the connection's deadline, not ctx's
	}
	return err
}

func (c *serverConn) writeWith(ctx context.Context, b []byte) error {
	if c.tc != nil {
		c.nc.SetWriteContext(ctx)
		defer c.nc.SetWriteContext(nil)
		_, err := c.tc.Write(b)
		return err
	}
	if _, err := c.s.Write(b); err != nil {
		return err
	}
	if c.s.Transport().WriteBufferSize() <= aionet.DefaultHighWater {
		return nil
	}
	return c.s.Drain(ctx)
}

// abort closes the connection at once.
func (c *serverConn) abort() {
	if c.aborted || c.hijacked {
		return
	}
	c.aborted = true
	c.s.Transport().Abort()
}

// deadline returns now + d on the loop's clock, or zero for d <= 0.
func (c *serverConn) deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return c.sv.loop.Now().Add(d)
}

// looksLikeHTTP says whether the first 5 bytes a TLS server read are the
// start of a plain HTTP request (net/http's test).
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// serve is the connection's task: requests, one after the other, until the
// connection or the server closes.
func (c *serverConn) serve(ctx context.Context) error {
	srv := c.sv.srv
	c.rctx, c.wctx = ctx, ctx
	defer c.end()
	if c.tc != nil {
		// Handshake, not HandshakeContext: the reads and writes wait with
		// the context given to the Conn, here a timeout scope; HandshakeContext
		// would watch its context from a goroutine of its own.
		handshake := func(ctx context.Context) error {
			c.nc.SetContext(ctx)
			defer c.nc.SetContext(nil)
			err := c.tc.Handshake()
			var rhe tls.RecordHeaderError
			if errors.As(err, &rhe) && rhe.Conn != nil && looksLikeHTTP(rhe.RecordHeader) {
				// Plain HTTP to the TLS port: say so, as net/http does.
				io.WriteString(rhe.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
			}
			return err
		}
		err := aio.TimeoutAt(ctx, c.deadline(firstNonZero(srv.ReadHeaderTimeout, srv.ReadTimeout)), handshake)
		if err != nil {
			return nil // a client that cannot speak TLS: nothing more to answer
		}
	}
	for {
		// Idle: waiting for the first byte of the next request.
		if c.sv.shutting || c.aborted {
			return nil
		}
		if c.first {
			c.rdl = c.deadline(firstNonZero(srv.ReadHeaderTimeout, srv.ReadTimeout))
		} else {
			c.rdl = c.deadline(firstNonZero(srv.IdleTimeout, srv.ReadTimeout))
		}
		if c.br.Buffered() == 0 && c.flush() != nil { // the responses to pipelined requests, before the wait
			return nil
		}
		c.idle = true
		if err := c.awaitRequest(); err != nil {
			return nil
		}
		c.idle = false
		if !c.first {
			c.rdl = c.deadline(firstNonZero(srv.ReadHeaderTimeout, srv.ReadTimeout))
		}
		c.first = false
		w, err := c.readRequest()
		if err != nil {
			c.replyError(err)
			return nil
		}
		more := c.handle(ctx, w)
		if w.pooled && !c.hijacked {
			c.sv.putResponse(w)
		}
		if !more {
			return nil
		}
	}
}

// awaitRequest waits for the first byte of the next request, within the
// read deadline. An idle plain connection gives its read buffer back to the
// loop's pool meanwhile, and its response buffers if they grew: idle
// keep-alive connections are most of a server's, and cost what they hold.
func (c *serverConn) awaitRequest() error {
	if c.br.Buffered() > 0 {
		return nil
	}
	if c.tc != nil { // TLS buffers records of its own: wait through it
		_, err := c.br.Peek(1)
		return err
	}
	c.sv.putReader(c.br)
	c.br = nil
	if cap(c.out) > flushAt {
		c.out = nil
	}
	if cap(c.body) > bufferBeforeChunking {
		c.body = nil
	}
	ctx := c.rctx
	var err error
	if c.rdl.IsZero() {
		err = c.s.WaitReadable(ctx)
	} else {
		err = aio.TimeoutAt(ctx, c.rdl, c.s.WaitReadable)
	}
	if err == nil && c.s.AtEOF() {
		err = io.EOF
	}
	c.br = c.sv.getReader(&c.r)
	return err
}

func firstNonZero(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return 0
}

// end closes the connection and forgets it.
func (c *serverConn) end() {
	if !c.hijacked {
		if c.werr == nil {
			c.flush()
		}
		c.s.Close()
	}
	sv := c.sv
	delete(sv.conns, c)
	sv.checkDone()
}

// errors of readRequest that get an answer.
var (
	errTooLarge = errors.New("aiohttp: request header too large")
)

type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return http.StatusText(e.code) + ": " + e.text }

type badRequestError string

func (e badRequestError) Error() string { return "bad request: " + string(e) }

// bufferHead reads until the request's head is whole in the read buffer, or
// fills it, and returns the buffered bytes, the head at their start. Reading
// stops at an error, which http.ReadRequest meets again: every error of the
// connection's reads (end of stream, deadline, header limit, cancellation)
// comes back at the next read.
func (c *serverConn) bufferHead() []byte {
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if bytes.Contains(buf, []byte("\n\r\n")) || bytes.Contains(buf, []byte("\n\n")) || len(buf) == c.br.Size() {
			return buf
		}
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			return nil
		}
	}
}

// hasHostField says whether the request head at the start of buf has a Host
// field line.
func hasHostField(buf []byte) bool {
	_, rest, _ := bytes.Cut(buf, []byte("\n")) // the request line
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return false // the head's end
		}
		if len(line) >= 5 && line[4] == ':' && bytes.EqualFold(line[:4], []byte("host")) {
			return true
		}
	}
	return false
}

// readRequest reads a request's header, checks it as net/http's server does
// and makes its response.
func (c *serverConn) readRequest() (*response, error) {
	srv := c.sv.srv
	maxHeader := srv.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = http.DefaultMaxHeaderBytes
	}
	c.r.remain = int64(maxHeader) + 4096 // net/http's slack for the request line
	c.r.hit = false
	if c.lastPOST { // RFC 7230 section 3: old clients add a CRLF after a POST body
		if peek, _ := c.br.Peek(4); len(peek) > 0 {
			n := 0
			for n < len(peek) && (peek[n] == '\r' || peek[n] == '\n') {
				n++
			}
			c.br.Discard(n)
		}
	}
	var start time.Time // ReadTimeout counts from the request's first byte
	if srv.ReadTimeout > 0 {
		start = c.sv.loop.Now()
	}
	var req *http.Request
	var err error
	simple := false // parsed by parseSimpleRequest: header checked, no body
	if _, err = c.br.Peek(1); err == nil {
		buf, _ := c.br.Peek(c.br.Buffered())
		if r, n, ok := parseSimpleRequest(buf, maxHeader, &c.lastHead); ok {
			c.br.Discard(n)
			req, simple = r, true
		}
	}
	var head []byte // the head in the read buffer, while no read refills it
	var reads int
	if req == nil && err == nil {
		head = c.bufferHead()
		reads = c.r.reads
		req, err = http.ReadRequest(c.br)
	}
	hit := c.r.hit
	c.r.remain = -1
	if err != nil {
		if hit {
			return nil, errTooLarge
		}
		return nil, err
	}
	if req.ProtoMajor != 1 && !(req.ProtoMajor == 2 && req.ProtoMinor == 0 && req.Method == "PRI" && req.RequestURI == "*") {
		return nil, statusError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	c.lastPOST = req.Method == "POST"
	// http.ReadRequest has moved Host into req.Host (and refused two), and
	// dropped the field: an empty one (RFC 9112 section 3.2: the target has
	// no authority) is told from a missing one in the head it read, if no
	// read refilled the buffer since (a head longer than the buffer).
	if req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != "CONNECT" && req.Method != "PRI" &&
		(head == nil || c.r.reads != reads || !hasHostField(head)) {
		return nil, badRequestError("missing required Host header")
	}
	if req.Host != "" && !httpguts.ValidHostHeader(req.Host) {
		return nil, badRequestError("malformed Host header")
	}
	if !simple { // parseSimpleRequest checked its names and values
		if err := checkHeader(req.Header); err != nil {
			return nil, err
		}
	}

	if d := srv.ReadTimeout; d > 0 {
		c.rdl = start.Add(d)
	} else {
		c.rdl = time.Time{}
	}
	c.wdl = c.deadline(srv.WriteTimeout)
	if c.remote == "" {
		c.remote = c.s.RemoteAddr().String()
	}
	req.RemoteAddr = c.remote
	if c.tc != nil {
		st := c.tc.ConnectionState()
		req.TLS = &st
	}
	w := c.sv.newResponse(c, req, simple || req.Body == http.NoBody)
	w.wants10KeepAlive = !req.ProtoAtLeast(1, 1) && hasToken(req.Header.Get("Connection"), "keep-alive")
	w.wantsClose = req.Close
	if srv.DisableKeepAlives {
		w.closeAfterReply = true
	}
	if n := srv.MaxBodyBytes; n > 0 && req.ContentLength > n {
		return nil, statusError{http.StatusRequestEntityTooLarge, "request body too large"}
	}
	w.bodyStore = requestBody{w: w, rc: req.Body}
	w.body = &w.bodyStore
	if n := srv.MaxBodyBytes; n > 0 && req.ContentLength < 0 {
		w.body.rc = http.MaxBytesReader(w, req.Body, n)
	}
	req.Body = w.body
	return w, nil
}

// checkHeader refuses the header names and values net/http's server
// refuses (http.ReadRequest leaves that to the server).
func checkHeader(h http.Header) error {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return badRequestError("invalid header name")
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return badRequestError("invalid header value")
			}
		}
	}
	return nil
}

// replyError answers a request that could not be read, as net/http's server
// does, and ends the connection.
func (c *serverConn) replyError(err error) {
	const errorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	var msg string
	var se statusError
	var bre badRequestError
	switch {
	case err == errTooLarge:
		const publicErr = "431 Request Header Fields Too Large"
		msg = "HTTP/1.1 " + publicErr + errorHeaders + publicErr
	case strings.Contains(err.Error(), "unsupported transfer encoding"):
		// The value is not echoed back, against cross-site scripting.
		msg = "HTTP/1.1 501 Not Implemented" + errorHeaders + "Unsupported transfer encoding"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, net.ErrClosed) || isNetError(err) || c.aborted:
		return // the client left, or its time ran out: nobody to answer
	case errors.As(err, &se):
		text := fmt.Sprintf("%d %s: %s", se.code, http.StatusText(se.code), se.text)
		msg = "HTTP/1.1 " + text + errorHeaders + text
	case errors.As(err, &bre):
		text := "400 Bad Request: " + string(bre)
		msg = "HTTP/1.1 " + text + errorHeaders + text
	default:
		const publicErr = "400 Bad Request"
		msg = "HTTP/1.1 " + publicErr + errorHeaders + publicErr
	}
	c.out = append(c.out, msg...)
	c.flush()
}

func isNetError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout())
}

// handle runs the handler of one request and reports whether the connection
// may serve another. The handler runs in the connection's task, in a scope
// of its own whose context is r.Context(): the scope is cancelled when the
// client hangs up and when ServeHTTP returns, as net/http's request context
// is, at the cost of no task, no switch and no pass of the loop.
func (c *serverConn) handle(ctx context.Context, w *response) bool {
	req := w.req
	if expect := get(req.Header, "Expect"); expect != "" {
		if strings.EqualFold(expect, "100-continue") {
			if req.ProtoAtLeast(1, 1) && req.ContentLength != 0 {
				w.expectsContinue, w.canWriteContinue = true, true
			}
		} else {
			w.handlerHeader.Set("Connection", "close")
			w.WriteHeader(http.StatusExpectationFailed)
			w.finish()
			return false
		}
	}
	c.hungUp, c.cur = false, w
	err := aio.TimeoutAt(ctx, time.Time{}, c.runCur)
	c.cur = nil
	if err != nil && ctx.Err() != nil {
		return false // the connection's own task is cancelled: the loop is closing
	}
	c.s.OnHangUp(nil)
	c.rctx, c.wctx = ctx, ctx
	if c.hijacked {
		return false
	}
	if c.hungUp && !w.handlerDone {
		// The client hung up, or the server was closed: nobody reads the rest.
		return false
	}
	return !w.closeAfterReply && c.werr == nil && w.reusable()
}

// optionsStar answers "OPTIONS *" (a question about the server, not about a
// resource) with 200 and no body, as net/http's server does unless its
// DisableGeneralOptionsHandler is set. A body the request may carry is read
// up to 4 KiB; past that the connection closes after the answer.
type optionsStar struct{}

func (optionsStar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	if r.ContentLength != 0 {
		io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4<<10))
	}
}

// hangUp cancels the request in flight: the client is gone.
func (c *serverConn) hangUp(error) {
	c.hungUp = true
	if c.scope != nil {
		c.scope.Cancel("client hung up")
	}
}

// run runs the handler in the request's scope, then ends the response.
func (w *response) run(ctx context.Context) error {
	c := w.c
	c.rctx, c.wctx = ctx, ctx
	c.scope = aio.TimeoutOf(ctx)
	// A client that hangs up cancels the request (net/http's background
	// read does the same); the handler still runs if it hung up before.
	c.s.OnHangUp(c.onHangUp)
	defer func() {
		if p := recover(); p != nil {
			w.panicked(ctx, p)
		}
		if c.ws != nil {
			c.ws.closeWith(CloseNormal, "")
			c.sv.dropSocket(c)
		}
		// net/http cancels the request's context once ServeHTTP returns:
		// what the handler spawned with it stops too.
		c.scope.Cancel("handler returned")
		c.scope = nil
	}()
	h := c.sv.srv.Handler
	switch {
	case w.req.RequestURI == "*" && w.req.Method == http.MethodOptions && !c.sv.srv.DisableGeneralOptionsHandler:
		h = optionsStar{}
	case h == nil:
		h = http.DefaultServeMux
	}
	// The request itself gets the context, not a copy: its body fills in
	// req.Trailer at the end.
	*w.req = *w.req.WithContext(ctx)
	h.ServeHTTP(w, w.req)
	if !c.hijacked {
		w.finish()
	}
	return nil
}
