package poll

import "time"

// chanPoller is the fallback poller: it waits on a channel and a timer, and watches
// no descriptors (Control returns ErrUnsupported); I/O goes through goroutines.
type chanPoller struct {
	c     chan struct{}
	timer *time.Timer
}

// NewFallback returns a poller that watches no descriptors: Wait waits for
// Wake or the timeout. It serves where the system has no poller, or where
// making one failed.
func NewFallback() Poller { return &chanPoller{c: make(chan struct{}, 1)} }

func (p *chanPoller) Wait(timeout time.Duration, h Handler) error {
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
	return nil
}

func (p *chanPoller) Wake() error {
	select {
	case p.c <- struct{}{}:
	default:
	}
	return nil
}

func (p *chanPoller) Control(int, uint32, uint32) error { return ErrUnsupported }

func (p *chanPoller) Close() error {
	if p.timer != nil {
		p.timer.Stop()
	}
	return nil
}

// Serve runs r's passes with Wait between them.
func (p *chanPoller) Serve(r Runner) error { return serve(p, r) }
