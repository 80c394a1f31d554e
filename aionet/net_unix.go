//go:build unix

package aionet

import (
	"context"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/aio-go/aio"
)

// DialTransport connects to address and drives the connection with p
// (asyncio's loop.create_connection). network is "tcp", "tcp4", "tcp6" or
// "unix". Name resolution runs on ToThread; connecting suspends the task.
// The addresses a name resolves to are tried in turn until one accepts.
func DialTransport(ctx context.Context, network, address string, p Protocol) (Transport, error) {
	if err := checkNetwork("dial", network, false); err != nil {
		return nil, err
	}
	l := aio.LoopOf(ctx)
	if l == nil {
		return nil, aio.ErrNoTask
	}
	addrs, err := resolveAll(ctx, network, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: addrOf(network, address), Err: err}
	}
	fd, raddr, err := dial(ctx, network, addrs)
	if err != nil {
		return nil, err
	}
	t, err := newFDTransport(l, network, fd, p)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	return t, nil
}

// Listener is a listening socket on the loop (asyncio's Server, without the
// serving): Accept suspends a task until a connection comes.
type Listener struct {
	loop        *aio.Loop
	fd          int
	network     string
	addr        net.Addr
	waits       readiness // Accept's
	closed      bool
	retry       *aio.Handle // ServeProtocol's accepting, resumed after a failure
	stopOnClose func() bool
	onAccept    func(fd int) // set by ServeProtocol: accept in the callback
}

// ListenConfig holds options of Listen.
type ListenConfig struct {
	// ReusePort sets SO_REUSEPORT, so that several loops can listen on one
	// port and the kernel spreads connections among them.
	ReusePort bool
}

// Listen listens on address (asyncio's start_server without a handler).
// network is "tcp", "tcp4", "tcp6" or "unix".
func Listen(ctx context.Context, network, address string) (*Listener, error) {
	return ListenConfig{}.Listen(ctx, network, address)
}

// Listen listens on address with the options of c.
func (c ListenConfig) Listen(ctx context.Context, network, address string) (*Listener, error) {
	if err := checkNetwork("listen", network, false); err != nil {
		return nil, err
	}
	l := aio.LoopOf(ctx)
	if l == nil {
		return nil, aio.ErrNoTask
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: addrOf(network, address), Err: err}
	}
	laddr, err := resolve(ctx, network, address)
	if err != nil {
		return nil, opErr(err)
	}
	fd, addr, err := listen(network, laddr, c.ReusePort)
	if err != nil {
		return nil, opErr(err)
	}
	ln := &Listener{loop: l, fd: fd, network: network, addr: addr}
	ln.waits.init(l, fd)
	ln.stopOnClose = l.OnClose(func() {
		reportUnclosed(l, "listener", ln.addr, nil)
		ln.Close()
	})
	return ln, nil
}

// acceptReady accepts what ServeProtocol serves.
func (ln *Listener) acceptReady() {
	for range 64 { // accept a batch, then let the loop serve the connections
		fd, _, err := accept(ln.fd)
		if err != nil {
			if !retryAccept(err) {
				// Out of descriptors, say: the connection stays queued and
				// the socket readable. Accepting again at once would fail
				// at every pass; try again later, as asyncio does.
				ln.report(err)
				ln.loop.RemoveReader(uintptr(ln.fd))
				ln.retry = ln.loop.CallLater(acceptRetryDelay, func() {
					ln.retry = nil
					if err := ln.loop.AddReader(uintptr(ln.fd), ln.acceptReady); err != nil {
						ln.report(err)
					}
				})
			}
			return
		}
		ln.onAccept(fd)
	}
}

// retryAccept reports whether an accept error only means "nothing now".
func retryAccept(err error) bool {
	switch err {
	case unix.EAGAIN, unix.EINTR, unix.ECONNABORTED:
		return true
	}
	return false
}

func (ln *Listener) report(err error) {
	ln.loop.CallExceptionHandler(aio.ExceptionContext{
		Message: "aionet: accept failed on " + ln.addr.String(),
		Err:     os.NewSyscallError("accept", err),
	})
}

// Addr returns the address the listener listens on.
func (ln *Listener) Addr() net.Addr { return ln.addr }

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
	for {
		switch {
		case ln.closed:
			return nil, ln.opError(ErrClosed)
		case ln.onAccept != nil:
			return nil, ln.opError(errServing)
		}
		fd, _, err := accept(ln.fd)
		if err == nil {
			t, err := newFDTransport(ln.loop, ln.network, fd, p)
			if err != nil {
				return nil, ln.opError(err)
			}
			return t, nil
		}
		if !retryAccept(err) {
			return nil, ln.opError(os.NewSyscallError("accept", err))
		}
		if err := ln.waits.wait(ctx, false); err != nil {
			return nil, err
		}
	}
}

func (ln *Listener) opError(err error) error {
	return &net.OpError{Op: "accept", Net: ln.network, Addr: ln.addr, Err: err}
}

// Close stops listening and closes the socket; waiting Accepts return
// net.ErrClosed. Connections already accepted go on.
func (ln *Listener) Close() error {
	if ln.closed {
		return nil
	}
	ln.closed = true
	ln.waits.detach()
	if ln.onAccept != nil {
		ln.loop.RemoveReader(uintptr(ln.fd))
	}
	if ln.retry != nil {
		ln.retry.Cancel()
	}
	unix.Close(ln.fd)
	if ln.stopOnClose != nil {
		ln.stopOnClose()
	}
	if ln.network == "unix" {
		os.Remove(ln.addr.String())
	}
	return nil
}

// ServeProtocol accepts connections in the loop's readiness callback and
// drives each with a protocol from factory, with no task per connection
// (asyncio's create_server). It returns at once; Close the listener to stop.
// Accepts waiting on the listener return an error, and so do later ones.
func (ln *Listener) ServeProtocol(factory func() Protocol) error {
	switch {
	case ln.closed:
		return ln.opError(ErrClosed)
	case ln.onAccept != nil:
		return ln.opError(errServing)
	}
	ln.onAccept = func(fd int) {
		if _, err := newFDTransport(ln.loop, ln.network, fd, factory()); err != nil {
			ln.report(err)
		}
	}
	ln.waits.detach()
	if err := ln.loop.AddReader(uintptr(ln.fd), ln.acceptReady); err != nil {
		ln.Close() // the loop is closing: nothing will serve
		return ln.opError(err)
	}
	return nil
}
