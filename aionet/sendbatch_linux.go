package aionet

import (
	"math"
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
	ring   *uring.Ring
	arena  []byte         // the queued bytes of this pass
	queue  []*fdTransport // transports with bytes in arena, in order
	spare  []*fdTransport // the queue being sent
	segs   [][]byte       // each transport's bytes in the chunk being sent
	res    []int32        // and what came of them
	record func(tag uint64, res int32)
	enter  func(record func(tag uint64, res int32)) error // ring.Enter; tests fail it
	calls  int                                            // enter's calls
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
	b.enter = r.Enter
	b.record = func(tag uint64, res int32) { b.res[tag] = res }
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
// nothing of t's waits for the socket; false: Write writes it at once, or
// after what waits. Bytes t gathered that cannot grow in place (another
// transport's follow them, or they would pass maxBatched) move to t's own
// buffer, which goes out when the socket is writable: no byte is copied
// twice in the arena.
func (t *fdTransport) queue(data []byte) bool {
	b := t.batch
	switch {
	case b == nil || b.ring == nil || len(t.wbuf) > 0:
		return false
	case t.qLen == 0:
		if len(data) > maxBatched {
			return false
		}
		t.qOff = len(b.arena)
		b.queue = append(b.queue, t)
	case t.qOff+t.qLen != len(b.arena) || t.qLen+len(data) > maxBatched:
		t.wbuf = append(t.wbuf, t.queued()...)
		t.qLen = 0
		return false
	}
	b.arena = append(b.arena, data...)
	t.qLen += len(data)
	return true
}

// queued returns t's bytes waiting for the end of the pass.
func (t *fdTransport) queued() []byte { return t.batch.arena[t.qOff : t.qOff+t.qLen] }

// PassEnd sends what the pass gathered. A protocol told of a send may write
// again: that goes out in the same call.
func (b *sendBatch) PassEnd() {
	for len(b.queue) > 0 {
		q := b.queue
		b.queue, b.spare = b.spare[:0], q
		for len(q) > 0 {
			chunk := q
			if b.ring != nil {
				chunk = q[:min(len(q), b.ring.Space())]
			}
			b.send(chunk)
			// Every transport's state first says what was sent, before any
			// protocol code runs (and writes) in what follows.
			for i, t := range chunk {
				t.settle(b.segs[i], b.res[i])
			}
			for i, t := range chunk {
				t.afterSend(b.res[i])
			}
			q = q[len(chunk):]
		}
		clear(b.spare)
	}
	if cap(b.arena) > 1<<20 {
		b.arena = nil // a burst's arena goes back
	}
	b.arena = b.arena[:0]
}

// skipped is the result of a transport that closed after it queued.
const skipped = math.MinInt32

// send sends the chunk's gathered bytes, and leaves in b.res each one's
// result: a byte count, a negated errno, or skipped. If the ring fails (it
// does not, short of a kernel's refusal), the sends it did not report on
// count as refused by a full socket (they wait for the socket to be
// writable, as a direct write's rest does), and the loop's transports write
// at once from then on.
func (b *sendBatch) send(chunk []*fdTransport) {
	b.segs, b.res = b.segs[:0], b.res[:0]
	for i, t := range chunk {
		b.segs = append(b.segs, t.queued())
		if t.qLen == 0 {
			b.res = append(b.res, skipped)
			continue
		}
		t.qLen = 0
		b.res = append(b.res, -int32(syscall.EAGAIN))
		if b.ring != nil {
			b.ring.Send(t.fd, b.segs[i], uint64(i))
		}
	}
	if b.ring == nil {
		return
	}
	b.calls++
	if err := b.enter(b.record); err != nil {
		b.ring.Close()
		b.ring = nil
	}
}

// settle keeps what the socket did not take of seg, t's gathered bytes, for
// when it is writable. It runs no protocol code: nothing else is written to
// t between its send and this.
func (t *fdTransport) settle(seg []byte, res int32) {
	if res == skipped || t.closed || res < 0 && !retryable(syscall.Errno(-res)) {
		return
	}
	if rest := seg[max(res, 0):]; len(rest) > 0 {
		t.wbuf = append(t.wbuf, rest...) // empty before: t wrote nothing since it gathered
		if !t.writing {
			t.writing = true
			t.loop.AddWriter(uintptr(t.fd), t.writeReady)
		}
	}
}

// afterSend does what follows a send: close on an error, tell the protocol
// its buffer shrank, end the stream if it asked to and all is sent.
func (t *fdTransport) afterSend(res int32) {
	switch {
	case res == skipped || t.closed:
	case res < 0 && !retryable(syscall.Errno(-res)):
		t.closeNow(t.opError("write", syscall.Errno(-res)))
	default:
		t.limits.check(t.proto, t.buffered())
		if t.buffered() == 0 {
			t.flushed()
		}
	}
}

func retryable(e syscall.Errno) bool { return e == syscall.EAGAIN || e == syscall.EINTR }
