package uring

import (
	"net"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func pairs(b *testing.B, n int) (send, recv []int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		s, _ := ln.Accept()
		fc, _ := c.(*net.TCPConn).File()
		fs, _ := s.(*net.TCPConn).File()
		c.Close()
		s.Close()
		send = append(send, int(fs.Fd()))
		recv = append(recv, int(fc.Fd()))
	}
	return
}

func BenchmarkSends(b *testing.B) {
	const n = 8
	msg := make([]byte, 130)
	buf := make([]byte, 4096)
	for _, mode := range []string{"sendto", "ring"} {
		b.Run(mode, func(b *testing.B) {
			s, rc := pairs(b, n)
			r, err := New(64)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i += n {
				if mode == "ring" {
					for j := range n {
						r.Send(s[j], msg, uint64(j))
					}
					r.Enter(func(tag uint64, res int32) {
						if res != int32(len(msg)) {
							b.Fatal(res)
						}
					})
				} else {
					for j := range n {
						syscall.RawSyscall6(unix.SYS_SENDTO, uintptr(s[j]), uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
					}
				}
				b.StopTimer()
				for j := range n {
					unix.Read(rc[j], buf)
				}
				b.StartTimer()
			}
		})
	}
}
