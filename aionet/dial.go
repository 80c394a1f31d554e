package aionet

import (
	"context"
	"net"
)

// Dial connects to address and returns the connection as a Stream (asyncio's
// open_connection). network is "tcp", "tcp4", "tcp6" or "unix".
func Dial(ctx context.Context, network, address string) (*Stream, error) {
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	s, p := newStream(l)
	if _, err := DialTransport(ctx, network, address, p); err != nil {
		return nil, err
	}
	return s, nil
}

// addrString is an address as the caller wrote it, for errors raised before
// it is resolved.
type addrString struct{ network, address string }

func (a addrString) Network() string { return a.network }
func (a addrString) String() string  { return a.address }

func addrOf(network, address string) net.Addr { return addrString{network, address} }
