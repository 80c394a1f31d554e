//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poll_test

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aio-go/aio/internal/poll"
)

type event struct {
	fd         int
	ready, tag uint32
}

func wait(t *testing.T, p poll.Poller, timeout time.Duration) []event {
	t.Helper()
	var got []event
	if err := p.Wait(timeout, poll.HandlerFunc(func(fd int, ready, tag uint32) { got = append(got, event{fd, ready, tag}) })); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestReadinessWakeAndTimeout(t *testing.T) {
	p, err := poll.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	r, w := fds[0], fds[1]
	if err := p.Control(r, poll.Read, 7); err != nil {
		t.Fatal(err)
	}
	// Nothing to read: the timeout passes.
	start := time.Now()
	if got := wait(t, p, 20*time.Millisecond); len(got) != 0 || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("idle wait: %v after %v", got, time.Since(start))
	}
	// Readable: reported with its tag, level-triggered until read.
	unix.Write(w, []byte("x"))
	for range 2 {
		if got := wait(t, p, time.Second); len(got) != 1 || got[0] != (event{r, poll.Read, 7}) {
			t.Fatalf("readable: %v", got)
		}
	}
	var buf [1]byte
	unix.Read(r, buf[:])
	// Wake from another goroutine ends a wait without limit.
	go func() { time.Sleep(10 * time.Millisecond); p.Wake() }()
	if got := wait(t, p, -1); len(got) != 0 {
		t.Fatalf("woken: %v", got)
	}
	// Writable interest on the write end; then removal.
	if err := p.Control(w, poll.Write, 9); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, p, time.Second); len(got) != 1 || got[0] != (event{w, poll.Write, 9}) {
		t.Fatalf("writable: %v", got)
	}
	p.Control(w, 0, 0)
	p.Control(r, 0, 0)
	unix.Write(w, []byte("y"))
	if got := wait(t, p, 0); len(got) != 0 {
		t.Fatalf("after removal: %v", got)
	}
	p.Close()
	if err := p.Wait(0, poll.HandlerFunc(func(int, uint32, uint32) {})); err != poll.ErrClosed {
		t.Fatalf("Wait after Close = %v", err)
	}
}

func TestFallbackWakesAndTimesOut(t *testing.T) {
	p := poll.NewFallback()
	defer p.Close()
	if err := p.Control(0, poll.Read, 0); err != poll.ErrUnsupported {
		t.Fatalf("Control = %v", err)
	}
	start := time.Now()
	wait(t, p, 10*time.Millisecond)
	if time.Since(start) < 10*time.Millisecond {
		t.Fatal("returned before the timeout")
	}
	p.Wake()
	wait(t, p, -1) // returns: a wake-up was pending
}
