// Package aiohttp is an HTTP/1.1 client for tasks (aiohttp's ClientSession):
// requests go out on the loop's own sockets (package aionet), so a task
// waiting for a response frees the loop for the others, and a thousand
// requests in flight cost a thousand small tasks, not a thousand goroutines.
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
// ReadResponse); only the transport is aio's.
//
// Every call that waits takes a context: its cancellation or a timeout scope
// (aio.Timeout) ends the wait, and the connection is then closed rather than
// reused. HTTP proxies are supported (requests in the absolute form, https
// through CONNECT tunnels). Not included: HTTP/2 (aiohttp has none either),
// SOCKS proxies, and Expect: 100-continue handshakes (the body is sent with
// the headers).
//
// The package owns the session's connection pool and nothing else: sockets
// and TLS are aionet's and crypto/tls's, parsing is net/http's.
package aiohttp
