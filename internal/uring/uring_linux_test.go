package uring

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Reads and sends with MSG_DONTWAIT answer inside Enter: an empty socket's
// read EAGAIN, a send its count, a read with data its bytes; tags come back.
func TestEnterAnswersInTheCall(t *testing.T) {
	r, err := New(8)
	if err != nil {
		t.Skip(err)
	}
	defer r.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	buf := make([]byte, 16)
	for i, c := range []struct {
		prep func()
		want map[uint64]int32
	}{
		{func() { r.Recv(fds[0], buf, 7) }, map[uint64]int32{7: -int32(unix.EAGAIN)}},
		{func() { r.Send(fds[1], []byte("hello"), 8); r.Send(fds[1], []byte("!"), 9) }, map[uint64]int32{8: 5, 9: 1}},
		{func() { r.Recv(fds[0], buf, 10) }, map[uint64]int32{10: 6}},
	} {
		c.prep()
		if r.Pending() != len(c.want) || r.Space() != 8-len(c.want) {
			t.Errorf("case %d: pending %d, space %d", i, r.Pending(), r.Space())
		}
		got := map[uint64]int32{}
		if err := r.Enter(func(tag uint64, res int32) { got[tag] = res }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Errorf("case %d: got %v, want %v", i, got, c.want)
		}
		for tag, res := range c.want {
			if got[tag] != res {
				t.Errorf("case %d: tag %d = %d, want %d", i, tag, got[tag], res)
			}
		}
	}
	if string(buf[:6]) != "hello!" {
		t.Errorf("read %q", buf[:6])
	}
}
