//go:build unix

package aionet

import (
	"context"
	"net"
)

// PacketConn is a datagram endpoint on the loop (asyncio's
// create_datagram_endpoint, task style): ReadFrom suspends the task until a
// datagram comes, WriteTo sends one without blocking the loop. On Unix it is
// a bound or connected datagram Socket.
type PacketConn struct{ s *Socket }

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
	s := newSocket(l, network, fd, nil)
	s.laddr = addr
	return &PacketConn{s}, nil
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
	addrs, err := resolveAll(ctx, network, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: addrOf(network, address), Err: err}
	}
	fd, raddr, err := dial(ctx, network, addrs)
	if err != nil {
		return nil, err
	}
	s := newSocket(l, network, fd, raddr)
	s.LocalAddr()
	return &PacketConn{s}, nil
}

// ReadFrom waits for a datagram and copies it into p; a datagram longer than
// p is truncated, as with package net.
func (c *PacketConn) ReadFrom(ctx context.Context, p []byte) (int, net.Addr, error) {
	return c.s.RecvFrom(ctx, p)
}

// WriteTo sends p to addr as one datagram, waiting while the socket's buffer
// is full.
func (c *PacketConn) WriteTo(ctx context.Context, p []byte, addr net.Addr) (int, error) {
	return c.s.SendTo(ctx, p, addr)
}

// Write sends p to the address DialPacket connected to.
func (c *PacketConn) Write(ctx context.Context, p []byte) (int, error) { return c.s.Send(ctx, p) }

// LocalAddr returns the endpoint's address.
func (c *PacketConn) LocalAddr() net.Addr { return c.s.LocalAddr() }

// Close closes the endpoint; waiting reads return net.ErrClosed.
func (c *PacketConn) Close() error { return c.s.Close() }
