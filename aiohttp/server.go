package aiohttp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// Server serves HTTP/1.1 from a loop (aiohttp.web, uvicorn): each connection
// is read and written on the loop's sockets by a task, which runs each
// request's handler in a scope whose context is r.Context(), so a handler
// may await (aio.Sleep,
// an aio.Lock held across awaits, a Session request, a MongoDB query) while
// the loop serves the other connections. Any http.Handler runs unchanged:
// http.ServeMux and its patterns, middleware, http.FileServer.
//
//	srv := &aiohttp.Server{Handler: mux}
//	err := srv.ListenAndServe(ctx, "127.0.0.1:8080")
//
// The handler keeps net/http's contract: the ResponseWriter sets
// Content-Length or chunks the body, adds Date, sniffs Content-Type, sends
// 1xx responses, implements http.Flusher and http.Hijacker, and takes
// http.ResponseController's deadlines; request bodies are streamed
// (Content-Length or chunked, Expect: 100-continue), trailers both ways,
// HEAD, HTTP/1.0 and keep-alive, pipelined requests answered in order. Where
// aio differs from net/http's server, the package documentation says so.
//
// The timeouts run on the loop's clock, so a virtual clock drives them in
// tests. A Server may serve from several loops at once (one listener each,
// as RunLoops and SO_REUSEPORT give): Shutdown and Close reach them all. Its
// fields must not change once it serves.
type Server struct {
	// Handler answers the requests; http.DefaultServeMux if nil.
	Handler http.Handler

	// TLSConfig, if not nil, makes the server speak TLS (crypto/tls over the
	// loop's connections). It needs a certificate (Certificates or
	// GetCertificate); ServeTLS adds one from files.
	TLSConfig *tls.Config

	// ReadHeaderTimeout bounds the reading of a request's header, from its
	// first byte (from the connection's start for the first request);
	// ReadTimeout if zero.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the writing of a response, from the end of the
	// request's header: a client that stops reading is cut off.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection; ReadTimeout if zero.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and header:
	// http.DefaultMaxHeaderBytes (1 MiB) if zero. Larger requests get 431.
	MaxHeaderBytes int
	// MaxBodyBytes, if positive, bounds a request body: a larger declared
	// Content-Length gets 413 before the handler runs, and reading more of
	// a chunked body fails with *http.MaxBytesError.
	MaxBodyBytes int64
	// ShutdownTimeout bounds the graceful shutdown that follows the
	// cancellation of Serve's context (SIGINT or SIGTERM under aio.Run):
	// requests still running then are cut off. Zero waits for them.
	ShutdownTimeout time.Duration
	// DisableKeepAlives closes each connection after one response.
	DisableKeepAlives bool
	// DisableGeneralOptionsHandler, if true, passes "OPTIONS *" requests
	// to Handler; otherwise the server answers them itself with 200 and an
	// empty body, as net/http's does.
	DisableGeneralOptionsHandler bool

	mu       sync.Mutex
	servings map[*serving]struct{}
	closed   atomic.Bool // Shutdown or Close was called
}

// serving is one call of Serve: a listener on a loop and the connections it
// accepted. Its fields but done belong to the loop's goroutine.
type serving struct {
	srv   *Server
	loop  *aio.Loop
	ln    *aionet.Listener
	conns map[*serverConn]struct{}
	// sockets are the connections upgraded to a WebSocket whose handlers
	// run: Shutdown closes them with Going Away and waits for them.
	sockets  map[*serverConn]struct{}
	shutting bool          // no new connection; idle ones close
	done     chan struct{} // closed once shutting and no connection is left
	doneSet  bool
	dateSec  int64 // the second dateText is of
	dateText string
	readers  []*bufio.Reader // read buffers idle connections gave back
	resps    []*response     // responses of bodiless requests, for reuse
}

// newResponse returns the response to req. A bodiless request (most are)
// gets one from the pool: the handler may not use it once ServeHTTP has
// returned (net/http's rule), and the req.Body of the request it served,
// which points into it, was empty like every request's it serves, so a
// handler that keeps a request reads nobody else's body.
func (sv *serving) newResponse(c *serverConn, req *http.Request, pooled bool) *response {
	var w *response
	if n := len(sv.resps); pooled && n > 0 {
		w = sv.resps[n-1]
		sv.resps = sv.resps[:n-1]
		h := w.handlerHeader
		clear(h)
		*w = response{handlerHeader: h}
	} else {
		w = &response{handlerHeader: make(http.Header)}
	}
	w.c, w.req, w.contentLength, w.buf, w.pooled = c, req, -1, c.body[:0], pooled
	return w
}

// putResponse gives the response of a bodiless request back once its
// handler has returned.
func (sv *serving) putResponse(w *response) {
	if len(sv.resps) < 64 && len(w.handlerHeader) < 32 {
		sv.resps = append(sv.resps, w)
	}
}

// getReader returns a read buffer for r, from the pool if it has one.
func (sv *serving) getReader(r io.Reader) *bufio.Reader {
	if n := len(sv.readers); n > 0 {
		br := sv.readers[n-1]
		sv.readers = sv.readers[:n-1]
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, 4096)
}

// putReader gives an empty read buffer back to the pool, which keeps a few
// for the connections that wake up.
func (sv *serving) putReader(br *bufio.Reader) {
	if len(sv.readers) < 64 {
		br.Reset(nil)
		sv.readers = append(sv.readers, br)
	}
}

// ListenAndServe listens on the TCP address addr and serves it; see Serve.
func (srv *Server) ListenAndServe(ctx context.Context, addr string) error {
	if srv.closed.Load() {
		return http.ErrServerClosed
	}
	ln, err := aionet.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}

// ServeTLS serves ln with TLS, with the certificate and key in the files
// given (PEM), added to a copy of TLSConfig; see Serve.
func (srv *Server) ServeTLS(ctx context.Context, ln *aionet.Listener, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		ln.Close()
		return err
	}
	cfg := &tls.Config{}
	if srv.TLSConfig != nil {
		cfg = srv.TLSConfig.Clone()
	}
	cfg.Certificates = append(cfg.Certificates, cert)
	return srv.serve(ctx, ln, cfg)
}

// Serve accepts connections on ln and serves them until Shutdown or Close
// is called, or ctx is cancelled; it closes ln. It must be called from a
// task. It returns nil when the server ends so, where net/http's Serve
// returns http.ErrServerClosed: a Serve in a task or a TaskGroup then ends
// cleanly. It returns http.ErrServerClosed if the server was closed before
// it began, and an error if ln fails.
//
// The cancellation of ctx shuts down gracefully (it is how aio.Run's SIGINT
// and SIGTERM reach a server): Serve stops accepting, closes the idle
// connections, lets the requests in flight finish (for ShutdownTimeout at
// most, if set), then returns. After Shutdown or Close, Serve returns at once,
// and Shutdown is what waits.
func (srv *Server) Serve(ctx context.Context, ln *aionet.Listener) error {
	return srv.serve(ctx, ln, srv.TLSConfig)
}

func (srv *Server) serve(ctx context.Context, ln *aionet.Listener, tlsConfig *tls.Config) error {
	if ln == nil {
		return errors.New("aiohttp: Serve needs a listener, got nil")
	}
	l := aio.LoopOf(ctx)
	if l == nil {
		ln.Close()
		return aio.ErrNoTask
	}
	if tlsConfig != nil && len(tlsConfig.Certificates) == 0 && tlsConfig.GetCertificate == nil && tlsConfig.GetConfigForClient == nil {
		ln.Close()
		return errors.New("aiohttp: TLSConfig has no certificate")
	}
	if tlsConfig != nil {
		tlsConfig = http1Only(tlsConfig)
	}
	sv := &serving{srv: srv, loop: l, ln: ln, conns: make(map[*serverConn]struct{}),
		sockets: make(map[*serverConn]struct{}), done: make(chan struct{})}
	srv.mu.Lock()
	if srv.closed.Load() {
		srv.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	if srv.servings == nil {
		srv.servings = make(map[*serving]struct{})
	}
	srv.servings[sv] = struct{}{}
	srv.mu.Unlock()

	// Connections outlive the cancellation of ctx, which shuts them down
	// gracefully instead of cutting them.
	connCtx := context.WithValue(context.WithoutCancel(ctx), http.LocalAddrContextKey, ln.Addr())
	for {
		s, err := ln.Accept(ctx)
		if err == nil {
			c := newServerConn(sv, s, tlsConfig)
			sv.conns[c] = struct{}{}
			c.task = aio.Go(connCtx, c.serve, aio.WithName("aiohttp.conn"))
			continue
		}
		if sv.shutting {
			return nil // Shutdown or Close: they wait
		}
		if ctx.Err() != nil {
			sv.beginShutdown()
			return sv.drain(context.WithoutCancel(ctx), srv.ShutdownTimeout)
		}
		if errors.Is(err, net.ErrClosed) {
			sv.beginShutdown() // the listener was closed under us
			return err
		}
		// Out of descriptors, say: accepting again at once would fail again.
		l.CallExceptionHandler(aio.ExceptionContext{Message: "aiohttp: accept failed", Err: err})
		_ = aio.Sleep(ctx, time.Second) // a cancellation is seen at the next Accept
	}
}

// drain waits until the connections of a shutting serving are gone, for d at
// most (zero: no limit), then closes what is left.
func (sv *serving) drain(ctx context.Context, d time.Duration) error {
	wait := func(ctx context.Context) error {
		_, _, err := aio.Recv(ctx, sv.done)
		return err
	}
	var err error
	if d > 0 {
		err = aio.Timeout(ctx, d, wait)
	} else {
		err = wait(ctx)
	}
	if err != nil {
		sv.closeAll()
	}
	return nil
}

// beginShutdown stops accepting and closes the idle connections; the others
// close after their current response.
func (sv *serving) beginShutdown() {
	if sv.shutting {
		return
	}
	sv.shutting = true
	sv.ln.Close()
	for c := range sv.conns {
		if c.idle {
			c.abort()
		}
	}
	for c := range sv.sockets {
		c.ws.goAway()
	}
	sv.checkDone()
}

// addSocket counts c, upgraded to a WebSocket, among the connections
// Shutdown waits for; one upgraded while shutting down is told to go away.
func (sv *serving) addSocket(c *serverConn) {
	delete(sv.conns, c)
	sv.sockets[c] = struct{}{}
	if sv.shutting {
		c.ws.goAway()
	}
}

// dropSocket forgets c, whose WebSocket handler returned.
func (sv *serving) dropSocket(c *serverConn) {
	delete(sv.sockets, c)
	sv.checkDone()
}

// closeAll closes every connection at once.
func (sv *serving) closeAll() {
	sv.beginShutdown()
	for c := range sv.conns {
		c.abort()
	}
	for c := range sv.sockets {
		c.ws.c.Close()
		if c.scope != nil {
			c.scope.Cancel("server closed")
		}
	}
	sv.checkDone()
}

// checkDone closes done once shutting down with no connection left.
func (sv *serving) checkDone() {
	if sv.shutting && len(sv.conns) == 0 && len(sv.sockets) == 0 && !sv.doneSet {
		sv.doneSet = true
		close(sv.done)
		sv.srv.mu.Lock()
		delete(sv.srv.servings, sv)
		sv.srv.mu.Unlock()
	}
}

// Shutdown shuts the server down gracefully, on every loop it serves from:
// it stops accepting, closes the idle connections, and waits until the
// requests in flight have been answered and their connections closed. If
// ctx ends first, it closes what is left and returns ctx's error.
// WebSockets (Upgrade's) get a close frame with 1001 Going Away and are
// waited for like requests in flight: their handlers return once Receive
// reports the close. Other hijacked connections are not waited for: their
// handlers own them.
//
// Any goroutine may call Shutdown; from a task, it awaits rather than block
// the loop.
func (srv *Server) Shutdown(ctx context.Context) error {
	servings := srv.stop()
	for _, sv := range servings {
		sv.loop.CallSoonThreadsafe(sv.beginShutdown)
	}
	for _, sv := range servings {
		if err := waitChan(ctx, sv.done); err != nil {
			for _, sv := range servings {
				sv.loop.CallSoonThreadsafe(sv.closeAll)
			}
			return err
		}
	}
	return nil
}

// Close closes the server at once, on every loop it serves from: its
// listeners and every connection, WebSockets included, but other hijacked
// ones. Requests in flight and WebSocket handlers are cancelled. Any
// goroutine may call it; it does not wait.
func (srv *Server) Close() error {
	for _, sv := range srv.stop() {
		sv.loop.CallSoonThreadsafe(sv.closeAll)
	}
	return nil
}

// stop marks the server closed and returns its servings.
func (srv *Server) stop() []*serving {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.closed.Store(true)
	out := make([]*serving, 0, len(srv.servings))
	for sv := range srv.servings {
		out = append(out, sv)
	}
	return out
}

// waitChan waits until ch is closed: it awaits in a task, blocks elsewhere.
func waitChan(ctx context.Context, ch chan struct{}) error {
	if aio.LoopOf(ctx) != nil {
		_, _, err := aio.Recv(ctx, ch)
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// http1Only returns a copy of cfg whose ALPN offers HTTP/1.1 (as net/http's
// server does) and not HTTP/2, which neither the server nor the session
// speaks: a NextProtos with "h2" (copied from a net/http setup) would
// otherwise have the peer speak HTTP/2.
func http1Only(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	protos := make([]string, 0, len(cfg.NextProtos)+1)
	for _, p := range cfg.NextProtos {
		if p != "h2" && p != "h2c" {
			protos = append(protos, p)
		}
	}
	if !slices.Contains(protos, "http/1.1") {
		protos = append(protos, "http/1.1")
	}
	cfg.NextProtos = protos
	return cfg
}
