package aio

import "time"

// A poller is what the loop blocks in when it has nothing ready: it returns
// when the timeout passes, when wake is called from another goroutine, or (for
// pollers that watch file descriptors) when I/O is ready.
type poller interface {
	wait(timeout time.Duration) // a negative timeout waits until woken
	wake()                      // safe for concurrent use
	close()
}

// chanPoller waits on a channel and a timer: the poller of a loop that
// watches no file descriptors.
type chanPoller struct {
	c     chan struct{}
	timer *time.Timer
}

func newPoller() poller { return &chanPoller{c: make(chan struct{}, 1)} }

func (p *chanPoller) wait(timeout time.Duration) {
	switch {
	case timeout < 0:
		<-p.c
	case timeout == 0:
		select {
		case <-p.c:
		default:
		}
	default:
		if p.timer == nil {
			p.timer = time.NewTimer(timeout)
		} else {
			p.timer.Reset(timeout)
		}
		select {
		case <-p.c:
			p.timer.Stop()
		case <-p.timer.C:
		}
	}
}

func (p *chanPoller) wake() {
	select {
	case p.c <- struct{}{}:
	default:
	}
}

func (p *chanPoller) close() {
	if p.timer != nil {
		p.timer.Stop()
	}
}
