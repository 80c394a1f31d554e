//go:build unix

package aiomongo

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawOf returns c's socket for writeThenRead, or nil if c has none.
func rawOf(c net.Conn) rawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &sockConn{c: c, rc: rc}
}

// sockConn is a connection's socket, written and read in the runtime's
// raw read: the read deadline applies, and the readiness the wait sees
// is counted from before the write.
type sockConn struct {
	c  net.Conn
	rc syscall.RawConn
}

func (s *sockConn) writeThenRead(req, p []byte) (n, wrote int, err error) {
	var werr, rerr error
	called, written := false, false
	err = s.rc.Read(func(fd uintptr) bool {
		called = true
		if !written {
			for wrote < len(req) {
				k, e := syscall.Write(int(fd), req[wrote:])
				if e == syscall.EINTR {
					continue
				}
				if e != nil {
					if e != syscall.EAGAIN {
						werr = e
					}
					return true
				}
				wrote += k
			}
			written = true
			return false // the reply comes after the request: wait for it
		}
		for {
			k, e := syscall.Read(int(fd), p)
			if e == syscall.EINTR {
				continue
			}
			if e == syscall.EAGAIN {
				return false
			}
			n, rerr = max(k, 0), e
			return true
		}
	})
	switch {
	case !called:
		// The read failed before it began (a deadline already past, a
		// closed connection): the request goes out as a bare
		// connection's would have, and the read fails as its would.
		return 0, 0, nil
	case werr != nil:
		return 0, wrote, s.opError("write", os.NewSyscallError("write", werr))
	case err != nil:
		return 0, wrote, s.opError("read", err)
	case rerr != nil:
		return 0, wrote, s.opError("read", os.NewSyscallError("read", rerr))
	case written && n == 0 && len(p) > 0:
		return 0, wrote, io.EOF
	}
	return n, wrote, nil
}

// opError wraps err as the net package reports a failure of c.
func (s *sockConn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err // the raw read's own wrapping
	}
	return &net.OpError{Op: op, Net: s.c.LocalAddr().Network(), Source: s.c.LocalAddr(), Addr: s.c.RemoteAddr(), Err: err}
}
