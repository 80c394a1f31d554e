//go:build unix && !linux

package aionet

import "golang.org/x/sys/unix"

// sysRead and sysWrite are read(2) and write(2) on a non-blocking descriptor
// (on Linux, made without the scheduler's system call bookkeeping:
// sysio_linux.go).
func sysRead(fd int, p []byte) (int, error)  { return unix.Read(fd, p) }
func sysWrite(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

// sockRecv and sockSend are sysRead and sysWrite for sockets (on Linux,
// recvfrom and sendto).
func sockRecv(fd int, p []byte) (int, error) { return unix.Read(fd, p) }
func sockSend(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
