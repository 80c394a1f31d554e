package aiohttp

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/aio-go/aio"
)

// bufferBeforeChunking is how much of a body the response holds before it
// sends the header: a handler that writes no more and returns gets a
// Content-Length, one that writes more gets a chunked body (net/http's
// figure, so that both servers answer alike).
const bufferBeforeChunking = 2048

// maxPostHandlerReadBytes is how much of an unread request body the server
// reads to keep the connection (net/http's figure); more, and it closes.
const maxPostHandlerReadBytes = 256 << 10

// flushAt is how many response bytes the connection gathers before it hands
// them to the socket.
const flushAt = 16 << 10

// response is the http.ResponseWriter of a request.
type response struct {
	c             *serverConn
	req           *http.Request
	body          *requestBody
	handlerHeader http.Header
	snap          headerSnapshot // the header as of WriteHeader
	status        int
	wroteHeader   bool // logically: WriteHeader was called
	headerSent    bool // physically: the header is on its way
	chunking      bool
	handlerDone   bool
	buf           []byte // body bytes held back until the header is sent
	written       int64  // body bytes the handler wrote
	contentLength int64  // from the Content-Length the handler set; -1: none
	trailers      []string

	expectsContinue                 bool // the client waits for "100 Continue" to send the body
	canWriteContinue, wroteContinue bool
	wants10KeepAlive, wantsClose    bool
	closeAfterReply                 bool
	fullDuplex                      bool
	pooled                          bool // made for a bodiless request: reused after it

	bodyStore requestBody // body points here: one allocation fewer
	extra     [10]string  // sendHeader's scratch space
}

// The keys of the header that the server may drop or decide on when it sends
// the header; a snapshot keeps them apart from the rest.
const (
	keyContentLength = iota
	keyTransferEncoding
	keyConnection
	keyContentType
	nSpecial
)

var specialKeys = [nSpecial]string{"Content-Length", "Transfer-Encoding", "Connection", "Content-Type"}

// headerSnapshot is the handler's header as it was at WriteHeader, which is
// what the response sends whatever the handler does to the map afterwards
// (net/http clones the map for that; the snapshot costs no allocation).
type headerSnapshot struct {
	rest     []byte             // the other keys, serialised in key order
	special  [nSpecial][]string // the values of specialKeys; nil if absent
	has      [nSpecial]bool     // whether each special key is present
	drop     [nSpecial]bool     // keys the server decided not to send
	hasDate  bool               // the handler set Date
	encoding string             // Content-Encoding
	trailers bool               // Trailer declared, or keys with http.TrailerPrefix
	declared []string           // the trailer keys the Trailer header declares
}

// take snapshots h, serialising into buf: one pass over the map, which
// sorts out the keys the server decides on and the others, whose values it
// keeps for the serialisation (no second lookup per key).
func (s *headerSnapshot) take(h http.Header, buf []byte) {
	type field struct {
		key    string
		values []string
	}
	// Eight fields, more spilling to the heap: a bigger frame here pushed
	// the connection task's stack from 4 to 8 KiB (TestIdleConnectionStack).
	var small [8]field
	rest := small[:0]
	for k, vv := range h {
		switch k {
		case "Content-Length":
			s.special[keyContentLength], s.has[keyContentLength] = vv, true
			continue
		case "Transfer-Encoding":
			s.special[keyTransferEncoding], s.has[keyTransferEncoding] = vv, true
			continue
		case "Connection":
			s.special[keyConnection], s.has[keyConnection] = vv, true
			continue
		case "Content-Type":
			s.special[keyContentType], s.has[keyContentType] = vv, true
			continue
		case "Date":
			s.hasDate = true
		case "Content-Encoding":
			if len(vv) > 0 {
				s.encoding = vv[0]
			}
		case "Trailer":
			s.declareTrailers(vv)
		default:
			if strings.HasPrefix(k, http.TrailerPrefix) {
				s.trailers = true
				continue
			}
		}
		rest = append(rest, field{k, vv})
	}
	if len(rest) > 1 {
		slices.SortFunc(rest, func(a, b field) int { return strings.Compare(a.key, b.key) })
	}
	for _, f := range rest {
		buf = appendValues(buf, f.key, f.values)
	}
	s.rest = buf
}

// declareTrailers notes the trailer keys a Trailer header's values declare.
func (s *headerSnapshot) declareTrailers(vv []string) {
	for _, v := range vv {
		s.trailers = true
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				if k := http.CanonicalHeaderKey(f); httpguts.ValidTrailerHeader(k) {
					s.declared = append(s.declared, k)
				}
			}
		}
	}
}

// get returns the first value of special key i, or "".
func (s *headerSnapshot) get(i int) string {
	if v := s.special[i]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Header returns the header the response will send (http.ResponseWriter).
func (w *response) Header() http.Header { return w.handlerHeader }

// WriteHeader sends the status code (http.ResponseWriter). A 1xx code other
// than 101 sends an informational response at once.
func (w *response) WriteHeader(code int) {
	if w.c.hijacked || w.wroteHeader {
		return // net/http logs "superfluous WriteHeader" and ignores it
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 101 || code > 199 {
		w.canWriteContinue = false
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		c := w.c
		c.out = appendStatusLine(c.out, w.req.ProtoAtLeast(1, 1), code)
		c.out = appendHeader(c.out, w.handlerHeader, []string{"Content-Length", "Transfer-Encoding"})
		c.out = append(c.out, "\r\n"...)
		c.flush()
		return
	}
	w.wroteHeader = true
	w.status = code
	w.snap.take(w.handlerHeader, w.c.hdrBuf[:0])
	w.c.hdrBuf = w.snap.rest[:0] // its room, for the next response
	if cl := w.snap.get(keyContentLength); cl != "" {
		if v, err := strconv.ParseInt(cl, 10, 64); err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.snap.drop[keyContentLength] = true
			w.snap.has[keyContentLength] = false
		}
	}
}

// Write writes body bytes (http.ResponseWriter).
func (w *response) Write(p []byte) (int, error) {
	c := w.c
	if c.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.canWriteContinue = false
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if c.werr != nil {
		return 0, c.werr
	}
	if !w.headerSent {
		if len(w.buf)+len(p) <= bufferBeforeChunking {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		first := w.buf
		if len(first) == 0 {
			first = p
		}
		w.sendHeader(first)
		if len(w.buf) > 0 {
			w.writeBody(w.buf)
			w.buf = w.buf[:0]
		}
	}
	if err := w.writeBody(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString writes s (io.StringWriter).
func (w *response) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// writeBody writes p as the body's next bytes: a chunk if chunking.
func (w *response) writeBody(p []byte) error {
	c := w.c
	if w.req.Method == "HEAD" || len(p) == 0 {
		return nil
	}
	if w.chunking {
		c.out = strconv.AppendInt(c.out, int64(len(p)), 16)
		c.out = append(c.out, "\r\n"...)
	}
	if len(p) >= flushAt { // big writes go out without a copy
		if err := c.flush(); err != nil {
			return err
		}
		if err := c.writeRaw(p); err != nil {
			c.werr = err
			c.abort()
			return err
		}
	} else {
		c.out = append(c.out, p...)
	}
	if w.chunking {
		c.out = append(c.out, "\r\n"...)
	}
	if len(c.out) >= flushAt {
		return c.flush()
	}
	return nil
}

// Flush sends what the handler wrote so far (http.Flusher).
func (w *response) Flush() { w.FlushError() }

// FlushError sends what the handler wrote so far, and waits while the
// connection's buffer is full; it is what http.ResponseController.Flush
// calls.
func (w *response) FlushError() error {
	c := w.c
	if c.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.sendBuffered()
	return c.flush()
}

// sendBuffered sends the header, if not yet sent, with the body bytes the
// response held back for it.
func (w *response) sendBuffered() {
	if !w.headerSent {
		w.sendHeader(w.buf)
		w.writeBody(w.buf)
		w.buf = w.buf[:0]
	}
}

// SetReadDeadline sets the deadline for reading the request body, on the
// loop's clock (http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error {
	w.c.rdl = w.loopTime(t)
	return nil
}

// SetWriteDeadline sets the deadline for writing the response, on the
// loop's clock (http.ResponseController).
func (w *response) SetWriteDeadline(t time.Time) error {
	w.c.wdl = w.loopTime(t)
	return nil
}

// loopTime turns a wall-clock deadline into one on the loop's clock.
func (w *response) loopTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return w.c.sv.loop.Now().Add(time.Until(t))
}

// EnableFullDuplex lets the handler read the request body while it writes
// the response (http.ResponseController). aio's writes never wait for the
// body, so this changes only what happens to an unread body.
func (w *response) EnableFullDuplex() error {
	w.fullDuplex = true
	return nil
}

// Hijack hands the connection over to the handler (http.Hijacker): what the
// server buffered from it is in the bufio.Reader. If the handler wrote a
// status or body before, they are sent first, as net/http does (chunked, if
// no Content-Length was set). The net.Conn's Read and Write suspend the
// calling task, as aionet.Conn's do; the handler closes it.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c := w.c
	if c.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.wroteHeader { // as net/http: what was written goes first
		w.sendBuffered()
	}
	if err := c.flush(); err != nil {
		return nil, nil, err
	}
	c.hijacked = true
	c.s.OnHangUp(nil)
	var nc net.Conn
	if c.tc != nil {
		nc = c.tc
	} else {
		c.nc = c.s.Conn()
		nc = c.nc
	}
	if !c.upgrading { // Upgrade counts it as a WebSocket instead
		delete(c.sv.conns, c)
		c.sv.checkDone()
	}
	br := c.br
	c.br = nil
	return nc, bufio.NewReadWriter(br, bufio.NewWriter(nc)), nil
}

// requestTooLarge is what http.MaxBytesReader calls: the connection closes
// after the response.
func (w *response) requestTooLarge() { w.closeAfterReply = true }

// writeContinue sends "100 Continue" before the first read of a body the
// client waits to send.
func (w *response) writeContinue() {
	if !w.canWriteContinue || w.wroteContinue {
		return
	}
	w.wroteContinue = true
	c := w.c
	c.out = append(c.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
	c.flush()
}

// reusable reports whether the connection can serve another request once
// this response is done.
func (w *response) reusable() bool {
	if w.req.Method != "HEAD" && w.contentLength != -1 && bodyAllowedForStatus(w.status) && w.contentLength != w.written {
		return false // the body is short of its Content-Length
	}
	return !w.body.broken
}

// finish ends the response once the handler has returned.
func (w *response) finish() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	c := w.c
	if !w.headerSent {
		w.sendHeader(w.buf)
		w.writeBody(w.buf)
	}
	c.body, w.buf = w.buf[:0], nil // its room, for the next response
	if w.chunking {
		c.out = append(c.out, "0\r\n"...)
		c.out = w.appendTrailers(c.out)
		c.out = append(c.out, "\r\n"...)
	}
	// The next request is here already (pipelined): its response goes out
	// with this one, in one write, unless the bytes gathered are many. What
	// is gathered goes out before the connection waits for the client (see
	// serve and serverConn.read), or at the loop's next pass if the next
	// handler awaits something first (flushSoon), so that no response waits
	// for the one after it.
	if c.tc != nil || c.br == nil || c.br.Buffered() == 0 || len(c.out) >= flushAt {
		c.flush()
		return
	}
	if !c.flushPending {
		c.flushPending = true
		c.sv.loop.CallSoon(c.flushSoon)
	}
}

// panicked answers a request whose handler panicked: 500 if nothing was sent
// yet; the connection closes. The panic goes to the loop's exception
// handler, but for http.ErrAbortHandler, which is how a handler asks to end
// the response without a report: as with net/http, the connection then
// closes without an answer (no 500), and the client sees the response cut.
func (w *response) panicked(ctx context.Context, p any) {
	c := w.c
	abort := p == http.ErrAbortHandler
	if !abort {
		err := &aio.PanicError{Value: p, Stack: debug.Stack()}
		c.sv.loop.CallExceptionHandler(aio.ExceptionContext{
			Message: "aiohttp: handler panicked serving " + w.req.Method + " " + w.req.RequestURI + " for " + w.req.RemoteAddr,
			Err:     err,
			Task:    aio.CurrentTask(ctx).Name(),
		})
	}
	w.closeAfterReply = true
	if c.hijacked {
		return
	}
	if !w.headerSent && !abort {
		// After the answers of pipelined requests before this one, which
		// out may still hold.
		c.out = append(c.out, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\nConnection: close\r\n\r\nInternal Server Error"...)
		w.headerSent = true
		w.handlerDone = true
	}
	c.flush()
	c.abort()
}

// sendHeader writes the status line and header, deciding what net/http's
// server decides: Content-Length for a body the handler finished within the
// buffer, chunking otherwise, Connection, Date, a sniffed Content-Type.
// p is the first part of the body.
func (w *response) sendHeader(p []byte) {
	w.headerSent = true
	c := w.c
	srv := c.sv.srv
	keepAlives := !srv.DisableKeepAlives && !c.sv.shutting
	isHEAD := w.req.Method == "HEAD"
	h := &w.snap
	extra := w.extra[:0] // key, value pairs to add
	w.trailers = h.declared
	te := h.get(keyTransferEncoding)
	hasTE := te != ""

	if w.handlerDone && !h.trailers && !hasTE && bodyAllowedForStatus(w.status) && !h.has[keyContentLength] && !h.drop[keyContentLength] && (!isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		extra = append(extra, "Content-Length", strconv.Itoa(len(p)))
	}
	if w.wants10KeepAlive && keepAlives {
		if h.get(keyContentLength) != "" && h.get(keyConnection) == "keep-alive" {
			w.closeAfterReply = false
		}
	}
	hasCL := w.contentLength != -1
	if w.wants10KeepAlive && (isHEAD || hasCL || !bodyAllowedForStatus(w.status)) {
		if !h.has[keyConnection] {
			extra = append(extra, "Connection", "keep-alive")
		}
	} else if !w.req.ProtoAtLeast(1, 1) || w.wantsClose {
		w.closeAfterReply = true
	}
	if h.get(keyConnection) == "close" || !keepAlives {
		w.closeAfterReply = true
	}
	if w.expectsContinue && !w.body.sawEOF {
		// The client waits to send a body nobody read: the next bytes on
		// the wire may be that body, not a request.
		w.closeAfterReply = true
	}
	if w.req.ContentLength != 0 && !w.closeAfterReply && !w.fullDuplex {
		// As net/http's, the body is read to its end here and closed: the
		// handler's reads after the header fail (not with a body that
		// waited for "100 Continue", which it gets here only read whole).
		switch {
		case w.body.closed:
			if !w.body.sawEOF {
				w.closeAfterReply = true
			}
		case w.expectsContinue:
		case w.body.sawEOF || w.body.discard():
			w.body.closed = true
		default:
			w.closeAfterReply = true
			h.drop[keyConnection] = true
			extra = append(extra, "Connection", "close")
		}
	}
	code := w.status
	if bodyAllowedForStatus(code) {
		if h.encoding == "" && !h.has[keyContentType] && !hasTE && len(p) > 0 {
			extra = append(extra, "Content-Type", http.DetectContentType(p))
		}
	} else {
		h.drop[keyContentLength], h.drop[keyTransferEncoding] = true, true
		if code == http.StatusNotModified {
			h.drop[keyContentType] = true
		}
	}
	if !h.hasDate {
		extra = append(extra, "Date", c.sv.date())
	}
	if hasCL && hasTE && te != "identity" {
		h.drop[keyContentLength] = true
		hasCL = false
	}
	switch {
	case isHEAD || !bodyAllowedForStatus(code) || code == http.StatusNoContent:
		h.drop[keyTransferEncoding] = true
	case hasCL:
		h.drop[keyTransferEncoding] = true
	case w.req.ProtoAtLeast(1, 1):
		if hasTE && te == "identity" {
			w.closeAfterReply = true
			h.drop[keyTransferEncoding] = true
		} else {
			w.chunking = true
			extra = append(extra, "Transfer-Encoding", "chunked")
			if hasTE && te == "chunked" {
				h.drop[keyTransferEncoding] = true
			}
		}
	default:
		w.closeAfterReply = true
		h.drop[keyTransferEncoding] = true
	}
	if w.chunking {
		h.drop[keyContentLength] = true
	}
	isSwitch := code == http.StatusSwitchingProtocols && hasToken(h.get(keyConnection), "upgrade")
	if w.closeAfterReply && (!keepAlives || !hasToken(h.get(keyConnection), "close")) && !isSwitch {
		h.drop[keyConnection] = true
		if w.req.ProtoAtLeast(1, 1) {
			extra = append(extra, "Connection", "close")
		}
	}
	c.out = appendStatusLine(c.out, w.req.ProtoAtLeast(1, 1), code)
	c.out = append(c.out, h.rest...)
	for i, k := range specialKeys {
		if h.has[i] && !h.drop[i] {
			c.out = appendValues(c.out, k, h.special[i])
		}
	}
	for i := 0; i < len(extra); i += 2 {
		c.out = append(c.out, extra[i]...)
		c.out = append(c.out, ": "...)
		c.out = append(c.out, extra[i+1]...)
		c.out = append(c.out, "\r\n"...)
	}
	c.out = append(c.out, "\r\n"...)
}

// appendTrailers appends the trailers the handler declared or set with
// http.TrailerPrefix.
func (w *response) appendTrailers(b []byte) []byte {
	t := make(http.Header)
	for k, vv := range w.handlerHeader {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			t[kk] = vv
		}
	}
	for _, k := range w.trailers {
		for _, v := range w.handlerHeader[k] {
			t.Add(k, v)
		}
	}
	return appendHeader(b, t, nil)
}

// get is h.Get for a key in canonical form, without canonicalising it.
func get(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == 204, status == 304:
		return false
	}
	return true
}

func hasToken(v, token string) bool {
	for f := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(f), token) {
			return true
		}
	}
	return false
}

func appendStatusLine(b []byte, is11 bool, code int) []byte {
	if is11 {
		b = append(b, "HTTP/1.1 "...)
	} else {
		b = append(b, "HTTP/1.0 "...)
	}
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if text := http.StatusText(code); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return append(b, "\r\n"...)
}

// appendHeader appends h in key order, as http.Header.Write does, without
// the keys in skip.
func appendHeader(b []byte, h http.Header, skip []string) []byte {
	var small [16]string
	keys := small[:0]
	for k := range h {
		if !slices.Contains(skip, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return appendKeys(b, h, keys)
}

// appendKeys appends the keys of h given, in that order.
func appendKeys(b []byte, h http.Header, keys []string) []byte {
	for _, k := range keys {
		b = appendValues(b, k, h[k])
	}
	return b
}

// appendValues appends a header line per value, with newlines in values made
// spaces, and nothing for a key that is not a valid field name
// (http.Header.Write's rules: no header injection).
func appendValues(b []byte, k string, vv []string) []byte {
	if !httpguts.ValidHeaderFieldName(k) {
		return b
	}
	for _, v := range vv {
		b = append(b, k...)
		b = append(b, ": "...)
		for i := 0; i < len(v); i++ {
			ch := v[i]
			if ch == '\r' || ch == '\n' {
				ch = ' '
			}
			b = append(b, ch)
		}
		b = append(b, "\r\n"...)
	}
	return b
}

// date returns the Date header for now, formatted once a second per loop.
func (sv *serving) date() string {
	now := time.Now()
	if sec := now.Unix(); sec != sv.dateSec || sv.dateText == "" {
		sv.dateSec, sv.dateText = sec, now.UTC().Format(http.TimeFormat)
	}
	return sv.dateText
}

// requestBody is the request's Body: it notes what the server must know to
// keep the connection (was it read to the end, closed) and sends "100
// Continue" before the first read when the client waits for it.
type requestBody struct {
	w      *response
	rc     io.ReadCloser
	sawEOF bool
	closed bool
	broken bool // a read failed: the connection cannot be reused
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.w.canWriteContinue {
		b.w.writeContinue()
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.sawEOF = true
	case err != nil:
		b.broken = true
	}
	return n, err
}

// Close ends the handler's reading. As net/http's does, it reads what is
// left of the body first, up to maxPostHandlerReadBytes, so that a handler
// that closes a body it did not read leaves the connection to serve the
// next request.
func (b *requestBody) Close() error {
	if !b.closed && !b.sawEOF && !b.broken {
		b.discard()
	}
	b.closed = true
	return nil
}

// discard reads what is left of the body, up to maxPostHandlerReadBytes,
// and reports whether it got to the end.
func (b *requestBody) discard() bool {
	if b.w.canWriteContinue && !b.w.wroteContinue {
		return false
	}
	_, err := io.CopyN(io.Discard, b.rc, maxPostHandlerReadBytes+1)
	if err == io.EOF {
		b.sawEOF = true
		return true
	}
	b.broken = true
	return false
}

var _ interface {
	http.ResponseWriter
	http.Flusher
	http.Hijacker
	io.StringWriter
} = (*response)(nil)
