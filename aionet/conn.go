package aionet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/internal/taskctx"
)

// Conn adapts a Stream to net.Conn, so that standard library code runs
// unchanged inside tasks: crypto/tls (tls.Client(conn, cfg), a STARTTLS
// upgrade of a stream already in use), bufio, encoding/json, net/http's
// Request.Write and ReadResponse. Read and Write suspend the calling task,
// not the loop; they must be called from a task of the stream's loop (they
// return aio.ErrWrongGoroutine elsewhere) and are cancelled with that task
// or by the innermost aio.Timeout it runs in (a timeout around
// tls.Conn.Handshake bounds it). Deadlines
// are honoured, and may be set from any goroutine, as Close may. Goroutines
// that are not tasks of the loop (net/http's Transport, database drivers)
// use GoConn instead.
type Conn struct {
	s       *Stream
	rdl     atomic.Int64 // read deadline, Unix ns; 0: none
	wdl     atomic.Int64
	rscope  *aio.TimeoutScope // the Read in progress
	wscope  *aio.TimeoutScope
	closing atomic.Bool
	rctx    context.Context // set by SetContext or SetReadContext
	wctx    context.Context // set by SetContext or SetWriteContext
}

// Conn returns the stream as a net.Conn. Data already buffered by the
// stream is read first.
func (s *Stream) Conn() *Conn { return &Conn{s: s} }

// SetContext makes Read and Write wait with ctx, a context of a task of the
// stream's loop, instead of the context the calling task runs under (its own,
// or that of the innermost aio.Timeout it is in): a cancellation in ctx
// reaches them too. nil restores the default.
func (c *Conn) SetContext(ctx context.Context) { c.rctx, c.wctx = ctx, ctx }

// SetReadContext is SetContext for Read only: a task reading and another
// writing each give their own.
func (c *Conn) SetReadContext(ctx context.Context) { c.rctx = ctx }

// SetWriteContext is SetContext for Write only.
func (c *Conn) SetWriteContext(ctx context.Context) { c.wctx = ctx }

// task returns the context Read (or Write) waits with: the one given to
// SetContext, else the calling task's.
func (c *Conn) task(ctx context.Context) (context.Context, error) {
	if !c.s.loop.InTask() {
		return nil, errNotInTask
	}
	if ctx != nil {
		return ctx, nil
	}
	if ctx = taskctx.Current(c.s.loop); ctx == nil {
		return nil, aio.ErrNoTask
	}
	return ctx, nil
}

// errNotInTask is what Conn's Read and Write return to a goroutine that is
// not a task of the stream's loop.
var errNotInTask = fmt.Errorf("%w: a Conn's Read and Write belong to the tasks of its loop; goroutines use Stream.GoConn", aio.ErrWrongGoroutine)

// Read reads from the connection (net.Conn).
func (c *Conn) Read(p []byte) (int, error) {
	if c.closing.Load() {
		return 0, c.opError("read", net.ErrClosed)
	}
	ctx, err := c.task(c.rctx)
	if err != nil {
		return 0, c.opError("read", err)
	}
	if c.s.Buffered() > 0 || c.s.eof { // no need to wait
		n, err := c.s.Read(ctx, p)
		return n, c.readError(err)
	}
	var n int
	err = c.within(ctx, &c.rdl, &c.rscope, func(ctx context.Context) (err error) {
		n, err = c.s.Read(ctx, p)
		return err
	})
	return n, c.readError(err)
}

func (c *Conn) readError(err error) error {
	if err != nil && c.closing.Load() {
		return c.opError("read", net.ErrClosed) // closed by us, as net.Conn says
	}
	if err == nil || err == io.EOF {
		return err // io.EOF as is: callers compare with ==
	}
	return c.opError("read", err)
}

// Write writes p and waits until the transport's buffer is below its
// high-water mark (net.Conn). p is taken at once: if the deadline passes or
// the task is cancelled while Write waits, p is still sent, and Write says
// so by returning len(p) with the error.
func (c *Conn) Write(p []byte) (int, error) {
	if c.closing.Load() {
		return 0, c.opError("write", net.ErrClosed)
	}
	ctx, err := c.task(c.wctx)
	if err != nil {
		return 0, c.opError("write", err)
	}
	if _, err := c.s.Write(p); err != nil {
		return 0, c.opError("write", err)
	}
	if c.s.drained.IsSet() {
		return len(p), nil
	}
	if err := c.within(ctx, &c.wdl, &c.wscope, c.s.Drain); err != nil {
		return len(p), c.opError("write", err)
	}
	return len(p), nil
}

// within runs fn with the deadline in dl, kept in *scope while it runs so
// that a new deadline reaches it.
func (c *Conn) within(ctx context.Context, dl *atomic.Int64, scope **aio.TimeoutScope, fn func(context.Context) error) error {
	when := c.loopTime(dl.Load())
	if !when.IsZero() && !when.After(c.s.loop.Now()) {
		return os.ErrDeadlineExceeded
	}
	err := aio.TimeoutAt(ctx, when, func(ctx context.Context) error {
		*scope = aio.TimeoutOf(ctx)
		defer func() { *scope = nil }()
		return fn(ctx)
	})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return os.ErrDeadlineExceeded // the connection's deadline, not ctx's
	}
	return err
}

// loopTime converts a wall-clock deadline to the loop's clock.
func (c *Conn) loopTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return c.s.loop.Now().Add(time.Until(time.Unix(0, ns)))
}

// SetDeadline sets the read and write deadlines (net.Conn).
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline; a Read in progress sees it too.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.setDeadline(&c.rdl, &c.rscope, t) }

// SetWriteDeadline sets the write deadline; a Write in progress sees it too.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.setDeadline(&c.wdl, &c.wscope, t) }

func (c *Conn) setDeadline(dl *atomic.Int64, scope **aio.TimeoutScope, t time.Time) error {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	dl.Store(ns)
	// Reach an operation in progress, from whatever goroutine this is.
	return c.s.loop.CallSoonThreadsafe(func() {
		if s := *scope; s != nil {
			when := c.loopTime(dl.Load())
			if !when.IsZero() && !when.After(c.s.loop.Now()) {
				when = c.s.loop.Now()
			}
			s.Reschedule(when)
		}
	})
}

// Close closes the connection (net.Conn) once buffered data is sent. Any
// goroutine may call it, as net.Conn allows (crypto/tls and net/http close
// connections from goroutines of their own): Read and Write fail at once,
// and the stream closes on the loop's next pass, which wakes a Read or Write
// waiting in a task.
func (c *Conn) Close() error {
	if c.closing.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	if err := c.s.loop.CallSoonThreadsafe(func() { c.s.Close() }); err != nil {
		return nil // the loop is closed, and its transports with it
	}
	return nil
}

// CloseWrite closes the write side (half-close), as *net.TCPConn does.
func (c *Conn) CloseWrite() error { return c.s.CloseWrite() }

// LocalAddr returns the local address (net.Conn).
func (c *Conn) LocalAddr() net.Addr { return c.s.LocalAddr() }

// RemoteAddr returns the remote address (net.Conn).
func (c *Conn) RemoteAddr() net.Addr { return c.s.RemoteAddr() }

func (c *Conn) opError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: op, Net: c.s.LocalAddr().Network(), Source: c.s.LocalAddr(), Addr: c.s.RemoteAddr(), Err: err}
}

// NetListener adapts the listener to net.Listener: Accept suspends the
// calling task, which must be a task of the listener's loop.
func (ln *Listener) NetListener() net.Listener { return netListener{ln} }

type netListener struct{ ln *Listener }

func (n netListener) Accept() (net.Conn, error) {
	if !n.ln.loop.InTask() {
		return nil, errNotInTask
	}
	t := aio.CurrentTask(n.ln.loop.Context())
	if t == nil {
		return nil, aio.ErrNoTask
	}
	s, err := n.ln.Accept(t.Context())
	if err != nil {
		return nil, err
	}
	return s.Conn(), nil
}

func (n netListener) Close() error   { return n.ln.Close() }
func (n netListener) Addr() net.Addr { return n.ln.Addr() }
