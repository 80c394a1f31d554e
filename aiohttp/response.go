package aiohttp

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/aio-go/aio"
)

// Response is an HTTP response whose body is read by tasks (aiohttp's
// ClientResponse). Its embedded *http.Response gives the status, headers and
// the rest; its Body reads wait with the context given to Do, while Read,
// Bytes, Text and JSON take their own. Read the body to its end or Close the
// response: that gives the connection back to the session.
type Response struct {
	*http.Response
	b *body
}

// body reads a response's body from its connection, gives the connection
// back at the end of the body, and decodes gzip.
type body struct {
	c    *conn
	ctx  context.Context // what Body's reads wait with
	raw  io.ReadCloser   // the body as net/http framed it
	gz   bool            // raw is gzip-compressed
	zr   *gzip.Reader
	err  error // the first error or io.EOF; reads after it return it
	keep bool  // the connection may carry another request after this body
	// deadline, if not zero, bounds every read (Session.Timeout).
	deadline time.Time
}

func newResponse(c *conn, ctx context.Context, req *http.Request, hr *http.Response, askedGzip bool) *Response {
	b := &body{c: c, ctx: ctx, raw: hr.Body, keep: !hr.Close && !req.Close}
	empty := hr.Body == http.NoBody || hr.ContentLength == 0 // HEAD, 204, 304, or a length of 0
	if askedGzip && !empty && strings.EqualFold(hr.Header.Get("Content-Encoding"), "gzip") {
		// The session asked for gzip, so it decodes it, as net/http does
		// (and, as net/http, leaves the header of a response without a body).
		b.gz = true
		hr.Header.Del("Content-Encoding")
		hr.Header.Del("Content-Length")
		hr.ContentLength = -1
		hr.Uncompressed = true
	}
	hr.Body = bodyReader{b}
	r := &Response{Response: hr, b: b}
	if hr.StatusCode == http.StatusSwitchingProtocols {
		b.keep = false
	} else if empty {
		b.finish(io.EOF) // nothing to read: the connection is free at once
	}
	return r
}

// read reads from the body, waiting with ctx.
func (b *body) read(ctx context.Context, p []byte) (n int, err error) {
	if b.err != nil {
		return 0, b.err
	}
	if !b.deadline.IsZero() {
		terr := aio.TimeoutAt(ctx, b.deadline, func(ctx context.Context) error {
			n, err = b.readNow(ctx, p)
			return err
		})
		if err == nil && terr != nil { // the timeout came before the read began
			err = terr
			b.finish(err)
		}
		return n, err
	}
	return b.readNow(ctx, p)
}

// readNow is read without Session.Timeout.
func (b *body) readNow(ctx context.Context, p []byte) (int, error) {
	b.c.nc.SetContext(ctx)
	var n int
	var err error
	if b.gz {
		if b.zr == nil {
			if b.zr, err = gzip.NewReader(b.raw); err != nil {
				b.finish(fmt.Errorf("aiohttp: gzip body: %w", err))
				return 0, b.err
			}
		}
		n, err = b.zr.Read(p)
	} else {
		n, err = b.raw.Read(p)
	}
	if err != nil {
		b.finish(err)
	}
	return n, err
}

// finish ends the body with err: at io.EOF the connection goes back to the
// pool if it may carry another request; otherwise it is closed.
func (b *body) finish(err error) {
	if b.err != nil {
		return
	}
	b.err = err
	c := b.c
	if err == io.EOF && b.keep && (!b.gz || b.zr != nil) {
		// A gzip body ends when the framing does (raw at EOF), which the
		// gzip reader has read through when it returns io.EOF.
		b.raw.Close()
		c.putBack()
		return
	}
	c.close()
}

// bodyReader is Response.Body: reads wait with the context given to Do.
type bodyReader struct{ b *body }

func (r bodyReader) Read(p []byte) (int, error) { return r.b.read(r.b.ctx, p) }
func (r bodyReader) Close() error {
	r.b.close()
	return nil
}

// close ends the body early: the rest is not read and the connection closes.
func (b *body) close() {
	if b.err == nil {
		b.keep = false
		b.finish(errBodyClosed)
	}
}

var errBodyClosed = fmt.Errorf("aiohttp: read on a closed response body: %w", http.ErrBodyReadAfterClose)

// Read reads up to len(p) bytes of the body, waiting with ctx. It returns
// io.EOF at the end of the body.
func (r *Response) Read(ctx context.Context, p []byte) (int, error) {
	return r.b.read(ctx, p)
}

// Chunks returns the rest of the body in chunks of at most size bytes, each
// valid until the next (aiohttp's content.iter_chunked): for a body too big
// to hold, or one that arrives over time. The iteration ends at the end of
// the body or at the first error, which it yields; breaking out of it closes
// the response.
func (r *Response) Chunks(ctx context.Context, size int) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		buf := make([]byte, max(size, 1))
		for {
			n, err := r.b.read(ctx, buf)
			if n > 0 && !yield(buf[:n], nil) {
				r.Close()
				return
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// Bytes reads the rest of the body and gives the connection back.
func (r *Response) Bytes(ctx context.Context) ([]byte, error) {
	var out []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := r.b.read(ctx, buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// Text reads the rest of the body as a string (aiohttp's text(); the bytes
// are not re-encoded: Go strings hold whatever the server sent, normally
// UTF-8).
func (r *Response) Text(ctx context.Context) (string, error) {
	b, err := r.Bytes(ctx)
	return string(b), err
}

// JSON decodes the body, as JSON, into v.
func (r *Response) JSON(ctx context.Context, v any) error {
	b, err := r.Bytes(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Close discards the rest of the body; the connection is closed unless the
// body had been read to its end. Close is safe to call more than once.
func (r *Response) Close() error {
	r.b.close()
	return nil
}

// discard reads a short rest of the body (a redirect's), so that the
// connection can be reused, and closes the response.
func (r *Response) discard(ctx context.Context) {
	var buf [4 << 10]byte
	for range 4 {
		if _, err := r.b.read(ctx, buf[:]); err != nil {
			return
		}
	}
	r.b.close()
}

// StatusError is a response's status of 400 or more, as CheckStatus
// reports it (aiohttp's ClientResponseError).
type StatusError struct {
	StatusCode int
	Status     string // "404 Not Found"
	URL        string
}

// Error reports the status and the request it answered.
func (e *StatusError) Error() string {
	return fmt.Sprintf("aiohttp: %s: %s", e.URL, e.Status)
}

// CheckStatus returns a *StatusError if the status is 400 or more, and nil
// otherwise (aiohttp's raise_for_status). It does not touch the body.
func (r *Response) CheckStatus() error {
	if r.StatusCode < 400 {
		return nil
	}
	u := ""
	if r.Request != nil && r.Request.URL != nil {
		u = r.Request.URL.Redacted()
	}
	return &StatusError{StatusCode: r.StatusCode, Status: r.Status, URL: u}
}
