// Package aiohttp is HTTP/1.1 for tasks, both ends (aiohttp's ClientSession
// and aiohttp.web): requests go out and come in on the loop's own sockets
// (package aionet), so a task waiting for a response, or a handler waiting
// for its backends, frees the loop for the others; a thousand requests in
// flight cost a thousand small tasks, not a thousand goroutines.
//
// # Client
//
//	s := &aiohttp.Session{}
//	defer s.Close()
//	resp, err := s.Get(ctx, "http://example.com/")
//	if err != nil { ... }
//	text, err := resp.Text(ctx)
//
// A Session keeps connections alive and reuses them (per scheme, host and
// port, with limits on how many are open), speaks TLS for https, follows
// redirects, decodes gzip bodies, keeps cookies in a jar if given one, and
// retries an idempotent request once when a kept-alive connection turns out
// to have been closed by the server. Requests and responses are net/http's
// types, written and parsed by net/http's own code (Request.Write,
// ReadResponse); only the transport is aio's. Session.WebSocket opens a
// WebSocket (aiohttp's ws_connect).
//
// Every call that waits takes a context: its cancellation or a timeout scope
// (aio.Timeout) ends the wait, and the connection is then closed rather than
// reused. HTTP proxies are supported (requests in the absolute form, https
// through CONNECT tunnels). A request with "Expect: 100-continue" and a body
// sends the body after the server's "100 Continue", or after a second
// without an answer (as net/http's DefaultTransport); a final answer instead
// is the response, and the body is not sent. Not included: HTTP/2 (aiohttp
// has none either) and SOCKS proxies.
//
// # Server
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
//		aio.Sleep(r.Context(), time.Second) // awaits: the loop serves others
//		fmt.Fprintf(w, "hello, %s", r.PathValue("name"))
//	})
//	srv := &aiohttp.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
//	err := srv.ListenAndServe(ctx, "127.0.0.1:8080") // under aio.Run
//
// A Server runs any http.Handler: each connection has a task that reads its
// requests and runs their handlers, each in a cancel scope of its own
// (aio.TimeoutScope) that is r.Context(), cancelled when the client hangs up
// and when ServeHTTP returns, as net/http's is. So handlers await like any task, share state with the loop's other tasks
// without a mutex, and call Sessions and aiomongo. Upgrade turns a request
// into a WebSocket. Timeouts run on the loop's clock.
//
// Shutdown, step by step: the listeners close; idle keep-alive connections
// close at once; each request in flight runs to its end, its response says
// "Connection: close", and its connection closes after it; each WebSocket
// gets a close frame with 1001 Going Away, and its handler returns once
// Receive reports the peer's answer (net/http leaves hijacked connections
// to RegisterOnShutdown, which aio's Server does not have); Shutdown returns
// when none is left, or, when its context ends first, closes the rest (their
// handlers are cancelled) and returns the context's error. Under aio.Run,
// SIGINT and SIGTERM cancel main: a Serve whose context is cancelled does the
// same shutdown itself, for Server.ShutdownTimeout at most, then returns.
//
// Where the server differs from net/http's:
//   - Handlers run on the loop. A handler must not block it (a channel
//     receive, time.Sleep, a mutex held across an await); it awaits instead.
//     http.TimeoutHandler, which runs the handler on a goroutine of its own,
//     does not fit: bound a handler with aio.Timeout or WriteTimeout.
//     Goroutines a handler starts must not touch w or r.Body.
//   - No HTTP/2 (over TLS, net/http's server negotiates it), no ConnState,
//     BaseContext, ConnContext or ErrorLog: failures and handler panics go
//     to the loop's exception handler. http.ServerContextKey is not set.
//   - A panicking handler gets its client a 500 when nothing was sent yet
//     (net/http just closes the connection), after the answers to requests
//     pipelined before it; the connection closes either way. A panic with
//     http.ErrAbortHandler sends no 500 and is not reported, as in net/http.
//   - Hijack after a Write sends the header and the bytes written so far
//     before handing the connection over; net/http sends the header and
//     drops the bytes it had buffered (up to 2 KiB).
//   - Shutdown closes a connection that has sent nothing yet at once (net/http
//     gives a new connection 5 seconds to send its request).
//   - A request with an empty Host header whose head is longer than the
//     4 KiB read buffer is refused (400), as a missing Host is; net/http
//     accepts an empty Host at any length (aio too, below that length).
//   - A request with Transfer-Encoding given twice is refused with 400
//     (net/http: 501).
//   - MaxBodyBytes bounds every request body, a limit net/http leaves to
//     http.MaxBytesReader in handlers.
//   - A body read through http.MaxBytesReader past its limit does not make
//     the server close the connection (net/http's learns of it through a
//     method of its own): what is left of the body is read and dropped, up
//     to 256 KiB, as for any body a handler did not read to its end.
//   - Serve returns nil once the server is shut down or closed (net/http's
//     returns http.ErrServerClosed), so that it ends cleanly as a task or in
//     a TaskGroup.
//   - Superfluous WriteHeader calls are ignored without a log line.
//   - Pipelined requests (sent before their predecessors' answers) get their
//     answers in one write where net/http writes each: an answer waits for
//     the next request's while the server works through requests already
//     received, and goes out before the connection waits for the client or
//     the next handler awaits anything.
//
// The package owns the session's connection pool, the server's connections
// and the WebSocket glue, and nothing else: sockets and TLS are aionet's and
// crypto/tls's, HTTP parsing is net/http's, header rules golang.org/x/net's,
// WebSocket framing github.com/gorilla/websocket's.
package aiohttp
