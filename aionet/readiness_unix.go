//go:build unix

package aionet

import (
	"context"
	"errors"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/internal/edge"
)

// readiness lets tasks wait until a descriptor is readable or writable. The
// loop watches the descriptor only while some task waits: its watches are
// level-triggered, so a socket left readable with nobody reading it (a
// listener nobody accepts on, a datagram nobody receives) would otherwise
// wake the loop at every pass and keep it from ever sleeping. Any number of
// tasks may wait in each direction; a wake-up wakes them all, and those that
// find nothing wait again.
type readiness struct {
	loop     *aio.Loop
	fd       int
	dir      [2]direction // read, write
	detached bool
}

type direction struct {
	ready   aio.Event
	waiting int
	set     func() // ready.Set, made once
}

func (r *readiness) init(l *aio.Loop, fd int) {
	r.loop, r.fd = l, fd
	for i := range r.dir {
		d := &r.dir[i]
		d.set = d.ready.Set
		edge.MarkIO(&d.ready)
	}
}

// wait suspends the task until the descriptor is ready for reading (or, with
// write, writing), ctx ends, or detach is called; the caller then retries its
// operation and checks whether it was closed.
func (r *readiness) wait(ctx context.Context, write bool) error {
	if r.detached {
		return nil
	}
	d := &r.dir[0]
	if write {
		d = &r.dir[1]
	}
	if d.waiting == 0 {
		var err error
		if write {
			err = r.loop.AddWriter(uintptr(r.fd), d.set)
		} else {
			err = r.loop.AddReader(uintptr(r.fd), d.set)
		}
		if err != nil {
			if errors.Is(err, aio.ErrClosed) {
				// The loop is closing. Awaiting is what unwinds a task
				// that retries for ever; a failed watch is not an await.
				aio.Yield(ctx)
			}
			return err
		}
	}
	d.waiting++
	d.ready.Clear()
	err := d.ready.Wait(ctx)
	if d.waiting--; d.waiting == 0 && !r.detached {
		if write {
			r.loop.RemoveWriter(uintptr(r.fd))
		} else {
			r.loop.RemoveReader(uintptr(r.fd))
		}
	}
	return err
}

// detach stops watching the descriptor, before it is closed or handed to
// another owner, and wakes every waiting task. The descriptor's number may
// be reused at once, so no waiter touches the loop's watches after this.
func (r *readiness) detach() {
	if r.detached {
		return
	}
	r.detached = true
	for i := range r.dir {
		d := &r.dir[i]
		if d.waiting > 0 {
			if i == 0 {
				r.loop.RemoveReader(uintptr(r.fd))
			} else {
				r.loop.RemoveWriter(uintptr(r.fd))
			}
		}
		d.ready.Set()
	}
}
