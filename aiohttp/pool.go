package aiohttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// host is the pool of one scheme, host and port.
type host struct {
	key     string
	idle    []*conn  // kept connections, the most recently used last
	open    int      // connections open, busy or idle
	waiters []waiter // requests waiting because the host has all its places
}

// waiter is a request waiting in line for a connection to host h.
type waiter struct {
	f *aio.Future[*conn]
	h *host
}

// conn is one connection of the pool.
type conn struct {
	s      *Session
	h      *host
	st     *aionet.Stream
	nc     *aionet.Conn // st as a net.Conn, waiting with the context of the operation in progress
	tls    *tls.Conn    // over nc, for https; nil otherwise
	br     *bufio.Reader
	lim    headerLimit // under br: caps what the response's headers may take
	bw     *bufio.Writer
	proxy  *url.URL    // the proxy requests go through in the open (http), or nil
	reused bool        // it carried a request before
	idleAt time.Time   // when it was last put back
	timer  *aio.Handle // closes it once idle too long
	closed bool
}

// staleConnError is a failure of a kept connection before any of the
// response arrived: the server had closed it. The request may be retried.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string { return e.err.Error() }
func (e *staleConnError) Unwrap() error { return e.err }

// hostKey returns the pool key and the address to dial for u, through
// proxy if not nil.
func hostKey(u, proxy *url.URL) (key, addr string) {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	addr = net.JoinHostPort(u.Hostname(), port)
	if proxy != nil {
		return proxy.String() + " " + u.Scheme + "://" + addr, addr
	}
	return u.Scheme + "://" + addr, addr
}

// conn returns a connection to u's host: a kept one, one handed over by a
// request that is done with it, or a new one once the limits let it open.
// Requests waiting for a connection are served in the order they came, but
// for a connection handed to a later request for its own host (putBack).
func (s *Session) conn(ctx context.Context, u, proxy *url.URL) (*conn, error) {
	key, addr := hostKey(u, proxy)
	h := s.hosts[key]
	if h == nil {
		h = &host{key: key}
		s.hosts[key] = h
	}
	for {
		if c := h.takeIdle(); c != nil {
			return c, nil
		}
		hostFull := s.LimitPerHost > 0 && h.open >= s.LimitPerHost
		if !hostFull && s.open >= s.limit() && s.closeOldestIdle() {
			continue // room made by closing an idle connection to another host
		}
		if !hostFull && s.open < s.limit() {
			break
		}
		// Wait in line: for a connection of this host, or for a place.
		f := aio.NewFuture[*conn](ctx)
		if hostFull {
			h.waiters = append(h.waiters, waiter{f, h})
		} else {
			s.waiters = append(s.waiters, waiter{f, h})
		}
		c, err := f.Await(ctx)
		if err != nil {
			if !f.Cancel() { // served meanwhile: pass it on
				if c, _ := f.Result(); c != nil {
					c.putBack()
				} else {
					s.placeFreed(h)
				}
			}
			return nil, err
		}
		if c != nil {
			return c, nil
		}
	}
	s.open++
	h.open++
	c, err := s.dial(ctx, h, u, addr, proxy)
	if err != nil {
		s.open--
		h.open--
		s.placeFreed(h)
		return nil, err
	}
	return c, nil
}

// first returns the first waiter still waiting, dropping those that gave
// up; ok is false if there is none.
func first(ws *[]waiter) (w waiter, ok bool) {
	for len(*ws) > 0 {
		if w = (*ws)[0]; !w.f.Done() {
			return w, true
		}
		*ws = (*ws)[1:]
	}
	return waiter{}, false
}

// pop removes the first waiter, which first returned.
func pop(ws *[]waiter) { *ws = (*ws)[1:] }

// maxPassOver is how many times in a row the first request waiting for a
// place may see a connection handed to a later one, for the same host as the
// connection.
const maxPassOver = 4

// placeFreed tells the next waiter that a connection of h closed: one
// waiting for a place under the session's limit, else one waiting for h.
func (s *Session) placeFreed(h *host) {
	if w, ok := first(&s.waiters); ok {
		pop(&s.waiters)
		s.passedOver = 0
		w.f.SetResult(nil)
	} else if w, ok := first(&h.waiters); ok {
		pop(&h.waiters)
		w.f.SetResult(nil)
	}
}

// takeIdle returns the most recently used kept connection that is still
// open, closing those the server has closed meanwhile.
func (h *host) takeIdle() *conn {
	for len(h.idle) > 0 {
		c := h.idle[len(h.idle)-1]
		h.idle = h.idle[:len(h.idle)-1]
		c.timer.Cancel()
		// Anything readable on an idle connection is its end (EOF) or
		// garbage: either way it cannot carry a request.
		if c.br.Buffered() > 0 || c.st.Buffered() > 0 || c.st.AtEOF() {
			c.close()
			continue
		}
		c.reused = true
		return c
	}
	return nil
}

// closeOldestIdle closes the connection idle the longest, of any host, to
// make room under the session's limit. It reports whether there was one.
func (s *Session) closeOldestIdle() bool {
	var oldest *conn
	for _, h := range s.hosts {
		if len(h.idle) > 0 && (oldest == nil || h.idle[0].idleAt.Before(oldest.idleAt)) {
			oldest = h.idle[0]
		}
	}
	if oldest == nil {
		return false
	}
	oldest.close()
	return true
}

// dial opens a connection to addr, with TLS for https, through proxy if
// not nil.
func (s *Session) dial(ctx context.Context, h *host, u *url.URL, addr string, proxy *url.URL) (*conn, error) {
	dialAddr := addr
	if proxy != nil {
		_, dialAddr = hostKey(proxy, nil)
	}
	st, err := aionet.Dial(ctx, "tcp", dialAddr)
	if err != nil {
		return nil, err
	}
	nc := st.Conn()
	nc.SetContext(ctx)
	var rw net.Conn = nc
	c := &conn{s: s, h: h, st: st, nc: nc}
	if proxy != nil && u.Scheme == "https" {
		if err := connectTunnel(nc, addr, proxy); err != nil {
			nc.Close()
			return nil, err
		}
	} else if proxy != nil {
		c.proxy = proxy
	}
	if u.Scheme == "https" {
		cfg := &tls.Config{}
		if s.TLSConfig != nil {
			cfg = s.TLSConfig
		}
		cfg = http1Only(cfg) // a copy: the session speaks HTTP/1.1 only
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(nc, cfg)
		// Handshake, not HandshakeContext: the reads and writes already wait
		// with ctx, and HandshakeContext would watch ctx from a goroutine.
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return nil, err
		}
		rw, c.tls = tc, tc
	}
	c.lim = headerLimit{r: rw, left: -1}
	c.br, c.bw = bufio.NewReaderSize(&c.lim, 16<<10), bufio.NewWriterSize(rw, 4<<10)
	return c, nil
}

// connectTunnel asks the proxy on nc for a tunnel to addr (CONNECT).
func connectTunnel(nc net.Conn, addr string, proxy *url.URL) error {
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: make(http.Header)}
	if auth := proxyAuth(proxy); auth != "" {
		req.Header.Set("Proxy-Authorization", auth)
	}
	if err := req.Write(nc); err != nil {
		return fmt.Errorf("aiohttp: proxy %s: %w", proxy.Host, err)
	}
	// Read the reply a byte at a time: what follows it is the tunnel's,
	// and must not be taken into a buffer here.
	br := bufio.NewReaderSize(oneByte{nc}, 16)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fmt.Errorf("aiohttp: proxy %s: %w", proxy.Host, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("aiohttp: proxy %s refused the tunnel to %s: %s", proxy.Host, addr, resp.Status)
	}
	return nil
}

// oneByte reads at most one byte at a time.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(1, len(p))]) }

// proxyAuth is the Proxy-Authorization of proxy's user and password, or "".
func proxyAuth(proxy *url.URL) string {
	if proxy.User == nil {
		return ""
	}
	pass, _ := proxy.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pass))
}

// exchange writes req and reads the response's headers.
func (c *conn) exchange(ctx context.Context, req *http.Request) (*Response, error) {
	c.nc.SetContext(ctx)
	// What goes on the wire: req plus what this connection adds to it. The
	// session asks for gzip unless the caller chose an encoding or a range,
	// and decodes it then, as net/http does.
	out := *req
	out.Header = req.Header.Clone()
	gz := req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == "" && req.Method != http.MethodHead
	if gz {
		out.Header.Set("Accept-Encoding", "gzip")
	}
	write := out.Write
	if c.proxy != nil { // in the open through a proxy: the absolute form
		if auth := proxyAuth(c.proxy); auth != "" {
			out.Header.Set("Proxy-Authorization", auth)
		}
		write = out.WriteProxy
	}
	var waiting *continueBody
	if out.Body != nil && out.Body != http.NoBody && httpguts.HeaderValuesContainsToken(out.Header["Expect"], "100-continue") &&
		(out.ContentLength > 0 || !lacksBody(out.Method)) {
		// (A body of unknown length on a GET and the like is probed by
		// Request.Write from a goroutine of its own: not this body, which
		// waits on the loop.)
		waiting = &continueBody{c: c, ctx: ctx, req: req, body: out.Body}
		out.Body = waiting
	}
	err := write(c.bw)
	refused := waiting != nil && waiting.refused
	if err == nil || refused { // refused: the answer came instead of "100 Continue"
		err = c.bw.Flush()
	}
	if err != nil {
		return nil, c.failed(fmt.Errorf("aiohttp: writing request: %w", err))
	}
	for {
		c.lim.left = int64(c.s.maxHeaderBytes()) // what the headers may still read
		if _, err := c.br.Peek(1); err != nil {
			c.lim.left = -1
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			return nil, c.failed(fmt.Errorf("aiohttp: reading response: %w", err))
		}
		resp, err := http.ReadResponse(c.br, req)
		exhausted := c.lim.left == 0
		c.lim.left = -1
		if err != nil {
			switch {
			case ctx.Err() != nil: // not what the parser made of a cut line
				err = context.Cause(ctx)
			case exhausted: // whatever the parser made of the cut
				err = fmt.Errorf("%w (%d bytes)", errHeaderLimit, c.s.maxHeaderBytes())
			}
			return nil, fmt.Errorf("aiohttp: reading response: %w", err)
		}
		if c.tls != nil {
			st := c.tls.ConnectionState()
			resp.TLS = &st
		}
		// Skip informational responses (100 Continue, 103 Early Hints);
		// 101 Switching Protocols ends HTTP on the connection.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		if refused {
			resp.Close = true // the server may still wait for the body it was not sent
		}
		return newResponse(c, ctx, req, resp, gz), nil
	}
}

// expectContinueTimeout is how long a request with "Expect: 100-continue"
// and a body waits for the server's "100 Continue" before it sends the body
// anyway (net/http's DefaultTransport waits as long).
const expectContinueTimeout = time.Second

// continueBody is the body of a request that asked "Expect: 100-continue":
// before its first byte goes out, the header is sent and the server's
// answer awaited, for expectContinueTimeout at most. "100 Continue", or no
// answer in time, lets the body go; a final answer instead (417, 401, a
// redirect) ends the body unsent: that answer is the response, and the
// connection closes after it.
type continueBody struct {
	c       *conn
	ctx     context.Context
	req     *http.Request
	body    io.Reader
	asked   bool
	refused bool
}

// lacksBody says whether requests of method usually have no body, the
// methods whose bodies of unknown length net/http's Request.Write probes.
func lacksBody(method string) bool {
	switch method {
	case "GET", "HEAD", "DELETE", "OPTIONS", "PROPFIND", "SEARCH":
		return true
	}
	return false
}

// errNotContinued ends the write of a body the server answered before
// it asked for it.
var errNotContinued = errors.New("aiohttp: the server answered before asking for the body")

func (b *continueBody) Read(p []byte) (int, error) {
	if !b.asked {
		b.asked = true
		b.refused = b.answeredFirst()
	}
	if b.refused {
		return 0, errNotContinued
	}
	return b.body.Read(p)
}

func (b *continueBody) Close() error {
	if c, ok := b.body.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// answeredFirst sends the header and waits for the server's first answer:
// true if it is a final one, which the body must not follow. A "100
// Continue" is read here; any other answer is left for the exchange.
func (b *continueBody) answeredFirst() bool {
	c := b.c
	if c.bw.Flush() != nil {
		return false // the body's write fails the same way
	}
	var line []byte
	err := aio.Timeout(b.ctx, expectContinueTimeout, func(ctx context.Context) error {
		c.nc.SetContext(ctx)
		defer c.nc.SetContext(b.ctx)
		var err error
		line, err = c.br.Peek(len("HTTP/1.1 100"))
		return err
	})
	switch {
	case errors.Is(err, context.DeadlineExceeded) && b.ctx.Err() == nil:
		return false // no answer in time: send the body
	case err != nil:
		return true // the exchange's read reports what went wrong
	case bytes.HasPrefix(line, []byte("HTTP/1.")) && string(line[9:]) == "100":
		resp, err := http.ReadResponse(c.br, b.req) // the 100 Continue itself
		if err != nil {
			return true
		}
		resp.Body.Close()
		return false
	}
	return true
}

// errHeaderLimit is the error of a response whose headers run over the
// session's MaxHeaderBytes.
var errHeaderLimit = errors.New("response headers exceed the limit")

// headerLimit reads from r, and fails once left bytes are read (left < 0:
// no limit).
type headerLimit struct {
	r    io.Reader
	left int64
}

func (h *headerLimit) Read(p []byte) (int, error) {
	if h.left < 0 {
		return h.r.Read(p)
	}
	if h.left == 0 {
		return 0, errHeaderLimit
	}
	n, err := h.r.Read(p[:min(int64(len(p)), h.left)])
	h.left -= int64(n)
	return n, err
}

// failed marks an error before any of the response arrived on a reused
// connection as stale, so that the request may be retried.
func (c *conn) failed(err error) error {
	if c.reused && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return &staleConnError{err}
	}
	return err
}

// putBack hands the connection to a request waiting for its host, or keeps
// it for the next one; it closes it instead if the session is closed, keeps
// no idle connections, or has requests waiting for a place.
func (c *conn) putBack() {
	s := c.s
	if c.closed {
		return
	}
	c.nc.SetContext(nil)
	if s.closed || s.idleTimeout() < 0 {
		c.close()
		return
	}
	// Hand it over to the next request in line for its host (a warm
	// connection saves a handshake): one waiting for the host's places, else
	// the first for this host among those waiting for a place at all. The
	// first in line, if it is for another host, is passed over at most
	// maxPassOver times in a row; then the connection closes to give it
	// the place.
	if w, ok := first(&c.h.waiters); ok {
		pop(&c.h.waiters)
		c.handTo(w)
		return
	}
	if w, ok := first(&s.waiters); ok {
		if w.h == c.h {
			pop(&s.waiters)
			s.passedOver = 0
			c.handTo(w)
			return
		}
		if s.passedOver < maxPassOver {
			for i, w := range s.waiters {
				if w.h == c.h && !w.f.Done() {
					s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
					s.passedOver++
					c.handTo(w)
					return
				}
			}
		}
		c.close()
		return
	}
	c.idleAt = s.loop.Now()
	c.timer = s.loop.CallLater(s.idleTimeout(), c.close)
	c.h.idle = append(c.h.idle, c)
}

// handTo gives the connection to a waiting request.
func (c *conn) handTo(w waiter) {
	c.reused = true
	w.f.SetResult(c)
}

// close closes the connection and gives its place to a waiting request.
func (c *conn) close() {
	if c.closed {
		return
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Cancel()
	}
	for i, ic := range c.h.idle {
		if ic == c {
			c.h.idle = append(c.h.idle[:i], c.h.idle[i+1:]...)
			break
		}
	}
	c.nc.Close()
	c.s.open--
	c.h.open--
	c.s.placeFreed(c.h)
}
