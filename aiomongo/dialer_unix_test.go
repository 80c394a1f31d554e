//go:build unix

package aiomongo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// opMsgOf is an OP_MSG of n bytes in all with the given flags.
func opMsgOf(n int, flags uint32) []byte {
	m := make([]byte, n)
	binary.LittleEndian.PutUint32(m, uint32(n))
	binary.LittleEndian.PutUint32(m[4:], 7) // request id
	binary.LittleEndian.PutUint32(m[12:], opMsg)
	binary.LittleEndian.PutUint32(m[16:], flags)
	for i := 20; i < n; i++ {
		m[i] = byte(i)
	}
	return m
}

// tcpPair returns a client connection through bufferedConn, dialed by a
// dialer that holds every request it can, and the server's end.
func tcpPair(t *testing.T) (*bufferedConn, net.Conn) {
	return tcpPairOf(t, &bufferedDialer{holdAt: 1})
}

func tcpPairOf(t *testing.T, d *bufferedDialer) (*bufferedConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := d.DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s.SetDeadline(time.Now().Add(10 * time.Second)) // a lost byte fails the test, not hangs it
	t.Cleanup(func() { c.Close(); s.Close() })
	bc := c.(*bufferedConn)
	if bc.raw == nil {
		t.Fatal("a TCP connection has no raw socket")
	}
	return bc, s
}

// A request the server answers is held by Write and written by the read that
// waits for its reply; the reply comes through; the server got the request
// whole, once.
func TestHeldRequest(t *testing.T) {
	for _, size := range []int{20, 300, 1 << 20} {
		c, s := tcpPair(t)
		// A small send buffer: the big request fills the socket, and the
		// read writes the rest when there is room.
		c.Conn.(*net.TCPConn).SetWriteBuffer(4096)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		req := opMsgOf(size, 0)
		if n, err := c.Write(req); n != size || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if !bytes.Equal(c.held, req) {
			t.Fatalf("%d bytes: Write did not hold the request", size)
		}
		got := make(chan []byte, 1)
		go func() {
			b := make([]byte, size)
			io.ReadFull(s, b)
			s.Write([]byte("reply"))
			got <- b
		}()
		reply := make([]byte, 5)
		if _, err := io.ReadFull(c, reply); err != nil || string(reply) != "reply" {
			t.Fatalf("%d bytes: read %q, %v", size, reply, err)
		}
		if b := <-got; !bytes.Equal(b, req) {
			t.Fatalf("%d bytes: the server got a different request", size)
		}
		if len(c.held) != 0 {
			t.Fatalf("%d bytes: the request is still held after the read", size)
		}
	}
}

// What the server does not answer, and what is not a whole OP_MSG, goes out
// in Write; a held request goes out before a write that follows it.
func TestWritesNotHeld(t *testing.T) {
	c, s := tcpPair(t)
	for _, p := range [][]byte{
		opMsgOf(40, flagMoreToCome),                      // unacknowledged
		[]byte{0x17, 0x03, 0x03, 0x00, 0x10, 1, 2, 3, 4}, // a TLS record
		opMsgOf(40, 0)[:30],                              // part of a message
		append(opMsgOf(40, 0), 1),                        // a message and more
	} {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		if len(c.held) != 0 {
			t.Fatalf("% x… was held", p[:8])
		}
		b := make([]byte, len(p))
		if _, err := io.ReadFull(s, b); err != nil || !bytes.Equal(b, p) {
			t.Fatalf("the server read % x…, %v", b[:8], err)
		}
	}
	first, second := opMsgOf(30, 0), opMsgOf(40, flagMoreToCome)
	c.Write(first)
	c.Write(second)
	b := make([]byte, 70)
	if _, err := io.ReadFull(s, b); err != nil || !bytes.Equal(b, append(first, second...)) {
		t.Fatalf("the server read %v, %v; want the held request, then the next", b, err)
	}
}

// A held request whose reply does not come before the read deadline: the
// read fails with a timeout, as a bare connection's does, the server has
// the request, and the next read tries the connection again.
func TestHeldRequestDeadline(t *testing.T) {
	c, s := tcpPair(t)
	req := opMsgOf(64, 0)
	c.Write(req)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := c.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v", err)
	}
	b := make([]byte, len(req))
	if _, err := io.ReadFull(s, b); err != nil || !bytes.Equal(b, req) {
		t.Fatalf("the server read %v, %v", b, err)
	}
	c.SetReadDeadline(time.Time{})
	s.Write([]byte("late"))
	if _, err := io.ReadFull(c, b[:4]); err != nil || string(b[:4]) != "late" {
		t.Fatalf("read after the timeout: %q, %v", b[:4], err)
	}
	// A deadline already past when the read comes: the request still goes
	// out (as Write would have sent it), and the read times out.
	c.Write(req)
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past a deadline already past: %v", err)
	}
	if _, err := io.ReadFull(s, b); err != nil || !bytes.Equal(b, req) {
		t.Fatalf("after a deadline already past, the server read %v, %v", b, err)
	}
}

// A server that resets the connection: the read that writes the held
// request reports a *net.OpError, not a reply.
func TestHeldRequestReset(t *testing.T) {
	c, s := tcpPair(t)
	s.(*net.TCPConn).SetLinger(0)
	s.Close() // RST
	c.Write(opMsgOf(64, 0))
	_, err := c.Read(make([]byte, 4))
	var oe *net.OpError
	if !errors.As(err, &oe) || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		t.Fatalf("read after a reset: %v; want a *net.OpError with ECONNRESET or EPIPE", err)
	}
}

// Requests are held only while others await their replies: the first two
// of a dialer's connections write theirs at once, the third holds its; the
// count falls as replies are read and connections close, and a monitor's
// streamed hello (exhaustAllowed) is neither counted nor held.
func TestHoldWhenBusy(t *testing.T) {
	d := &bufferedDialer{}
	var cs [3]*bufferedConn
	var ss [3]net.Conn
	for i := range cs {
		cs[i], ss[i] = tcpPairOf(t, d)
	}
	stream, _ := tcpPairOf(t, d)
	stream.Write(opMsgOf(40, flagExhaustAllowed))
	if len(stream.held) != 0 || d.waiting.Load() != 0 {
		t.Fatalf("a streamed hello: held %d bytes, count %d", len(stream.held), d.waiting.Load())
	}
	req := opMsgOf(40, 0)
	for i, c := range cs {
		c.Write(req)
		if held := len(c.held) != 0; held != (i == 2) {
			t.Fatalf("request %d held: %v", i+1, held)
		}
	}
	if n := d.waiting.Load(); n != 3 {
		t.Fatalf("%d requests counted; want 3", n)
	}
	for i, s := range ss[:2] {
		b := make([]byte, len(req))
		io.ReadFull(s, b)
		s.Write([]byte("ok"))
		if _, err := io.ReadFull(cs[i], b[:2]); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.waiting.Load(); n != 1 {
		t.Fatalf("after two replies, %d requests counted; want 1", n)
	}
	cs[2].Close()
	if n := d.waiting.Load(); n != 0 {
		t.Fatalf("after a close, %d requests counted; want 0", n)
	}
}
