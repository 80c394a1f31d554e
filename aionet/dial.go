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

// checkNetwork returns a clear error for a network the operation does not
// take: streams are "tcp", "tcp4", "tcp6", "unix"; datagrams "udp", "udp4",
// "udp6", "unixgram".
func checkNetwork(op, network string, datagram bool) error {
	ok := map[string]bool{"tcp": !datagram, "tcp4": !datagram, "tcp6": !datagram, "unix": !datagram,
		"udp": datagram, "udp4": datagram, "udp6": datagram, "unixgram": datagram}[network]
	if ok {
		return nil
	}
	return &net.OpError{Op: op, Net: network, Err: net.UnknownNetworkError(network)}
}

// addrString is an address as the caller wrote it, for errors raised before
// it is resolved.
type addrString struct{ network, address string }

func (a addrString) Network() string { return a.network }
func (a addrString) String() string  { return a.address }

func addrOf(network, address string) net.Addr { return addrString{network, address} }
