package aionet

import (
	"math"
	"syscall"
	"unsafe"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/internal/edge"
	"github.com/aio-go/aio/internal/uring"
	"golang.org/x/sys/unix"
)

// ioBatch makes the reads and sends of a loop's socket transports through
// io_uring, one system call for a pass's worth, instead of one recvfrom or
// sendto per transport. On a server with many connections that is one call
// for the requests a poll found and the answers of the pass before, instead
// of one per request and one per answer: a system call costs a microsecond
// or more on the virtual machines servers run on (1.1 µs for getppid on the
// machine of docs/performance.md), a tenth of what a keep-alive HTTP request
// costs the server in all.
//
// Reads: a socket the poller finds readable is read at the start of the
// next pass (it starts right after the poll), into the protocol's buffer, so
// the tasks the data wakes run in that pass, as before. A read that fills the
// buffer goes on at once with direct reads, as the transport did.
//
// Sends: small writes are copied into the batch's arena (the caller's
// buffer is free when Write returns, as before, and an idle connection holds
// no buffer) and sent with the next pass's reads, or at the pass's end when
// the loop is about to wait. Both carry MSG_DONTWAIT: a send the socket
// cannot take whole leaves the rest in the transport's own buffer, which
// goes out when the socket is writable, as a direct write's rest does.
type ioBatch struct {
	ring   *uring.Ring
	arena  []byte         // the bytes gathered in this pass
	queue  []*fdTransport // transports with bytes in arena, in order
	spare  []*fdTransport // the queue being sent
	ops    []op           // the reads and sends being made
	reads  []*fdTransport // transports found readable
	rspare []*fdTransport
	record func(tag uint64, res int32)
	enter  func(record func(tag uint64, res int32)) error // ring.Enter; tests fail it
	sends  int                                            // enter's calls for sends
	recvs  int                                            // and for reads
}

// maxBatched is the largest write gathered: a bigger one is sent at once (a
// call per 16 KiB costs little next to the copy it would take).
const maxBatched = 16 << 10

// batchDisabled turns batching off (tests of the direct path).
var batchDisabled bool

// batchOf returns l's batch, made on first use, or nil where io_uring is not
// available (the transports then read and send at once).
func batchOf(l *aio.Loop) *ioBatch {
	slot := edge.Batch(l)
	switch b := (*slot).(type) {
	case *ioBatch:
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
	b := &ioBatch{ring: r}
	b.enter = r.Enter
	b.record = func(tag uint64, res int32) { b.ops[tag].res = res }
	*slot = b
	l.OnClose(func() {
		if b.ring != nil {
			b.ring.Close()
			b.ring = nil
		}
	})
	return b
}

// noBatch marks a loop whose transports read and send at once.
type noBatch struct{}

func (noBatch) PassStart() {}
func (noBatch) PassEnd()   {}

// readLater is the transport's readiness callback with a batch: the read
// waits for the start of the pass. The poller calls it a second time when
// the peer's close came with the data (the read must go on to the EOF).
func (t *fdTransport) readLater() {
	if t.readQueued {
		t.readOn = true
		return
	}
	if b := t.batch; b.ring != nil {
		t.readQueued = true
		b.reads = append(b.reads, t)
		return
	}
	t.readReady()
}

// readDone takes the result of t's read into buf.
func (t *fdTransport) readDone(buf []byte, res int32) {
	on := t.readOn
	t.readOn = false
	switch {
	case res == notRead: // the ring failed
		t.readReady()
	case res > 0:
		if raceEnabled {
			raceWriteRange(unsafe.Pointer(&buf[0]), int(res))
		}
		t.reader.BufferUpdated(int(res))
		if t.closed || t.readPaused {
			return
		}
		if int(res) == len(buf) || on {
			t.readReady() // more may wait, and no new edge will say so
		}
	case res == 0:
		t.readEOF()
	case res == -int32(syscall.EAGAIN):
	case res == -int32(syscall.EINTR):
		t.readReady()
	default:
		t.closeNow(t.opError("read", syscall.Errno(-res)))
	}
}

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

// PassStart makes the reads the last poll found and the sends the last pass
// kept, in one call.
func (b *ioBatch) PassStart() { b.flush() }

// PassEnd makes the sends of a pass after which the loop may wait. (After
// a pass that leaves tasks ready, the next pass's start sends them with its
// reads.)
func (b *ioBatch) PassEnd() { b.flush() }

// An op is a read or send of the batch.
type op struct {
	t    *fdTransport
	buf  []byte // what is sent, or read into
	res  int32  // a byte count or a negated errno; until made, EAGAIN (sends) or notRead
	read bool
}

// notRead is a read's result when the ring failed before it: the transport
// reads directly.
const notRead = math.MinInt32

// flush makes the gathered sends and reads. A protocol told of a send or a
// read may write again, or read directly: that goes out in the same call to
// flush.
func (b *ioBatch) flush() {
	for len(b.queue) > 0 || len(b.reads) > 0 {
		q, rs := b.queue, b.reads
		b.queue, b.spare = b.spare[:0], q
		b.reads, b.rspare = b.rspare[:0], rs
		b.ops = b.ops[:0]
		for _, t := range q {
			if t.qLen > 0 { // zero: closed since it gathered
				b.ops = append(b.ops, op{t: t, buf: t.queued(), res: -int32(syscall.EAGAIN)})
				t.qLen = 0
			}
		}
		for _, t := range rs {
			t.readQueued = false
			if t.closed || t.readPaused || t.eofRead {
				t.readOn = false // ResumeReading looks afresh
			} else {
				b.ops = append(b.ops, op{t: t, buf: t.reader.GetBuffer(), res: notRead, read: true})
			}
		}
		b.submit()
		// Every transport's state first says what was sent, before any
		// protocol code runs (and writes) in what follows.
		for i := range b.ops {
			if o := &b.ops[i]; !o.read {
				o.t.settle(o.buf, o.res)
			}
		}
		for i := range b.ops {
			if o := &b.ops[i]; !o.read {
				o.t.afterSend(o.res)
			}
		}
		for i := range b.ops {
			if o := &b.ops[i]; o.read {
				o.t.readDone(o.buf, o.res)
			}
		}
		clear(b.ops)
		clear(b.spare)
		clear(b.rspare)
	}
	if cap(b.arena) > 1<<20 {
		b.arena = nil // a burst's arena goes back
	}
	b.arena = b.arena[:0]
}

// submit hands the ring the ops, as many calls as the ring's size takes, and
// records their results in them. If the ring fails (it does not, short of a
// kernel's refusal), the ops it did not report on keep the result set
// before: a send counts as refused by a full socket (it waits for the socket
// to be writable, as a direct write's rest does), a read is made directly;
// and the loop's transports read and write at once from then on.
func (b *ioBatch) submit() {
	if len(b.ops) == 1 && b.ring != nil {
		// One operation: the plain system call costs less than the ring's.
		o := &b.ops[0]
		var n int
		var err error
		if o.read { // readDone tells the race detector
			n, err = rawIO(unix.SYS_RECVFROM, o.t.fd, o.buf, 0)
		} else {
			n, err = rawIO(unix.SYS_SENDTO, o.t.fd, o.buf, unix.MSG_NOSIGNAL)
		}
		if o.res = int32(n); err != nil {
			o.res = -int32(err.(syscall.Errno))
		}
		return
	}
	for i := 0; i < len(b.ops) && b.ring != nil; {
		sends, reads := false, false
		for ; i < len(b.ops) && b.ring.Space() > 0; i++ {
			o := &b.ops[i]
			if o.read {
				b.ring.Recv(o.t.fd, o.buf, uint64(i))
				reads = true
			} else {
				b.ring.Send(o.t.fd, o.buf, uint64(i))
				sends = true
			}
		}
		if sends {
			b.sends++
		}
		if reads {
			b.recvs++
		}
		if err := b.enter(b.record); err != nil {
			b.ring.Close()
			b.ring = nil
		}
	}
}

// settle keeps what the socket did not take of seg, t's gathered bytes, for
// when it is writable. It runs no protocol code: nothing else is written to
// t between its send and this.
func (t *fdTransport) settle(seg []byte, res int32) {
	if t.closed || res < 0 && !retryable(syscall.Errno(-res)) {
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
	case t.closed:
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
