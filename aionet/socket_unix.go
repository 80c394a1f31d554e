//go:build unix

package aionet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/aio-go/aio"
)

// Socket is a non-blocking socket driven by hand, the level beneath
// transports: a Python socket together with asyncio's loop.sock_accept,
// sock_connect, sock_recv_into, sock_sendall, sock_recvfrom and sock_sendto.
// Accept, Connect, Recv and Send suspend the calling task until the socket
// is ready, never the loop, and any number of tasks may wait on one socket
// at once.
//
// A Socket belongs to the loop it was made on: its methods are called from
// that loop's tasks, and the loop closes it when it closes. Use Fd for socket
// options, and Stream or Transport to hand a connected socket over to the
// higher levels. Sockets exist on Unix systems only; elsewhere use Dial,
// Listen and ListenPacket.
type Socket struct {
	loop         *aio.Loop
	fd           int
	network      string
	typ          int
	laddr, raddr net.Addr
	waits        readiness
	listening    bool
	closed       bool // closed, or handed over to a transport
	stopOnClose  func() bool
}

// socketNetworks are NewSocket's networks: each names its address family.
var socketNetworks = map[string]bool{"tcp4": true, "tcp6": true, "udp4": true, "udp6": true,
	"unix": true, "unixgram": true, "unixpacket": true}

// NewSocket makes a socket on the loop of ctx (Python's socket.socket with
// setblocking(False)). network names the family and type: "tcp4", "tcp6",
// "udp4", "udp6", "unix", "unixgram" or "unixpacket". A "tcp6" or "udp6"
// socket takes IPv6 only, as in package net.
func NewSocket(ctx context.Context, network string) (*Socket, error) {
	if !socketNetworks[network] {
		return nil, &net.OpError{Op: "socket", Net: network, Err: errors.New(
			"unknown network: a socket needs one that names its family: tcp4, tcp6, udp4, udp6, unix, unixgram or unixpacket")}
	}
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	family := unix.AF_UNIX
	switch network {
	case "tcp4", "udp4":
		family = unix.AF_INET
	case "tcp6", "udp6":
		family = unix.AF_INET6
	}
	typ := sockType(network)
	fd, err := socket(family, typ)
	if err != nil {
		return nil, &net.OpError{Op: "socket", Net: network, Err: err}
	}
	if family == unix.AF_INET6 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	return newSocket(l, network, fd, nil), nil
}

func newSocket(l *aio.Loop, network string, fd int, raddr net.Addr) *Socket {
	s := &Socket{loop: l, fd: fd, network: network, typ: sockType(network), raddr: raddr}
	s.waits.init(l, fd)
	s.stopOnClose = l.OnClose(func() {
		reportUnclosed(l, "socket", s.LocalAddr(), s.raddr)
		s.Close()
	})
	return s
}

// Fd returns the socket's descriptor, for socket options. It stays the
// Socket's: do not close it, read from it or watch it on a loop.
func (s *Socket) Fd() uintptr { return uintptr(s.fd) }

// LocalAddr returns the address the socket is bound to, or nil.
func (s *Socket) LocalAddr() net.Addr {
	if s.laddr == nil && !s.closed {
		s.laddr = localAddr(s.network, s.fd)
	}
	return s.laddr
}

// RemoteAddr returns the address the socket is connected to, or nil.
func (s *Socket) RemoteAddr() net.Addr { return s.raddr }

func (s *Socket) opError(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: s.network, Source: s.laddr, Addr: addr, Err: err}
}

// Bind binds the socket to address; a host name is resolved without
// blocking the loop.
func (s *Socket) Bind(ctx context.Context, address string) error {
	if s.closed {
		return s.opError("bind", addrOf(s.network, address), ErrClosed)
	}
	a, err := resolve(ctx, s.network, address)
	if err != nil {
		return s.opError("bind", addrOf(s.network, address), err)
	}
	sa, _, err := toSockaddr(s.network, a)
	if err == nil {
		err = os.NewSyscallError("bind", unix.Bind(s.fd, sa))
	}
	if err != nil {
		return s.opError("bind", a, err)
	}
	s.laddr = nil // read back: port 0 becomes the one given
	s.LocalAddr()
	return nil
}

// Listen makes the socket accept connections, with a queue of backlog
// pending ones (the system's maximum if backlog ≤ 0).
func (s *Socket) Listen(backlog int) error {
	if s.closed {
		return s.opError("listen", nil, ErrClosed)
	}
	if backlog <= 0 {
		backlog = unix.SOMAXCONN
	}
	if err := unix.Listen(s.fd, backlog); err != nil {
		return s.opError("listen", s.LocalAddr(), os.NewSyscallError("listen", err))
	}
	s.listening = true
	s.LocalAddr()
	return nil
}

// Accept waits for a connection and returns its socket (asyncio's
// sock_accept); RemoteAddr tells who connected. TCP connections have Nagle's
// algorithm off, as in package net.
func (s *Socket) Accept(ctx context.Context) (*Socket, error) {
	for {
		if s.closed {
			return nil, s.opError("accept", s.laddr, ErrClosed)
		}
		fd, sa, err := accept(s.fd)
		if err == nil {
			return newSocket(s.loop, s.network, fd, fromSockaddr(s.network, sa)), nil
		}
		if !retryAccept(err) {
			return nil, s.opError("accept", s.laddr, os.NewSyscallError("accept", err))
		}
		if err := s.waits.wait(ctx, false); err != nil {
			return nil, err
		}
	}
}

// Connect connects the socket to address (asyncio's sock_connect),
// suspending the task while the connection is in progress; a host name is
// resolved without blocking the loop. A datagram socket only sets the
// address its Send goes to and its Recv takes from.
func (s *Socket) Connect(ctx context.Context, address string) error {
	if s.closed {
		return s.opError("dial", addrOf(s.network, address), ErrClosed)
	}
	a, err := resolve(ctx, s.network, address)
	if err != nil {
		return s.opError("dial", addrOf(s.network, address), err)
	}
	sa, family, err := toSockaddr(s.network, a)
	if err == nil {
		if family != unix.AF_UNIX && s.typ == unix.SOCK_STREAM {
			unix.SetsockoptInt(s.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		}
		err = connectFD(ctx, &s.waits, sa)
	}
	if s.closed {
		err = ErrClosed
	}
	if err != nil {
		return s.opError("dial", a, err)
	}
	s.raddr, s.laddr = a, nil
	s.LocalAddr()
	return nil
}

// Recv reads into p, waiting until there is something to read (asyncio's
// sock_recv_into). On a stream socket it returns io.EOF once the peer has
// closed; on a datagram socket it reads one datagram, truncated to len(p).
// A Recv cancelled while it waits has read nothing.
func (s *Socket) Recv(ctx context.Context, p []byte) (int, error) {
	for {
		if s.closed {
			return 0, s.opError("read", s.raddr, ErrClosed)
		}
		n, err := sockRecv(s.fd, p)
		switch {
		case err == nil && n == 0 && len(p) > 0 && s.typ != unix.SOCK_DGRAM:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err != unix.EAGAIN && err != unix.EINTR:
			return 0, s.opError("read", s.raddr, os.NewSyscallError("read", err))
		}
		if err := s.waits.wait(ctx, false); err != nil {
			return 0, err
		}
	}
}

// Send writes all of p, waiting while the socket's buffer is full (asyncio's
// sock_sendall). If it fails or ctx ends first, n says how much was sent.
func (s *Socket) Send(ctx context.Context, p []byte) (n int, err error) {
	for {
		if s.closed {
			return n, s.opError("write", s.raddr, ErrClosed)
		}
		if s.typ == unix.SOCK_STREAM && n == len(p) {
			return n, nil
		}
		m, err := sockSend(s.fd, p[n:])
		switch {
		case err == nil:
			n += m
			if s.typ != unix.SOCK_STREAM { // a datagram goes whole or not at all
				return n, nil
			}
			continue
		case err != unix.EAGAIN && err != unix.EINTR:
			return n, s.opError("write", s.raddr, os.NewSyscallError("write", err))
		}
		if err := s.waits.wait(ctx, true); err != nil {
			return n, err
		}
	}
}

// RecvFrom reads one datagram into p and returns who sent it (asyncio's
// sock_recvfrom_into); a datagram longer than p is truncated.
func (s *Socket) RecvFrom(ctx context.Context, p []byte) (int, net.Addr, error) {
	for {
		if s.closed {
			return 0, nil, s.opError("read", nil, ErrClosed)
		}
		n, sa, err := unix.Recvfrom(s.fd, p, 0)
		if err == nil {
			from := s.raddr
			if sa != nil {
				from = fromSockaddr(s.network, sa)
			}
			return n, from, nil
		}
		if err != unix.EAGAIN && err != unix.EINTR {
			return 0, nil, s.opError("read", nil, os.NewSyscallError("recvfrom", err))
		}
		if err := s.waits.wait(ctx, false); err != nil {
			return 0, nil, err
		}
	}
}

// SendTo sends p to addr as one datagram (asyncio's sock_sendto), waiting
// while the socket's buffer is full; a nil addr means the connected one.
func (s *Socket) SendTo(ctx context.Context, p []byte, addr net.Addr) (int, error) {
	var sa unix.Sockaddr
	if addr != nil {
		var err error
		if sa, _, err = toSockaddr(s.network, addr); err != nil {
			return 0, s.opError("write", addr, err)
		}
	} else {
		addr = s.raddr
	}
	for {
		if s.closed {
			return 0, s.opError("write", addr, ErrClosed)
		}
		err := unix.Sendto(s.fd, p, 0, sa)
		if err == nil {
			return len(p), nil
		}
		if err != unix.EAGAIN && err != unix.EINTR {
			return 0, s.opError("write", addr, os.NewSyscallError("sendto", err))
		}
		if err := s.waits.wait(ctx, true); err != nil {
			return 0, err
		}
	}
}

// CloseWrite shuts the sending side (half-close); the peer reads EOF.
func (s *Socket) CloseWrite() error {
	if s.closed {
		return s.opError("shutdown", s.raddr, ErrClosed)
	}
	if err := unix.Shutdown(s.fd, unix.SHUT_WR); err != nil {
		return s.opError("shutdown", s.raddr, os.NewSyscallError("shutdown", err))
	}
	return nil
}

// Close closes the socket; operations waiting on it return net.ErrClosed.
// Closing a closed socket does nothing.
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.release()
	if s.listening && s.network == "unix" && s.laddr != nil {
		os.Remove(s.laddr.String())
	}
	return os.NewSyscallError("close", unix.Close(s.fd))
}

// release ends the Socket's hold on its descriptor and wakes its waiters.
func (s *Socket) release() {
	s.closed = true
	s.waits.detach()
	s.stopOnClose()
}

// Stream hands a connected stream socket over to a Stream (asyncio's
// open_connection(sock=...)): the Socket is closed, the descriptor is the
// Stream's.
func (s *Socket) Stream() (*Stream, error) {
	st, p := newStream(s.loop)
	if _, err := s.Transport(p); err != nil {
		return nil, err
	}
	return st, nil
}

// Transport hands a connected stream socket over to a transport driven by p
// (asyncio's create_connection(sock=...) and connect_accepted_socket): the
// Socket is closed, the descriptor is the transport's.
func (s *Socket) Transport(p Protocol) (Transport, error) {
	switch {
	case s.closed:
		return nil, s.opError("transport", s.raddr, ErrClosed)
	case s.typ != unix.SOCK_STREAM || s.listening || s.raddr == nil:
		return nil, s.opError("transport", s.raddr, errors.New("only a connected stream socket can become a transport"))
	}
	s.LocalAddr()
	s.release()
	t, err := newFDTransportOn(s.loop, s.fd, p, socketFD, s.laddr, s.raddr)
	if err != nil {
		return nil, s.opError("transport", s.raddr, err)
	}
	return t, nil
}
