//go:build linux

package poll

import (
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epoll is the Linux poller: epoll (level-triggered, or edge-triggered for
// descriptors that ask), and an eventfd to wake it.
//
// The loop must not sleep in a blocking epoll_wait: the Go scheduler would
// see a goroutine stuck in a system call, hand its processor to another
// thread and back at every wake-up (futex and nanosleep calls by the
// thousand). Instead the epoll descriptor is itself registered with the Go
// runtime's poller (an epoll descriptor is readable while it has events): the
// loop's goroutine parks like any goroutine waiting for a socket, and
// epoll_wait is only ever called with a zero timeout.
type epoll struct {
	fd       int
	file     *os.File        // fd, known to the runtime's poller
	rc       syscall.RawConn // to park until fd is readable
	wakeFd   int
	events   []unix.EpollEvent
	interest map[int]uint32
	woken    atomic.Bool
	closed   bool
	// deadline is the read deadline the descriptor has from a previous
	// park (zero: none), to be cleared before a wait without limit and not
	// set again when it has not changed.
	deadline time.Time
	// Serve's state: the runner, whether a pass said Stop, the function
	// the runtime calls (made once: a method value made per Serve would be
	// allocated each time), and the look-before-parking record.
	runner  Runner
	stopped bool
	serving func(uintptr) bool
	looks   lookRecord

	// A loop that watches no descriptor parks on a channel instead (see
	// parkOnChannel): woken there, it costs no system call, where the
	// eventfd costs three (the waker's write, the loop's epoll_wait and its
	// read). chanMode says which way the loop parks now, for Wake.
	// mustLook says the last poll may have left events behind: it filled
	// the buffer, or reported a level-triggered descriptor (still ready,
	// perhaps). The kernel puts those back on the ready list without waking
	// the runtime's poller again, so a park before another poll could wait
	// for ever. levels lists the level-triggered descriptors watched (a
	// listener, most often): looked up per event, a list of one or two is
	// cheaper than the interest map (a long one is not looked through: see
	// maxLevelScan).
	mustLook bool
	levels   []int

	chanMode  atomic.Bool
	fdWoken   atomic.Bool   // a Wake wrote the eventfd, which no poll has drained since
	wakeCh    chan struct{} // buffered: one wake-up
	chanWait  time.Duration // the park serveStep asked Serve for; 0: none
	chanTimer *time.Timer
}

// lookRecord decides whether Serve looks for events before it parks. Under
// load a look finds some and saves the park (the scheduler's round trip and
// its own two epoll_waits); with the loop ahead of its peers, a look finds
// nothing and is a system call wasted at each park: one in four of the loop's
// polls with one connection. After two empty looks in a row it parks without
// looking, but still looks at every fourth park, to see the load come back.
type lookRecord struct {
	misses  int // empty looks in a row
	skipped int // parks without a look since the last look
}

// look says whether to look before this park.
func (r *lookRecord) look() bool {
	if r.misses < 2 || r.skipped >= 3 {
		r.skipped = 0
		return true
	}
	r.skipped++
	return false
}

// found records what a look found.
func (r *lookRecord) found(n int) {
	if n > 0 {
		r.misses = 0
	} else {
		r.misses++
	}
}

// deadlineGrain is the step deadlines are rounded up to: waiting for the same
// timer again finds the same deadline and leaves the runtime's timer alone.
const deadlineGrain = 50 * time.Microsecond

// New returns the system's poller.
func New() (Poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	p := &epoll{fd: fd, wakeFd: wfd, events: make([]unix.EpollEvent, 128), interest: make(map[int]uint32),
		wakeCh: make(chan struct{}, 1)}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wfd)}
	if err := unix.EpollCtl(fd, unix.EPOLL_CTL_ADD, wfd, &ev); err != nil {
		unix.Close(fd)
		unix.Close(wfd)
		return nil, err
	}
	unix.SetNonblock(fd, true) // so that os.NewFile hands it to the runtime's poller
	p.file = os.NewFile(uintptr(fd), "epoll")
	rc, err := p.file.SyscallConn()
	if err != nil {
		p.Close()
		return nil, err
	}
	p.rc = rc
	p.serving = p.serveStep
	return p, nil
}

// Wait polls without waiting, or with a timeout, serves one pass that waits.
func (p *epoll) Wait(timeout time.Duration, h Handler) error {
	if p.closed {
		return ErrClosed
	}
	if timeout != 0 {
		return p.Serve(&waitOnce{Handler: h, timeout: timeout})
	}
	n, err := p.poll()
	if err != nil && err != unix.EINTR {
		return err
	}
	p.dispatch(n, h)
	return nil
}

// waitOnce is a Wait with a timeout as a Runner: after the first poll it
// waits, unless that poll found something, and after the wait it stops.
type waitOnce struct {
	Handler
	timeout       time.Duration
	found, waited bool
}

func (w *waitOnce) Ready(fd int, ready, tag uint32) {
	w.found = true
	w.Handler.Ready(fd, ready, tag)
}

func (w *waitOnce) Pass() time.Duration {
	if w.found || w.waited {
		return Stop
	}
	w.waited = true
	return w.timeout
}

// dispatch hands h the n events of the last poll.
func (p *epoll) dispatch(n int, h Handler) {
	p.mustLook = n == len(p.events)
	for i := range n {
		ev := &p.events[i]
		fd := int(ev.Fd)
		if fd == p.wakeFd {
			p.fdWoken.Store(false) // before the read: a write after it is seen
			var buf [8]byte
			unix.Read(p.wakeFd, buf[:])
			p.woken.Store(false)
			continue
		}
		if !p.mustLook && (len(p.levels) > maxLevelScan || slices.Contains(p.levels, fd)) {
			p.mustLook = true
		}
		var ready uint32
		if ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 {
			ready |= Read
		}
		if ev.Events&(unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 {
			ready |= Hup
		}
		if ev.Events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			ready |= Write
		}
		h.Ready(fd, ready, uint32(ev.Pad))
	}
	if n == len(p.events) && n < 4096 {
		p.events = make([]unix.EpollEvent, 2*n) // busy: take more per call
	}
}

// pollAndDispatch polls without waiting and hands h what it finds.
func (p *epoll) pollAndDispatch(h Handler) int {
	n, _ := p.poll()
	p.dispatch(n, h)
	return n
}

// Serve runs r's passes inside the runtime's read of the epoll descriptor,
// parking there when a pass asks to wait. Within one read the runtime keeps
// the descriptor's readiness from one park to the next, so a park may come
// without a look at the events first: any event since the last poll has made
// the descriptor readable, and the park ends at once. A new read, by
// contrast, starts by forgetting that readiness (the runtime resets it), so
// serveStep's first call always polls.
func (p *epoll) Serve(r Runner) error {
	if p.closed {
		return ErrClosed
	}
	p.runner, p.stopped = r, false
	defer func() { p.runner = nil }()
	for {
		err := p.rc.Read(p.serving)
		switch {
		case p.stopped:
			return nil
		case p.chanWait != 0:
			p.parkOnChannel(p.chanWait)
			p.chanWait = 0
		case os.IsTimeout(err):
			// The runtime checks an expired deadline before it calls
			// serveStep: clear it, or the next read would end at once.
			p.file.SetReadDeadline(time.Time{})
			p.deadline = time.Time{}
		case err != nil:
			return err
		}
	}
}

// serveStep is what the runtime calls in Serve's read: at its start and
// after each park. It polls, then runs passes until one says Stop (true: the
// read is over) or wait (false: the runtime parks until the descriptor is
// readable or the deadline passes).
func (p *epoll) serveStep(uintptr) bool {
	r := p.runner
	// Even with no descriptor watched, unless the eventfd is known to be
	// empty: one left readable by a wake-up that raced a park on the channel
	// would keep the epoll descriptor readable, and the runtime, which forgot
	// that readiness when this read began, would see no new edge once
	// descriptors are watched.
	if !p.quiet() {
		p.pollAndDispatch(r)
	}
	for {
		wait := r.Pass()
		switch wait {
		case Stop:
			p.stopped = true
			return true
		case Skip:
			continue
		case 0:
			if !p.quiet() {
				p.pollAndDispatch(r)
			}
			continue
		}
		if p.quiet() {
			p.chanWait = wait // Serve parks on the channel
			return true
		}
		if p.mustLook || p.looks.look() {
			n := p.pollAndDispatch(r)
			p.looks.found(n)
			if n > 0 {
				continue
			}
		}
		if len(p.interest) == 0 {
			p.chanWait = wait // Serve parks on the channel
			return true
		}
		p.setDeadline(wait)
		return false
	}
}

// quiet says that a poll would find nothing: no descriptor is watched and
// no wake-up went the eventfd's way since it was last drained. A loop that
// only awaits timers and other goroutines (ToGoroutine's) then runs its
// passes and parks without a system call.
func (p *epoll) quiet() bool { return len(p.interest) == 0 && !p.fdWoken.Load() }

// parkOnChannel parks until Wake or the timeout (none when negative), for a
// loop that watches no descriptor. chanMode and woken make a Dekker pair
// with Wake: Wake sets woken then reads chanMode, this sets chanMode then
// reads woken, so that one of the two sees the other, and a wake-up sent
// the eventfd's way before the switch is not waited for here.
func (p *epoll) parkOnChannel(timeout time.Duration) {
	p.chanMode.Store(true)
	if !p.woken.Load() {
		if timeout < 0 {
			<-p.wakeCh
		} else {
			if p.chanTimer == nil {
				p.chanTimer = time.NewTimer(timeout)
			} else {
				p.chanTimer.Reset(timeout)
			}
			select {
			case <-p.wakeCh:
				p.chanTimer.Stop()
			case <-p.chanTimer.C:
			}
		}
	}
	p.chanMode.Store(false)
	select { // a token sent while the park was skipped
	case <-p.wakeCh:
	default:
	}
	// The wake-up is consumed: the next pass sees what it announced. (One
	// that went to the eventfd leaves it readable: the next poll drains it.)
	p.woken.Store(false)
}

// setDeadline gives the epoll descriptor the read deadline of a park with
// this timeout (none when negative), rounded up to deadlineGrain; called
// inside the runtime's read, which deadlines allow (they are not under the
// read lock), so the clock is read only when the loop parks.
func (p *epoll) setDeadline(timeout time.Duration) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
		if r := time.Duration(deadline.UnixNano()) % deadlineGrain; r != 0 {
			deadline = deadline.Add(deadlineGrain - r)
		}
	}
	if !deadline.Equal(p.deadline) {
		p.file.SetReadDeadline(deadline)
		p.deadline = deadline
	}
}

// poll is epoll_wait with a zero timeout, made without telling the Go
// scheduler, as the transports' reads and writes are: it cannot block, and a
// system call the scheduler sees wakes its monitor thread (sysmon) from the
// deep sleep it enters whenever the loop has parked. Under a load that keeps
// the loop parking and waking, every such wake-up was a futex call and two
// context switches on the loop's core, and reset sysmon to polling every
// 20 µs, so that it slept and was woken again at the next park: a state that
// fed itself (0.054 futex calls, 0.018 sched_yields and 0.17 context switches
// per request in a 100 KiB echo run that had fallen into it).
func (p *epoll) poll() (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.fd),
		uintptr(unsafe.Pointer(&p.events[0])), uintptr(len(p.events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func (p *epoll) Wake() error {
	if !p.woken.CompareAndSwap(false, true) {
		return nil // a wake-up is already pending
	}
	if p.chanMode.Load() {
		select {
		case p.wakeCh <- struct{}{}:
		default:
		}
		return nil
	}
	p.fdWoken.Store(true) // before the write: a loop that sees it clear polls for nothing
	one := [8]byte{1}
	_, err := unix.Write(p.wakeFd, one[:])
	if err == unix.EAGAIN {
		return nil
	}
	return err
}

func (p *epoll) Control(fd int, interest, tag uint32) error {
	if p.closed {
		return ErrClosed
	}
	old, had := p.interest[fd]
	if interest == 0 {
		if !had {
			return nil
		}
		delete(p.interest, fd)
		if old&Edge == 0 {
			p.dropLevel(fd)
		}
		err := unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil)
		if err == unix.EBADF || err == unix.ENOENT {
			return nil // already closed: the kernel dropped it
		}
		return err
	}
	ev := unix.EpollEvent{Fd: int32(fd), Pad: int32(tag)}
	if interest&Read != 0 {
		ev.Events |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if interest&Write != 0 {
		ev.Events |= unix.EPOLLOUT
	}
	if interest&Edge != 0 {
		// Level-triggered, epoll puts every reported descriptor back on its
		// ready list and polls it again at the next epoll_wait, only to drop
		// it: one socket poll per event wasted.
		ev.Events |= unix.EPOLLET
	}
	op := unix.EPOLL_CTL_ADD
	if had {
		if old == interest {
			return nil
		}
		op = unix.EPOLL_CTL_MOD
	}
	if err := unix.EpollCtl(p.fd, op, fd, &ev); err != nil {
		return err
	}
	if had && old&Edge == 0 {
		p.dropLevel(fd)
	}
	if interest&Edge == 0 {
		p.levels = append(p.levels, fd)
	}
	p.interest[fd] = interest
	return nil
}

// maxLevelScan is the longest level-triggered list dispatch looks through;
// with more, any event may be one of theirs, and the next park looks first.
const maxLevelScan = 16

// dropLevel takes fd off the level-triggered list.
func (p *epoll) dropLevel(fd int) {
	if i := slices.Index(p.levels, fd); i >= 0 {
		p.levels = slices.Delete(p.levels, i, i+1)
	}
}

func (p *epoll) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	unix.Close(p.wakeFd)
	if p.file != nil {
		return p.file.Close()
	}
	return unix.Close(p.fd)
}
