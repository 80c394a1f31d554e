//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poll_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aio-go/aio/internal/poll"
)

// nonblockingPipe returns a pipe whose ends do not block (unix.Pipe2 is
// not on every system the poller builds for).
func nonblockingPipe(t *testing.T) (r, w int) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	return fds[0], fds[1]
}

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

// runner is a poll.Runner for the tests: passes runs each pass and says what
// comes next; ready records the events.
type runner struct {
	passes func() time.Duration
	ready  func(fd int, ready, tag uint32)
}

func (r runner) Pass() time.Duration             { return r.passes() }
func (r runner) Ready(fd int, ready, tag uint32) { r.ready(fd, ready, tag) }

// TestServeSeesEveryEvent has another goroutine write to a pipe, one byte at
// a time, each after the runner has read the one before, with pauses of
// varying length, while the runner's passes ask to wait without limit,
// to poll, or to skip polling. A wake-up lost by a park without a look
// would leave Serve parked: a watchdog's Wake then fails the test.
func TestServeSeesEveryEvent(t *testing.T) {
	for _, interest := range []uint32{poll.Read, poll.Read | poll.Edge} {
		p, err := poll.New()
		if err != nil {
			t.Fatal(err)
		}
		r, w := nonblockingPipe(t)
		if err := p.Control(r, interest, 1); err != nil {
			t.Fatal(err)
		}
		const n = 1000
		ack := make(chan struct{}, 1)
		go func() {
			for i := range n {
				<-ack
				// Pauses of 0 to 12 turns of the scheduler vary where the
				// write lands: during a pass, a look, or a park.
				for range i % 7 * (i % 3) {
					runtime.Gosched()
				}
				unix.Write(w, []byte{1})
			}
		}()
		var got, passes int
		var timedOut atomic.Bool
		watchdog := time.AfterFunc(10*time.Second, func() { timedOut.Store(true); p.Wake() })
		ack <- struct{}{}
		err = p.Serve(runner{
			passes: func() time.Duration {
				passes++
				switch {
				case got == n || timedOut.Load():
					return poll.Stop
				case passes%5 == 0:
					return 0
				case passes%7 == 0:
					return poll.Skip
				}
				return -1
			},
			ready: func(fd int, ready, tag uint32) {
				var buf [16]byte
				for {
					k, _ := unix.Read(r, buf[:])
					if k <= 0 {
						return
					}
					for range k {
						got++
						ack <- struct{}{}
					}
				}
			},
		})
		watchdog.Stop()
		if err != nil || got != n || timedOut.Load() {
			t.Fatalf("interest %b: Serve = %v with %d bytes of %d read (watchdog fired: %v)", interest, err, got, n, timedOut.Load())
		}
		unix.Close(r)
		unix.Close(w)
		p.Close()
	}
}

// TestServeTimeouts: a pass that asks to wait at most d is followed by the
// next one after d at the earliest, again and again (an expired deadline is
// cleared, not left to end every later wait at once).
func TestServeTimeouts(t *testing.T) {
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
	p.Control(fds[0], poll.Read, 0) // watched, never readable
	const d = 5 * time.Millisecond
	var at []time.Time
	err = p.Serve(runner{
		passes: func() time.Duration {
			at = append(at, time.Now())
			if len(at) == 4 {
				return poll.Stop
			}
			return d
		},
		ready: func(fd int, ready, tag uint32) { t.Errorf("event on %d", fd) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < d {
			t.Errorf("pass %d came %v after the one before, under %v", i, gap, d)
		}
	}
}

// TestLevelLeftoversAreSeen: a level-triggered descriptor that a handler
// leaves ready (it reads one byte of two) is polled again before the next
// park, though the kernel raises no new edge for it and empty looks before
// had taught Serve to park without looking; beside an edge-triggered
// descriptor, and after another level-triggered one was dropped.
func TestLevelLeftoversAreSeen(t *testing.T) {
	p, err := poll.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pipe := func() (r, w int) {
		r, w = nonblockingPipe(t)
		t.Cleanup(func() { unix.Close(r); unix.Close(w) })
		return r, w
	}
	gone, _ := pipe()
	edge, _ := pipe()
	level, w := pipe()
	for _, c := range []struct {
		fd       int
		interest uint32
	}{{gone, poll.Read}, {edge, poll.Read | poll.Edge}, {level, poll.Read}, {gone, 0}} {
		if err := p.Control(c.fd, c.interest, 1); err != nil {
			t.Fatal(err)
		}
	}
	got, passes := 0, 0
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(10*time.Second, func() { timedOut.Store(true); p.Wake() })
	defer watchdog.Stop()
	err = p.Serve(runner{
		passes: func() time.Duration {
			passes++
			switch {
			case got == 2 || timedOut.Load():
				return poll.Stop
			case passes <= 3:
				return time.Millisecond // empty looks: the next parks skip them
			case passes == 4:
				unix.Write(w, []byte{1, 2})
			}
			return -1
		},
		ready: func(fd int, ready, tag uint32) {
			var b [1]byte
			if k, _ := unix.Read(fd, b[:]); k == 1 {
				got++
			}
		},
	})
	if err != nil || got != 2 || timedOut.Load() {
		t.Fatalf("Serve = %v with %d bytes of 2 read (watchdog fired: %v)", err, got, timedOut.Load())
	}
}
