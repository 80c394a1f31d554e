//go:build !unix

package aionet

// The fallback for systems without a poller aio knows (Windows): each
// connection has a reading and a writing goroutine that hand data to the loop
// with CallSoonThreadsafe. Correct, and slower than the poller.

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/aio-go/aio"
)

// DialTransport connects to address and drives the connection with p
// (asyncio's loop.create_connection).
func DialTransport(ctx context.Context, network, address string, p Protocol) (Transport, error) {
	if err := checkNetwork("dial", network, false); err != nil {
		return nil, err
	}
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := aio.ToThread(ctx, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	})
	if err != nil {
		return nil, err
	}
	return newConnTransport(l, c, p, true), nil
}

// connTransport is a Transport over a net.Conn served by two goroutines.
type connTransport struct {
	loop     *aio.Loop
	c        net.Conn
	proto    Protocol
	limits   writeLimits
	pending  int // bytes handed to the writer and not written yet
	mu       sync.Mutex
	resume   *sync.Cond
	rpaused  bool
	wqueue   [][]byte // for the writer goroutine; a nil entry is WriteEOF
	wready   *sync.Cond
	eofAsked bool
	closing  bool
	closed   bool
	stop     func() bool
}

func newConnTransport(l *aio.Loop, c net.Conn, p Protocol, read bool) *connTransport {
	t := &connTransport{loop: l, c: c, proto: p}
	t.resume = sync.NewCond(&t.mu)
	t.wready = sync.NewCond(&t.mu)
	t.limits.set(DefaultHighWater, DefaultLowWater)
	t.stop = l.OnClose(func() { t.closeNow(aio.ErrClosed) })
	p.ConnectionMade(t)
	if read {
		go t.readLoop()
	}
	go t.writeLoop()
	return t
}

func (t *connTransport) readLoop() {
	for {
		t.mu.Lock()
		for t.rpaused && !t.closed {
			t.resume.Wait()
		}
		closed := t.closed
		t.mu.Unlock()
		if closed {
			return
		}
		buf := make([]byte, 64*1024)
		n, err := t.c.Read(buf)
		if n > 0 {
			data := buf[:n]
			if t.loop.CallSoonThreadsafe(func() {
				if !t.closed {
					t.proto.DataReceived(data)
				}
			}) != nil {
				return
			}
		}
		if err != nil {
			t.loop.CallSoonThreadsafe(func() {
				if t.closed {
					return
				}
				if err == io.EOF {
					if !t.proto.EOFReceived() {
						t.Close()
					}
					return
				}
				t.closeNow(err)
			})
			return
		}
	}
}

// next takes the next write for the writer goroutine; ok is false once the
// transport is closed.
func (t *connTransport) next() (b []byte, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.wqueue) == 0 && !t.closed {
		t.wready.Wait()
	}
	if t.closed {
		return nil, false
	}
	b = t.wqueue[0]
	t.wqueue = t.wqueue[1:]
	return b, true
}

func (t *connTransport) enqueue(b []byte) {
	t.mu.Lock()
	t.wqueue = append(t.wqueue, b)
	t.wready.Signal()
	t.mu.Unlock()
}

func (t *connTransport) writeLoop() {
	for {
		b, ok := t.next()
		if !ok {
			return
		}
		if b == nil { // WriteEOF
			if cw, ok := t.c.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
			continue
		}
		_, err := t.c.Write(b)
		n := len(b)
		t.loop.CallSoonThreadsafe(func() {
			t.pending -= n
			t.limits.check(t.proto, t.pending)
			if err != nil {
				t.closeNow(err)
			} else if t.closing && t.pending == 0 {
				t.closeNow(nil)
			}
		})
	}
}

func (t *connTransport) Write(data []byte) error {
	switch {
	case t.closed || t.closing:
		return ErrClosed
	case t.eofAsked:
		return errWriteAfterEOF
	case len(data) == 0:
		return nil
	}
	t.pending += len(data)
	t.enqueue(append([]byte(nil), data...))
	t.limits.check(t.proto, t.pending)
	return nil
}

func (t *connTransport) WriteEOF() error {
	if t.closed || t.closing {
		return ErrClosed
	}
	if !t.eofAsked {
		t.eofAsked = true
		t.enqueue(nil)
	}
	return nil
}

func (t *connTransport) Close() error {
	if t.closed || t.closing {
		return nil
	}
	t.closing = true
	if t.pending == 0 {
		t.closeNow(nil)
	}
	return nil
}

func (t *connTransport) Abort() { t.closeNow(nil) }

func (t *connTransport) closeNow(err error) {
	if t.closed {
		return
	}
	t.mu.Lock()
	t.closed, t.closing = true, true
	t.resume.Broadcast()
	t.wready.Broadcast()
	t.mu.Unlock()
	t.c.Close()
	t.stop()
	p := t.proto
	if t.loop.IsClosed() || err == aio.ErrClosed {
		p.ConnectionLost(err)
		return
	}
	t.loop.CallSoon(func() { p.ConnectionLost(err) })
}

func (t *connTransport) PauseReading() {
	t.mu.Lock()
	t.rpaused = true
	t.mu.Unlock()
}

func (t *connTransport) ResumeReading() {
	t.mu.Lock()
	t.rpaused = false
	t.resume.Broadcast()
	t.mu.Unlock()
}

func (t *connTransport) SetWriteBufferLimits(high, low int) {
	t.limits.set(high, low)
	t.limits.check(t.proto, t.pending)
}

func (t *connTransport) WriteBufferSize() int { return t.pending }
func (t *connTransport) IsClosing() bool      { return t.closing }
func (t *connTransport) LocalAddr() net.Addr  { return t.c.LocalAddr() }
func (t *connTransport) RemoteAddr() net.Addr { return t.c.RemoteAddr() }

// Listener is a listening socket on the loop: Accept suspends a task until a
// connection comes.
type Listener struct {
	loop     *aio.Loop
	ln       net.Listener
	queue    []net.Conn
	ready    aio.Event
	closed   bool
	err      error
	stop     func() bool
	onAccept func(net.Conn)
	done     chan struct{} // closed by Close
}

// ListenConfig holds options of Listen.
type ListenConfig struct {
	// ReusePort is not supported by this fallback and is ignored.
	ReusePort bool
}

// Listen listens on address.
func Listen(ctx context.Context, network, address string) (*Listener, error) {
	return ListenConfig{}.Listen(ctx, network, address)
}

// Listen listens on address with the options of c.
func (c ListenConfig) Listen(ctx context.Context, network, address string) (*Listener, error) {
	if err := checkNetwork("listen", network, false); err != nil {
		return nil, err
	}
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	nl, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	ln := &Listener{loop: l, ln: nl, done: make(chan struct{})}
	ln.stop = l.OnClose(func() { ln.Close() })
	go func() {
		for {
			c, err := nl.Accept()
			closed := errors.Is(err, net.ErrClosed)
			if l.CallSoonThreadsafe(func() {
				switch {
				case closed:
					return // Close wakes the Accepts
				case err != nil && ln.onAccept != nil:
					ln.report(err)
					return
				case err != nil:
					ln.err = err // for the next Accept
				case ln.onAccept != nil:
					ln.onAccept(c)
					return
				default:
					ln.queue = append(ln.queue, c)
				}
				ln.ready.Set()
			}) != nil {
				if c != nil {
					c.Close()
				}
				return // the loop is closed
			}
			if closed {
				return
			}
			if err != nil {
				// Out of descriptors, say: accepting again at once would
				// fail again at once.
				select {
				case <-time.After(acceptRetryDelay):
				case <-ln.done:
					return
				}
			}
		}
	}()
	return ln, nil
}

// Addr returns the address the listener listens on.
func (ln *Listener) Addr() net.Addr { return ln.ln.Addr() }

// Accept waits for a connection and returns it as a Stream.
func (ln *Listener) Accept(ctx context.Context) (*Stream, error) {
	s, p := newStream(ln.loop)
	if _, err := ln.AcceptTransport(ctx, p); err != nil {
		return nil, err
	}
	return s, nil
}

// AcceptTransport waits for a connection and drives it with p.
func (ln *Listener) AcceptTransport(ctx context.Context, p Protocol) (Transport, error) {
	for len(ln.queue) == 0 {
		switch {
		case ln.closed:
			return nil, ln.opError(ErrClosed)
		case ln.onAccept != nil:
			return nil, ln.opError(errServing)
		}
		if err := ln.err; err != nil {
			ln.err = nil // reported once: the listener goes on
			return nil, ln.opError(err)
		}
		ln.ready.Clear()
		if err := ln.ready.Wait(ctx); err != nil {
			return nil, err
		}
	}
	c := ln.queue[0]
	ln.queue = ln.queue[1:]
	return newConnTransport(ln.loop, c, p, true), nil
}

// Close stops listening; waiting Accepts return net.ErrClosed.
func (ln *Listener) Close() error {
	if ln.closed {
		return nil
	}
	ln.closed = true
	close(ln.done)
	for _, c := range ln.queue {
		c.Close()
	}
	ln.queue = nil
	ln.stop()
	ln.ready.Set()
	return ln.ln.Close()
}

// ServeProtocol drives each accepted connection with a protocol from
// factory.
func (ln *Listener) ServeProtocol(factory func() Protocol) error {
	switch {
	case ln.closed:
		return ln.opError(ErrClosed)
	case ln.onAccept != nil:
		return ln.opError(errServing)
	}
	ln.onAccept = func(c net.Conn) { newConnTransport(ln.loop, c, factory(), true) }
	for _, c := range ln.queue {
		ln.onAccept(c)
	}
	ln.queue = nil
	ln.ready.Set()
	return nil
}

func (ln *Listener) report(err error) {
	ln.loop.CallExceptionHandler(aio.ExceptionContext{Message: "aionet: accept failed on " + ln.Addr().String(), Err: err})
}

func (ln *Listener) opError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: "accept", Net: ln.Addr().Network(), Addr: ln.Addr(), Err: err}
}

// newPipeTransport drives our end of a pipe with goroutines.
func newPipeTransport(l *aio.Loop, f *os.File, write bool, p Protocol) error {
	newConnTransport(l, pipeConn{f}, p, !write)
	return nil
}

// pipeConn is an *os.File seen as a net.Conn, for connTransport.
type pipeConn struct{ *os.File }

func (c pipeConn) LocalAddr() net.Addr  { return pipeAddr(c.Name()) }
func (c pipeConn) RemoteAddr() net.Addr { return pipeAddr(c.Name()) }
