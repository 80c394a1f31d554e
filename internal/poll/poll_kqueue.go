//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package poll

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// kqueue is the BSD and macOS poller, woken through a pipe.
type kqueue struct {
	fd       int
	wakeR    int
	wakeW    int
	events   []unix.Kevent_t
	interest map[int]uint32
	tags     map[int]uint32
	woken    atomic.Bool
	closed   bool
}

// New returns the system's poller.
func New() (Poller, error) {
	fd, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	var pipe [2]int
	if err := unix.Pipe(pipe[:]); err != nil {
		unix.Close(fd)
		return nil, err
	}
	for _, f := range pipe {
		unix.CloseOnExec(f)
		unix.SetNonblock(f, true)
	}
	p := &kqueue{fd: fd, wakeR: pipe[0], wakeW: pipe[1], events: make([]unix.Kevent_t, 128),
		interest: make(map[int]uint32), tags: make(map[int]uint32)}
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], p.wakeR, unix.EVFILT_READ, unix.EV_ADD)
	if _, err := unix.Kevent(fd, ch[:], nil, nil); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *kqueue) Wait(timeout time.Duration, h Handler) error {
	if p.closed {
		return ErrClosed
	}
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Kevent(p.fd, nil, p.events, ts)
	if err != nil {
		if err == unix.EINTR {
			return nil
		}
		return err
	}
	for i := range n {
		ev := &p.events[i]
		fd := int(ev.Ident)
		if fd == p.wakeR {
			var buf [64]byte
			for {
				if n, _ := unix.Read(p.wakeR, buf[:]); n <= 0 {
					break
				}
			}
			p.woken.Store(false)
			continue
		}
		var ready uint32
		switch ev.Filter {
		case unix.EVFILT_READ:
			ready = Read
		case unix.EVFILT_WRITE:
			ready = Write
		}
		if ev.Flags&(unix.EV_EOF|unix.EV_ERROR) != 0 {
			ready |= Read
		}
		h.Ready(fd, ready, p.tags[fd])
	}
	return nil
}

func (p *kqueue) Wake() error {
	if !p.woken.CompareAndSwap(false, true) {
		return nil
	}
	_, err := unix.Write(p.wakeW, []byte{1})
	if err == unix.EAGAIN {
		return nil
	}
	return err
}

func (p *kqueue) Control(fd int, interest, tag uint32) error {
	if p.closed {
		return ErrClosed
	}
	old := p.interest[fd]
	var ch []unix.Kevent_t
	for _, f := range []struct {
		bit    uint32
		filter int
	}{{Read, unix.EVFILT_READ}, {Write, unix.EVFILT_WRITE}} {
		var ev unix.Kevent_t
		switch {
		case interest&f.bit != 0 && old&f.bit == 0:
			unix.SetKevent(&ev, fd, f.filter, unix.EV_ADD)
		case interest&f.bit == 0 && old&f.bit != 0:
			unix.SetKevent(&ev, fd, f.filter, unix.EV_DELETE)
		default:
			continue
		}
		ch = append(ch, ev)
	}
	if interest == 0 {
		delete(p.interest, fd)
		delete(p.tags, fd)
	} else {
		p.interest[fd] = interest
		p.tags[fd] = tag
	}
	if len(ch) == 0 {
		return nil
	}
	_, err := unix.Kevent(p.fd, ch, nil, nil)
	if interest == 0 && (err == unix.EBADF || err == unix.ENOENT) {
		return nil
	}
	return err
}

func (p *kqueue) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	unix.Close(p.wakeR)
	unix.Close(p.wakeW)
	return unix.Close(p.fd)
}

// Serve runs r's passes with Wait between them.
func (p *kqueue) Serve(r Runner) error { return serve(p, r) }
