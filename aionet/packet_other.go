//go:build !unix

package aionet

import (
	"context"
	"net"

	"github.com/aio-go/aio"
)

// PacketConn is a datagram endpoint on the loop: ReadFrom suspends the task
// until a datagram comes. In this fallback the system calls run on ToThread.
type PacketConn struct {
	c     net.PacketConn
	raddr net.Addr
	stop  func() bool
}

// ListenPacket opens a datagram endpoint bound to address.
func ListenPacket(ctx context.Context, network, address string) (*PacketConn, error) {
	if err := checkNetwork("listen", network, true); err != nil {
		return nil, err
	}
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	p := &PacketConn{c: c}
	p.stop = l.OnClose(func() { c.Close() })
	return p, nil
}

// DialPacket opens a datagram endpoint connected to address.
func DialPacket(ctx context.Context, network, address string) (*PacketConn, error) {
	p, err := ListenPacket(ctx, network, ":0")
	if err != nil {
		return nil, err
	}
	raddr, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		p.Close()
		return nil, err
	}
	p.raddr = raddr
	return p, nil
}

type packet struct {
	n    int
	addr net.Addr
}

// ReadFrom waits for a datagram and copies it into p.
func (p *PacketConn) ReadFrom(ctx context.Context, b []byte) (int, net.Addr, error) {
	r, err := aio.ToThread(ctx, func(context.Context) (packet, error) {
		n, addr, err := p.c.ReadFrom(b)
		return packet{n, addr}, err
	})
	return r.n, r.addr, err
}

// WriteTo sends b to addr as one datagram.
func (p *PacketConn) WriteTo(ctx context.Context, b []byte, addr net.Addr) (int, error) {
	if addr == nil {
		addr = p.raddr
	}
	return aio.ToThread(ctx, func(context.Context) (int, error) { return p.c.WriteTo(b, addr) })
}

// Write sends b to the address DialPacket connected to.
func (p *PacketConn) Write(ctx context.Context, b []byte) (int, error) { return p.WriteTo(ctx, b, nil) }

// LocalAddr returns the endpoint's address.
func (p *PacketConn) LocalAddr() net.Addr { return p.c.LocalAddr() }

// Close closes the endpoint.
func (p *PacketConn) Close() error {
	p.stop()
	return p.c.Close()
}
