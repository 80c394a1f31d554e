//go:build unix

package aionet

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aio-go/aio"
)

// The system calls beneath sockets, listeners and connections: addresses,
// name resolution, and non-blocking sockets, so that connecting and
// accepting suspend a task instead of blocking the loop.

// toSockaddr converts a resolved address to a socket address and family.
func toSockaddr(network string, addr net.Addr) (unix.Sockaddr, int, error) {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return ipSockaddr(a.AddrPort())
	case *net.UDPAddr:
		return ipSockaddr(a.AddrPort())
	case *net.UnixAddr:
		return &unix.SockaddrUnix{Name: a.Name}, unix.AF_UNIX, nil
	}
	return nil, 0, &net.AddrError{Err: "unsupported address", Addr: addr.String()}
}

func ipSockaddr(ap netip.AddrPort) (unix.Sockaddr, int, error) {
	ip := ap.Addr()
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.Unmap().As4()}, unix.AF_INET, nil
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa, unix.AF_INET6, nil
}

// fromSockaddr converts a socket address back to a net.Addr of the network.
func fromSockaddr(network string, sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		ap := netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
		if network == "udp" || network == "udp4" || network == "udp6" {
			return net.UDPAddrFromAddrPort(ap)
		}
		return net.TCPAddrFromAddrPort(ap)
	case *unix.SockaddrInet6:
		ap := netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
		if network == "udp" || network == "udp4" || network == "udp6" {
			return net.UDPAddrFromAddrPort(ap)
		}
		return net.TCPAddrFromAddrPort(ap)
	case *unix.SockaddrUnix:
		n := "unix"
		if network == "unixpacket" || network == "unixgram" {
			n = network
		}
		return &net.UnixAddr{Name: a.Name, Net: n}
	}
	return nil
}

// socket makes a non-blocking, close-on-exec socket.
func socket(family, typ int) (int, error) {
	fd, err := unix.Socket(family, typ, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setnonblock", err)
	}
	return fd, nil
}

func sockType(network string) int {
	switch network {
	case "udp", "udp4", "udp6", "unixgram":
		return unix.SOCK_DGRAM
	case "unixpacket":
		return unix.SOCK_SEQPACKET
	}
	return unix.SOCK_STREAM
}

// resolve resolves address to the one address to bind or listen on: the
// first IPv4 one, if any, as net.ResolveTCPAddr does.
func resolve(ctx context.Context, network, address string) (net.Addr, error) {
	addrs, err := resolveAll(ctx, network, address)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if ap, ok := addrPort(a); ok && ap.Addr().Is4() {
			return a, nil
		}
	}
	return addrs[0], nil
}

// resolveAll resolves address to every address a dial should try, in the
// resolver's order of preference. A name is looked up on ToThread, since
// lookups block.
func resolveAll(ctx context.Context, network, address string) ([]net.Addr, error) {
	switch network {
	case "unix", "unixgram", "unixpacket":
		a, err := net.ResolveUnixAddr(network, address)
		if err != nil {
			return nil, err
		}
		return []net.Addr{a}, nil
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	datagram := sockType(network) == unix.SOCK_DGRAM
	toAddrs := func(ips []netip.Addr, port int) []net.Addr {
		addrs := make([]net.Addr, len(ips))
		for i, ip := range ips {
			ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
			if datagram {
				addrs[i] = net.UDPAddrFromAddrPort(ap)
			} else {
				addrs[i] = net.TCPAddrFromAddrPort(ap)
			}
		}
		return addrs
	}
	if ip, err := netip.ParseAddr(host); err == nil || host == "" { // no lookup needed
		if host == "" {
			ip = netip.IPv4Unspecified()
			if network == "tcp6" || network == "udp6" {
				ip = netip.IPv6Unspecified()
			}
		}
		p, err := net.LookupPort(network, port)
		if err != nil {
			return nil, err
		}
		return toAddrs([]netip.Addr{ip}, p), nil
	}
	return aio.ToThread(ctx, func(ctx context.Context) ([]net.Addr, error) {
		p, err := net.DefaultResolver.LookupPort(ctx, network, port)
		if err != nil {
			return nil, err
		}
		family := "ip"
		switch network {
		case "tcp4", "udp4":
			family = "ip4"
		case "tcp6", "udp6":
			family = "ip6"
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, family, host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
		}
		return toAddrs(ips, p), nil
	})
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort(), true
	case *net.UDPAddr:
		return a.AddrPort(), true
	}
	return netip.AddrPort{}, false
}

// fallbackDelay is how long a dial tries the addresses of the preferred
// family alone before it starts on the other family too (Happy Eyeballs,
// RFC 8305; Go's Dialer waits as long).
const fallbackDelay = 300 * time.Millisecond

// dial connects a new socket to one of addrs, as Go's Dialer does: the
// addresses of the first one's family are tried in turn, and those of the
// other family, in turn, from fallbackDelay later (or at once if the first
// family has failed), so that a family that does not answer (IPv6 routed to
// nowhere) costs a fraction of a second, not a connect timeout. The first
// connection made wins; the other attempt is cancelled, and a connection it
// made meanwhile is closed. If both fail, the first family's first failure is
// returned.
func dial(ctx context.Context, network string, addrs []net.Addr) (int, net.Addr, error) {
	var primaries, fallbacks []net.Addr
	first, _ := addrPort(addrs[0])
	for _, a := range addrs {
		if ap, ok := addrPort(a); ok && ap.Addr().Is4() != first.Addr().Is4() {
			fallbacks = append(fallbacks, a)
		} else {
			primaries = append(primaries, a)
		}
	}
	if len(fallbacks) == 0 {
		return dialSerial(ctx, network, primaries)
	}
	var (
		won           bool
		winFD         int
		winAddr       net.Addr
		primaryFailed aio.Event
		attempts      [2]*aio.Task[struct{}]
	)
	claim := func(i, fd int, a net.Addr) {
		if won {
			unix.Close(fd) // the other attempt got there first
			return
		}
		won, winFD, winAddr = true, fd, a
		attempts[1-i].Cancel()
	}
	attempts[0] = aio.Go(ctx, func(ctx context.Context) error {
		fd, a, err := dialSerial(ctx, network, primaries)
		if err != nil {
			primaryFailed.Set()
			return err
		}
		claim(0, fd, a)
		return nil
	})
	attempts[1] = aio.Go(ctx, func(ctx context.Context) error {
		err := aio.Timeout(ctx, fallbackDelay, primaryFailed.Wait)
		if err != nil && ctx.Err() != nil {
			return err // cancelled: the primary won, or the dial is over
		}
		fd, a, err := dialSerial(ctx, network, fallbacks)
		if err != nil {
			return err
		}
		claim(1, fd, a)
		return nil
	})
	// Both attempts end before dial returns (a cancelled ctx cancels them
	// too), so that no connection is left behind.
	done := context.WithoutCancel(ctx)
	_, perr := attempts[0].Await(done)
	attempts[1].Await(done)
	if won {
		return winFD, winAddr, nil
	}
	return -1, nil, perr
}

// dialSerial tries addrs in turn, as asyncio's create_connection does, and
// returns the first failure if none accepts; it stops early once ctx is done.
func dialSerial(ctx context.Context, network string, addrs []net.Addr) (int, net.Addr, error) {
	var first error
	for _, a := range addrs {
		fd, err := connect(ctx, network, a)
		if err == nil {
			return fd, a, nil
		}
		if first == nil {
			first = &net.OpError{Op: "dial", Net: network, Addr: a, Err: err}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return -1, nil, first
}

// connect makes a socket and connects it to raddr, suspending the task
// while the connection is in progress.
func connect(ctx context.Context, network string, raddr net.Addr) (int, error) {
	l, err := loopOf(ctx)
	if err != nil {
		return -1, err
	}
	sa, family, err := toSockaddr(network, raddr)
	if err != nil {
		return -1, err
	}
	fd, err := socket(family, sockType(network))
	if err != nil {
		return -1, err
	}
	if family != unix.AF_UNIX && sockType(network) == unix.SOCK_STREAM {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	var r readiness
	r.init(l, fd)
	if err := connectFD(ctx, &r, sa); err != nil {
		r.detach()
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// connectFD connects the socket of r to sa, suspending the task while the
// connection is in progress.
func connectFD(ctx context.Context, r *readiness, sa unix.Sockaddr) error {
	switch err := unix.Connect(r.fd, sa); err {
	case nil:
		return nil
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
	default:
		return os.NewSyscallError("connect", err)
	}
	if err := r.wait(ctx, true); err != nil {
		return err
	}
	if r.detached {
		return ErrClosed
	}
	soerr, err := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soerr != 0 {
		err = syscall.Errno(soerr)
	}
	return os.NewSyscallError("connect", err)
}

// listen makes a listening (or, for datagrams, bound) socket.
func listen(network string, laddr net.Addr, reusePort bool) (int, net.Addr, error) {
	sa, family, err := toSockaddr(network, laddr)
	if err != nil {
		return -1, nil, err
	}
	typ := sockType(network)
	fd, err := socket(family, typ)
	if err != nil {
		return -1, nil, err
	}
	fail := func(op string, err error) (int, net.Addr, error) {
		unix.Close(fd)
		return -1, nil, os.NewSyscallError(op, err)
	}
	if family != unix.AF_UNIX {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if reusePort {
			if err := setReusePort(fd); err != nil {
				return fail("setsockopt", err)
			}
		}
		if family == unix.AF_INET6 {
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(network == "tcp6" || network == "udp6"))
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if typ != unix.SOCK_DGRAM {
		if err := unix.Listen(fd, 4096); err != nil {
			return fail("listen", err)
		}
	}
	lsa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	return fd, fromSockaddr(network, lsa), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// accept takes a pending connection, non-blocking; EAGAIN means none.
func accept(fd int) (int, unix.Sockaddr, error) {
	nfd, sa, err := unix.Accept(fd)
	if err != nil {
		return -1, nil, err
	}
	unix.CloseOnExec(nfd)
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, nil, err
	}
	switch sa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		// As Go's net and asyncio do: small writes go out at once rather
		// than wait for the ACK of the previous ones (Nagle).
		unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	return nfd, sa, nil
}

func localAddr(network string, fd int) net.Addr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	return fromSockaddr(network, sa)
}

func remoteAddr(network string, fd int) net.Addr {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return nil
	}
	return fromSockaddr(network, sa)
}

func setReusePort(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}
