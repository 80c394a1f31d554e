//go:build unix

package aionet

import (
	"context"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/aio-go/aio"
)

// PacketConn is a datagram endpoint on the loop (asyncio's
// create_datagram_endpoint, task style): ReadFrom suspends the task until a
// datagram comes, WriteTo sends one without blocking the loop.
type PacketConn struct {
	loop        *aio.Loop
	fd          int
	network     string
	laddr       net.Addr
	raddr       net.Addr // set by DialPacket
	readable    aio.Event
	writable    aio.Event
	closed      bool
	stopOnClose func() bool
}

// ListenPacket opens a datagram endpoint bound to address ("udp", "udp4",
// "udp6", "unixgram").
func ListenPacket(ctx context.Context, network, address string) (*PacketConn, error) {
	if err := checkNetwork("listen", network, true); err != nil {
		return nil, err
	}
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: addrOf(network, address), Err: err}
	}
	laddr, err := resolve(ctx, network, address)
	if err != nil {
		return nil, opErr(err)
	}
	fd, addr, err := listen(network, laddr, false)
	if err != nil {
		return nil, opErr(err)
	}
	return newPacketConn(l, network, fd, addr, nil)
}

// DialPacket opens a datagram endpoint connected to address: Write sends
// there, and only datagrams from there are received.
func DialPacket(ctx context.Context, network, address string) (*PacketConn, error) {
	if err := checkNetwork("dial", network, true); err != nil {
		return nil, err
	}
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	raddr, err := resolve(ctx, network, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: addrOf(network, address), Err: err}
	}
	fd, err := connect(ctx, network, raddr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	return newPacketConn(l, network, fd, localAddr(network, fd), raddr)
}

func newPacketConn(l *aio.Loop, network string, fd int, laddr, raddr net.Addr) (*PacketConn, error) {
	c := &PacketConn{loop: l, fd: fd, network: network, laddr: laddr, raddr: raddr}
	if err := l.AddReader(uintptr(fd), c.readable.Set); err != nil {
		unix.Close(fd)
		return nil, err
	}
	c.stopOnClose = l.OnClose(func() {
		reportUnclosed(l, "datagram endpoint", c.laddr, c.raddr)
		c.Close()
	})
	return c, nil
}

// ReadFrom waits for a datagram and copies it into p; a datagram longer than
// p is truncated, as with package net.
func (c *PacketConn) ReadFrom(ctx context.Context, p []byte) (int, net.Addr, error) {
	for {
		if c.closed {
			return 0, nil, c.opError("read", ErrClosed)
		}
		n, sa, err := unix.Recvfrom(c.fd, p, 0)
		if err == nil {
			var from net.Addr = c.raddr
			if sa != nil {
				from = fromSockaddr(c.network, sa)
			}
			return n, from, nil
		}
		if err != unix.EAGAIN && err != unix.EINTR {
			return 0, nil, c.opError("read", os.NewSyscallError("recvfrom", err))
		}
		c.readable.Clear()
		if err := c.readable.Wait(ctx); err != nil {
			return 0, nil, err
		}
	}
}

// WriteTo sends p to addr as one datagram, waiting while the socket's buffer
// is full.
func (c *PacketConn) WriteTo(ctx context.Context, p []byte, addr net.Addr) (int, error) {
	var sa unix.Sockaddr
	if addr != nil {
		var err error
		if sa, _, err = toSockaddr(c.network, addr); err != nil {
			return 0, c.opError("write", err)
		}
	}
	for {
		if c.closed {
			return 0, c.opError("write", ErrClosed)
		}
		err := unix.Sendto(c.fd, p, 0, sa)
		if err == nil {
			return len(p), nil
		}
		if err != unix.EAGAIN && err != unix.EINTR {
			return 0, c.opError("write", os.NewSyscallError("sendto", err))
		}
		c.writable.Clear()
		if err := c.loop.AddWriter(uintptr(c.fd), c.writable.Set); err != nil {
			return 0, c.opError("write", err)
		}
		err = c.writable.Wait(ctx)
		c.loop.RemoveWriter(uintptr(c.fd))
		if err != nil {
			return 0, err
		}
	}
}

// Write sends p to the address DialPacket connected to.
func (c *PacketConn) Write(ctx context.Context, p []byte) (int, error) { return c.WriteTo(ctx, p, nil) }

// LocalAddr returns the endpoint's address.
func (c *PacketConn) LocalAddr() net.Addr { return c.laddr }

// Close closes the endpoint; waiting reads return net.ErrClosed.
func (c *PacketConn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.loop.RemoveReader(uintptr(c.fd))
	c.loop.RemoveWriter(uintptr(c.fd))
	unix.Close(c.fd)
	c.stopOnClose()
	c.readable.Set()
	c.writable.Set()
	return nil
}

func (c *PacketConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.network, Source: c.laddr, Addr: c.raddr, Err: err}
}
