package aiomongo

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestBufferedConn: reads come through the buffer in order, a deadline
// error is reported once and the next read tries the connection again, as
// the driver expects of a bare connection (its liveness check reads with a
// short deadline, then the connection is used again).
func TestBufferedConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newBufferedConn(a)
	go b.Write([]byte("abcdef"))
	head := make([]byte, 4)
	if _, err := io.ReadFull(c, head); err != nil || string(head) != "abcd" {
		t.Fatalf("first read: %q, %v", head, err)
	}
	rest := make([]byte, 2)
	if _, err := io.ReadFull(c, rest); err != nil || string(rest) != "ef" {
		t.Fatalf("second read: %q, %v", rest, err)
	}
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(rest); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	go b.Write([]byte("gh"))
	if _, err := io.ReadFull(c, rest); err != nil || string(rest) != "gh" {
		t.Fatalf("read after the deadline error: %q, %v", rest, err)
	}
}
