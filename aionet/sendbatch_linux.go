package aionet

import (
	"syscall"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/internal/edge"
	"github.com/aio-go/aio/internal/uring"
)

// sendBatch gathers the small writes a loop's transports make in one pass and
// sends them at the pass's end in one system call (io_uring), instead of one
// sendto each. On a server with many connections that is one call for the
// answers of a pass instead of one per answer: a system call costs a
// microsecond or more on the virtual machines servers run on (1.1 µs for
// getppid on the machine of docs/performance.md), about a tenth of what a
// keep-alive HTTP request costs the server in all.
//
// A transport's queued bytes are copied into the batch's arena, so the
// caller's buffer is free when Write returns, as before, and an idle
// connection holds no buffer. Sends carry MSG_DONTWAIT: one the socket
// cannot take whole leaves the rest in the transport's own buffer, which
// goes out when the socket is writable, as a direct write's rest does.
type sendBatch struct {
	ring  *uring.Ring
	arena []byte          // the queued bytes of this pass
	queue []*fdTransport  // transports with bytes in arena, in order
	spare []*fdTransport  // the queue being sent
	segs  [][]byte        // what each transport of the chunk in flight sent
	chunk []*fdTransport  // the transports in flight
	done  func(tag uint64, res int32)
}

// maxBatched is the largest write gathered: a bigger one is sent at once (a
// call per 16 KiB costs little next to the copy it would take).
const maxBatched = 16 << 10

// batchDisabled turns gathering off (tests of the direct path).
var batchDisabled bool

// sendBatchOf returns l's batch, made on first use, or nil where io_uring is
// not available (the transports then send at once).
func sendBatchOf(l *aio.Loop) *sendBatch {
	slot := edge.PassEnd(l)
	switch b := (*slot).(type) {
	case *sendBatch:
		return b
	case noBatch:
		return nil
	}
	if batchDisabled {
		*slot = noBatch{}
		return nil
	}
	r, err := uring.New(256)
	if err != nil {
		*slot = noBatch{}
		return nil
	}
	b := &sendBatch{ring: r}
	b.done = func(tag uint64, res int32) { b.chunk[tag].sent(b.segs[tag], res) }
	*slot = b
	l.OnClose(func() {
		if b.ring != nil {
			b.ring.Close()
			b.ring = nil
		}
	})
	return b
}

// noBatch marks a loop whose transports send at once.
type noBatch struct{}

func (noBatch) PassEnd() {}

// queue gathers data for the end of the pass, if it is a small write and
// nothing of t's waits for the socket; false: write it now.
func (t *fdTransport) queue(data []byte) bool {
	b := t.batch
	if b == nil || b.ring == nil || len(t.wbuf) > 0 || t.qLen == 0 && len(data) > maxBatched {
		return false
	}
	switch {
	case t.qLen == 0:
		t.qOff = len(b.arena)
		b.queue = append(b.queue, t)
	case t.qOff+t.qLen != len(b.arena): // another's bytes follow t's: move t's to the end
		off := len(b.arena)
		b.arena = append(b.arena, b.arena[t.qOff:t.qOff+t.qLen]...)
		t.qOff = off
	}
	b.arena = append(b.arena, data...)
	t.qLen += len(data)
	return true
}

// queued returns t's bytes waiting for the end of the pass.
func (t *fdTransport) queued() []byte { return t.batch.arena[t.qOff : t.qOff+t.qLen] }

// sent takes the result of the send of seg, t's queued bytes: a byte count
// or a negated errno.
func (t *fdTransport) sent(seg []byte, res int32) {
	t.inflight = false
	if t.closed {
		return
	}
	if res < 0 {
		switch e := syscall.Errno(-res); e {
		case syscall.EAGAIN, syscall.EINTR:
			res = 0
		default:
			t.closeNow(t.opError("write", e))
			return
		}
	}
	if rest := seg[res:]; len(rest) > 0 {
		t.wbuf = append(t.wbuf, rest...)
		if t.qLen > 0 { // queued while seg was in flight: after the rest
			t.wbuf = append(t.wbuf, t.queued()...)
			t.qLen = 0
		}
		if !t.writing {
			t.writing = true
			t.loop.AddWriter(uintptr(t.fd), t.writeReady)
		}
	}
	t.limits.check(t.proto, t.buffered())
	if !t.pending() {
		t.flushed()
	}
}

// PassEnd sends what the pass queued. A completion may queue more (a
// protocol told it may write again writes): that goes out in the same call.
func (b *sendBatch) PassEnd() {
	for len(b.queue) > 0 {
		if b.ring == nil { // failed: the rest waits for writable sockets
			for _, t := range b.queue {
				if t.qLen > 0 {
					seg := t.queued()
					t.qLen = 0
					t.sent(seg, -int32(syscall.EAGAIN))
				}
			}
			b.queue = b.queue[:0]
			break
		}
		q := b.queue
		b.queue, b.spare = b.spare[:0], q
		for len(q) > 0 && b.ring != nil {
			chunk := q[:min(len(q), b.ring.Space())]
			b.chunk = chunk
			b.segs = b.segs[:0]
			for i, t := range chunk {
				seg := t.queued()
				b.segs = append(b.segs, seg)
				if t.qLen > 0 { // zero: closed since it queued
					t.qLen, t.inflight = 0, true
					b.ring.Send(t.fd, seg, uint64(i))
				}
			}
			err := b.ring.Enter(b.done)
			if err != nil {
				// The ring failed (it does not, short of a kernel's
				// refusal): what it did not report on waits for the socket
				// to be writable, as a direct write's rest does, and from
				// now on the transports write at once.
				b.ring.Close()
				b.ring = nil
				for i, t := range chunk {
					if t.inflight {
						t.sent(b.segs[i], -int32(syscall.EAGAIN))
					}
				}
			}
			q = q[len(chunk):]
		}
		for _, t := range q { // not sent: the ring failed
			if t.qLen > 0 {
				seg := t.queued()
				t.qLen = 0
				t.sent(seg, -int32(syscall.EAGAIN))
			}
		}
		clear(b.spare)
		b.chunk = nil
	}
	if cap(b.arena) > 1<<20 {
		b.arena = nil // a burst's arena goes back
	}
	b.arena = b.arena[:0]
}
