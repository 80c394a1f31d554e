package aiohttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/aio-go/aio"
)

// Defaults, as aiohttp's.
const (
	DefaultLimit        = 100              // connections open at once
	DefaultIdleTimeout  = 15 * time.Second // keep-alive of an unused connection
	DefaultMaxRedirects = 10
	// DefaultMaxHeaderBytes caps the headers of a response, as net/http's
	// server caps a request's.
	DefaultMaxHeaderBytes = 1 << 20
)

// ErrSessionClosed is returned by a request on a closed Session.
var ErrSessionClosed = errors.New("aiohttp: session is closed")

// ErrTooManyRedirects is returned, wrapped with the last URL, when a request
// is redirected more than the session's MaxRedirects times.
var ErrTooManyRedirects = errors.New("aiohttp: too many redirects")

// Session sends HTTP requests from the tasks of one loop and keeps their
// connections for reuse (aiohttp's ClientSession). Set its fields before the
// first request; the zero value is ready to use. A session belongs to the
// loop of its first request, and its methods to that loop's tasks; Close it
// when done to close the connections it keeps.
type Session struct {
	// BaseURL, if set, is what relative request URLs are resolved against
	// (aiohttp's base_url): with "https://api.example.com/v1/", Get(ctx,
	// "users") asks for https://api.example.com/v1/users.
	BaseURL string
	// Header is sent with every request that does not set the same header.
	// (A user and password in a request's URL are sent as its Basic
	// Authorization, unless it sets one, as with net/http's client.)
	Header http.Header
	// Timeout, if positive, bounds each request from its start to the end of
	// its response's body, redirects included (aiohttp's ClientTimeout
	// total), on the loop's clock: a wait past it fails with
	// context.DeadlineExceeded. 0 means no bound but the context's.
	Timeout time.Duration
	// TLSConfig configures https connections; nil means crypto/tls's
	// defaults (the system's roots). ServerName is filled in per host.
	TLSConfig *tls.Config
	// Limit caps the connections open at once, busy or idle; 0 means
	// DefaultLimit. A request over the limit waits for a connection to be
	// released, closing an idle one to another host if there is one.
	Limit int
	// LimitPerHost caps the connections open to one scheme, host and port;
	// 0 means no cap but Limit.
	LimitPerHost int
	// IdleTimeout closes a connection unused for that long; 0 means
	// DefaultIdleTimeout, negative means never reuse one.
	IdleTimeout time.Duration
	// MaxRedirects is how many redirects a request follows; 0 means
	// DefaultMaxRedirects, negative means none (the redirect is returned).
	MaxRedirects int
	// Jar, if not nil, receives the cookies of responses and gives them to
	// requests.
	Jar http.CookieJar
	// MaxHeaderBytes caps the size of a response's headers; 0 means
	// DefaultMaxHeaderBytes. A response over it is an error and its
	// connection is closed.
	MaxHeaderBytes int
	// Proxy returns the proxy for a request, an http:// URL (user and
	// password in it are sent as Proxy-Authorization), or nil for none: the
	// same function as http.Transport's (http.ProxyFromEnvironment,
	// http.ProxyURL). https requests go through a CONNECT tunnel. nil means
	// no proxy.
	Proxy func(*http.Request) (*url.URL, error)

	loop    *aio.Loop
	bound   atomic.Pointer[aio.Loop] // loop, for Stats from other goroutines
	closed  bool
	hosts   map[string]*host
	open    int      // connections open, busy or idle
	waiters []waiter // requests waiting for a place under Limit
	// passedOver counts the connections handed, in a row, to a request
	// behind the first in line.
	passedOver int
}

// Get sends a GET request.
func (s *Session) Get(ctx context.Context, url string) (*Response, error) {
	return s.send(ctx, http.MethodGet, url, "", nil)
}

// Head sends a HEAD request.
func (s *Session) Head(ctx context.Context, url string) (*Response, error) {
	return s.send(ctx, http.MethodHead, url, "", nil)
}

// Post sends a POST request with body, of the given content type. A body
// made from a *bytes.Buffer, *bytes.Reader or *strings.Reader can be sent
// again, after a redirect that keeps the method or on a retry.
func (s *Session) Post(ctx context.Context, url, contentType string, body io.Reader) (*Response, error) {
	return s.send(ctx, http.MethodPost, url, contentType, body)
}

// Put sends a PUT request with body, as Post does.
func (s *Session) Put(ctx context.Context, url, contentType string, body io.Reader) (*Response, error) {
	return s.send(ctx, http.MethodPut, url, contentType, body)
}

// Patch sends a PATCH request with body, as Post does.
func (s *Session) Patch(ctx context.Context, url, contentType string, body io.Reader) (*Response, error) {
	return s.send(ctx, http.MethodPatch, url, contentType, body)
}

// JSON sends a request with method whose body is v encoded as JSON, with
// Content-Type application/json (aiohttp's json=); v that cannot be encoded
// is an error before anything is sent. Read a JSON answer with
// Response.JSON.
func (s *Session) JSON(ctx context.Context, method, url string, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("aiohttp: JSON body: %w", err)
	}
	return s.send(ctx, method, url, "application/json", bytes.NewReader(b))
}

// Delete sends a DELETE request.
func (s *Session) Delete(ctx context.Context, url string) (*Response, error) {
	return s.send(ctx, http.MethodDelete, url, "", nil)
}

func (s *Session) send(ctx context.Context, method, url, contentType string, body io.Reader) (*Response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return s.Do(ctx, req)
}

// Do sends req and returns the response once its headers are in, following
// redirects. The caller must read the body to its end or Close the response,
// which gives the connection back. Waits end when ctx is done (req's own
// context is not consulted: ctx is). A response whose status is an error is
// not an error of Do; see Response.CheckStatus.
func (s *Session) Do(ctx context.Context, req *http.Request) (*Response, error) {
	if err := s.bind(ctx); err != nil {
		return nil, err
	}
	if s.Timeout > 0 {
		deadline := s.loop.Now().Add(s.Timeout)
		var resp *Response
		err := aio.TimeoutAt(ctx, deadline, func(tctx context.Context) (err error) {
			resp, err = s.do(tctx, req)
			return err
		})
		if resp != nil {
			resp.b.ctx, resp.b.deadline = ctx, deadline // the scope has ended: reads keep its deadline
		}
		return resp, err
	}
	return s.do(ctx, req)
}

// resolve returns u resolved against the session's BaseURL, or u itself
// when it is absolute or there is no BaseURL.
func (s *Session) resolve(u *url.URL) (*url.URL, error) {
	if s.BaseURL == "" || u.IsAbs() {
		return u, nil
	}
	base, err := url.Parse(s.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("aiohttp: bad BaseURL %q: %w", s.BaseURL, err)
	}
	return base.ResolveReference(u), nil
}

func (s *Session) do(ctx context.Context, req *http.Request) (*Response, error) {
	if req.URL == nil {
		return nil, errors.New("aiohttp: request has no URL")
	}
	u, err := s.resolve(req.URL)
	if err != nil {
		return nil, err
	}
	if u != req.URL {
		r := *req
		r.URL, r.Host = u, ""
		req = &r
	}
	if err := checkRequest(req, s.Header); err != nil {
		return nil, &url.Error{Op: urlOp(req.Method), URL: req.URL.Redacted(), Err: err}
	}
	origin := req.URL.Hostname()
	for redirects := 0; ; redirects++ {
		resp, err := s.roundTrip(ctx, req, req.URL.Hostname() == origin)
		if err != nil {
			return nil, &url.Error{Op: urlOp(req.Method), URL: req.URL.Redacted(), Err: err}
		}
		next, err := s.redirect(req, resp)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return resp, nil
		}
		if redirects >= s.maxRedirects() {
			resp.Close()
			return nil, &url.Error{Op: urlOp(req.Method), URL: next.URL.Redacted(), Err: ErrTooManyRedirects}
		}
		resp.discard(ctx)
		req = next
	}
}

// urlOp names a request in a *url.Error, as net/http does.
func urlOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// bind ties the session to ctx's loop on first use.
func (s *Session) bind(ctx context.Context) error {
	l := aio.LoopOf(ctx)
	switch {
	case l == nil:
		return aio.ErrNoTask
	case s.closed:
		return ErrSessionClosed
	case s.loop == nil:
		s.loop = l
		s.bound.Store(l)
		s.hosts = make(map[string]*host)
	case s.loop != l:
		return errors.New("aiohttp: session used from a loop other than its own")
	}
	return nil
}

func (s *Session) limit() int {
	if s.Limit > 0 {
		return s.Limit
	}
	return DefaultLimit
}

func (s *Session) maxRedirects() int {
	switch {
	case s.MaxRedirects < 0:
		return -1
	case s.MaxRedirects == 0:
		return DefaultMaxRedirects
	}
	return s.MaxRedirects
}

func (s *Session) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

func (s *Session) idleTimeout() time.Duration {
	if s.IdleTimeout == 0 {
		return DefaultIdleTimeout
	}
	return s.IdleTimeout
}

// roundTrip sends req once, on a kept connection if there is one. A request
// that may be repeated is sent again on a new connection if a kept one turns
// out to be closed before any of the response arrived.
func (s *Session) roundTrip(ctx context.Context, req *http.Request, sameHost bool) (*Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, fmt.Errorf("aiohttp: unsupported protocol scheme %q", req.URL.Scheme)
	}
	if req.URL.Host == "" {
		return nil, errors.New("aiohttp: no host in request URL")
	}
	req = s.prepare(req, sameHost)
	var proxy *url.URL
	if s.Proxy != nil {
		var err error
		if proxy, err = s.Proxy(req); err != nil {
			return nil, err
		}
		if proxy != nil && proxy.Scheme != "http" {
			return nil, fmt.Errorf("aiohttp: unsupported proxy scheme %q", proxy.Scheme)
		}
	}
	for attempt := 0; ; attempt++ {
		c, err := s.conn(ctx, req.URL, proxy)
		if err != nil {
			return nil, err
		}
		resp, err := c.exchange(ctx, req)
		if err == nil {
			if s.Jar != nil {
				if rc := resp.Cookies(); len(rc) > 0 {
					s.Jar.SetCookies(req.URL, rc)
				}
			}
			return resp, nil
		}
		c.close()
		var stale *staleConnError
		if !errors.As(err, &stale) || attempt > 0 || !replayable(req) {
			return nil, err
		}
		if err := rewind(req); err != nil {
			return nil, err
		}
	}
}

// prepare returns a copy of req, the caller's to keep as it was, with the
// session's headers and cookies added; the session's credentials only on
// the host the request was first made to, not on one a redirect led to. A
// user and password in the URL become its Authorization (Basic), as with
// net/http's client and aiohttp's, unless the request has one.
func (s *Session) prepare(orig *http.Request, sameHost bool) *http.Request {
	req := *orig
	req.Header = orig.Header.Clone()
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	if u := req.URL.User; u != nil && req.Header.Get("Authorization") == "" {
		password, _ := u.Password()
		req.SetBasicAuth(u.Username(), password)
	}
	for k, vs := range s.Header {
		if _, ok := req.Header[k]; !ok && (sameHost || !credential(k)) {
			req.Header[k] = vs
		}
	}
	if s.Jar != nil {
		for _, c := range s.Jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
	}
	return &req
}

// credential reports whether a header carries credentials that must not
// follow a redirect to another host.
func credential(key string) bool {
	switch http.CanonicalHeaderKey(key) {
	case "Authorization", "Www-Authenticate", "Cookie", "Cookie2", "Proxy-Authorization":
		return true
	}
	return false
}

// checkRequest refuses what must not go on the wire, as net/http's
// Transport does: a method that is no token, a header name that is no
// token, a header value with a control character (CR and LF among them:
// request splitting).
func checkRequest(req *http.Request, session http.Header) error {
	if req.Method != "" && !httpguts.ValidHeaderFieldName(req.Method) {
		return fmt.Errorf("aiohttp: invalid method %q", req.Method)
	}
	for _, h := range []http.Header{session, req.Header} {
		for k, vv := range h {
			if !httpguts.ValidHeaderFieldName(k) {
				return fmt.Errorf("aiohttp: invalid header field name %q", k)
			}
			for _, v := range vv {
				if !httpguts.ValidHeaderFieldValue(v) {
					return fmt.Errorf("aiohttp: invalid header field value for %q", k)
				}
			}
		}
	}
	return nil
}

// replayable reports whether req may be sent again: its method is idempotent
// and its body, if any, can be had again.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
	default:
		if req.Header.Get("Idempotency-Key") == "" {
			return false
		}
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind gives req a fresh copy of its body.
func rewind(req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody == nil {
		return nil
	}
	b, err := req.GetBody()
	if err != nil {
		return err
	}
	req.Body = b
	return nil
}

// redirect returns the request that follows resp, or nil if resp is not a
// redirect to follow.
func (s *Session) redirect(req *http.Request, resp *Response) (*http.Request, error) {
	loc := resp.Header.Get("Location")
	if loc == "" || s.maxRedirects() < 0 {
		return nil, nil
	}
	method, keepBody := req.Method, false
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if method != http.MethodGet && method != http.MethodHead {
			method = http.MethodGet // as browsers and net/http do
		}
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		keepBody = true
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return nil, nil // the body cannot be sent again: hand back the redirect
		}
	default:
		return nil, nil
	}
	u, err := req.URL.Parse(loc)
	if err != nil {
		resp.Close()
		return nil, &url.Error{Op: urlOp(req.Method), URL: req.URL.Redacted(), Err: fmt.Errorf("aiohttp: bad redirect location %q: %w", loc, err)}
	}
	next := &http.Request{Method: method, URL: u, Header: req.Header.Clone()}
	next.Header.Del("Cookie") // the jar gives the new URL its own
	if u.Hostname() != req.URL.Hostname() {
		// Credentials meant for one host do not follow to another.
		for k := range next.Header {
			if credential(k) {
				next.Header.Del(k)
			}
		}
	}
	if keepBody {
		next.GetBody, next.ContentLength = req.GetBody, req.ContentLength
		if req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				resp.Close()
				return nil, err
			}
			next.Body = b
		}
	} else {
		next.Header.Del("Content-Type")
		next.Header.Del("Content-Length")
	}
	return next, nil
}

// PoolStats are a session's connections as of a moment: for a dashboard, an
// exporter or a test.
type PoolStats struct {
	Open    int // connections open, busy or idle
	Idle    int // kept for reuse
	InUse   int // carrying a request or its response
	Waiting int // requests waiting for a connection (Limit, LimitPerHost)
	// Hosts has the same figures for each scheme://host:port the session
	// has a connection to or a request waiting for.
	Hosts map[string]HostStats
}

// HostStats are a session's connections to one scheme://host:port.
type HostStats struct {
	Open, Idle, InUse, Waiting int
}

// Stats returns the session's pool now. Any goroutine may call it: from the
// session's loop it reads the pool at once; from elsewhere it asks the loop
// and waits, for at most as long as ctx allows, for the loop to answer
// between two steps (a loop blocked by a task answers when it is free). A
// session not used yet has no connections.
func (s *Session) Stats(ctx context.Context) (PoolStats, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	l := s.bound.Load()
	switch {
	case l == nil:
		return PoolStats{Hosts: map[string]HostStats{}}, nil
	case aio.LoopOf(ctx) == l && l.InTask():
		return s.stats(), nil
	}
	return aio.Submit(l, func(context.Context) (PoolStats, error) { return s.stats(), nil }).Wait(ctx)
}

// stats counts the pool; it runs on the loop.
func (s *Session) stats() PoolStats {
	st := PoolStats{Open: s.open, Hosts: make(map[string]HostStats, len(s.hosts))}
	waiting := map[*host]int{}
	for _, w := range s.waiters {
		waiting[w.h]++
	}
	for _, h := range s.hosts {
		hs := HostStats{Open: h.open, Idle: len(h.idle), Waiting: len(h.waiters) + waiting[h]}
		hs.InUse = hs.Open - hs.Idle
		if hs.Open == 0 && hs.Waiting == 0 {
			continue
		}
		st.Hosts[h.key] = hs
		st.Idle += hs.Idle
		st.Waiting += hs.Waiting
	}
	st.InUse = st.Open - st.Idle
	return st
}

// Close closes the connections the session keeps, and the busy ones as soon
// as their responses are done with. Requests made after Close fail with
// ErrSessionClosed.
func (s *Session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	for _, h := range s.hosts {
		for len(h.idle) > 0 {
			h.idle[len(h.idle)-1].close()
		}
	}
	return nil
}
