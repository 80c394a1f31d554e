//go:build !unix

package aiomongo

import "net"

// rawOf returns nil: requests are written at once.
func rawOf(net.Conn) rawConn { return nil }
