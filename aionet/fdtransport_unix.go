//go:build unix

package aionet

import (
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/internal/edge"
)

// fdTransport is a connection on a non-blocking socket watched by the loop's
// poller: asyncio's selector transport.
type fdTransport struct {
	loop         *aio.Loop
	fd           int
	proto        Protocol
	laddr, raddr net.Addr
	wbuf         []byte // bytes waiting to be sent
	limits       writeLimits
	readPaused   bool
	eofRead      bool // the peer's EOF was read and told
	writing      bool // a writer callback is registered
	eofAsked     bool // WriteEOF: shut the write side once wbuf is sent
	eofSent      bool
	closing      bool // Close: close once wbuf is sent
	closed       bool
	pipe         bool // a pipe, not a socket: read and write, not recv and send
	stopOnClose  func() bool
	reader       BufferedProtocol // proto, or copier if proto is not a BufferedProtocol
	copier       copier
	batch        *ioBatch // the loop's batch of reads and sends (sockets on Linux), or nil
	qOff, qLen   int      // t's bytes in batch's arena
	readQueued   bool     // in batch's reads
	readOn       bool     // and read on to a short read's end
	onReadable   func()   // readReady, or readLater with a batch
}

// readBufs lends the read buffer: data is handed to DataReceived and must not
// outlive the call, so one buffer serves every read. 256 KiB, as asyncio's
// transports read: a 100 KiB message arrives in one DataReceived, not two
// (echo of 100 KiB through a Protocol: 1.23× → 0.99× Go's CPU per request).
var readBufs = sync.Pool{New: func() any { b := make([]byte, 256*1024); return &b }}

// newFDTransport wraps a connected socket and starts reading from it.
func newFDTransport(l *aio.Loop, network string, fd int, p Protocol) (*fdTransport, error) {
	return newFDTransportOn(l, fd, p, socketFD, localAddr(network, fd), remoteAddr(network, fd))
}

// fdKind is what a transport's descriptor is.
type fdKind uint8

const (
	socketFD   fdKind = iota // a connected socket
	pipeReader               // the read end of a pipe
	pipeWriter               // the write end of a pipe: never read
)

// newFDTransportOn wraps a non-blocking descriptor.
func newFDTransportOn(l *aio.Loop, fd int, p Protocol, kind fdKind, laddr, raddr net.Addr) (*fdTransport, error) {
	t := &fdTransport{loop: l, fd: fd, proto: p, laddr: laddr, raddr: raddr, pipe: kind != socketFD}
	read := kind != pipeWriter
	t.limits.set(DefaultHighWater, DefaultLowWater)
	t.reader, _ = p.(BufferedProtocol)
	if t.reader == nil {
		t.copier.Protocol = p
		t.reader = &t.copier
	}
	t.onReadable = t.readReady
	if kind == socketFD {
		if t.batch = batchOf(l); t.batch != nil {
			t.onReadable = t.readLater
		}
	}
	if read {
		if err := edge.AddReader(l, uintptr(fd), t.onReadable); err != nil {
			unix.Close(fd)
			return nil, err
		}
	} else {
		t.readPaused = true
	}
	t.stopOnClose = l.OnClose(func() {
		reportUnclosed(l, "connection", t.laddr, t.raddr)
		t.closeNow(aio.ErrClosed)
	})
	p.ConnectionMade(t)
	return t, nil
}

func (t *fdTransport) readReady() { t.readInto(t.reader) }

func (t *fdTransport) read(p []byte) (int, error) {
	if t.pipe {
		return sysRead(t.fd, p)
	}
	return sockRecv(t.fd, p)
}

func (t *fdTransport) write(p []byte) (int, error) {
	if t.pipe {
		return sysWrite(t.fd, p)
	}
	return sockSend(t.fd, p)
}

// copier lends a plain Protocol's reads a pooled buffer and hands the bytes
// to DataReceived: the transport has one read path.
type copier struct {
	Protocol
	buf *[]byte
}

func (c *copier) GetBuffer() []byte {
	if c.buf == nil {
		c.buf = readBufs.Get().(*[]byte)
	}
	return *c.buf
}

func (c *copier) BufferUpdated(n int) {
	c.Protocol.DataReceived((*c.buf)[:n])
	readBufs.Put(c.buf)
	c.buf = nil
}

// readInto reads into the protocol's own buffer. The descriptor is watched
// edge-triggered: it reads until a short read (the socket had no more) or
// EAGAIN, and after a few full buffers lets the loop serve the others and
// comes back on its next pass.
func (t *fdTransport) readInto(p BufferedProtocol) {
	if t.closed || t.readPaused || t.eofRead { // a read scheduled by the previous call
		return
	}
	for range 4 {
		buf := p.GetBuffer()
		n, err := t.read(buf)
		switch {
		case n > 0:
			p.BufferUpdated(n)
			if t.closed || t.readPaused || n < len(buf) {
				return
			}
		case err == unix.EINTR: // again
		case err == unix.EAGAIN:
			return
		case err != nil:
			t.closeNow(t.opError("read", err))
			return
		default:
			t.readEOF()
			return
		}
	}
	t.loop.CallSoon(t.readReady) // more may be waiting, and no new edge will say so
}

// readEOF tells the protocol that the peer ended its stream.
func (t *fdTransport) readEOF() {
	t.eofRead = true
	t.loop.RemoveReader(uintptr(t.fd))
	if !t.proto.EOFReceived() {
		t.Close()
	}
}

func (t *fdTransport) Write(data []byte) error {
	switch {
	case t.closed || t.closing:
		return ErrClosed
	case t.eofAsked:
		return errWriteAfterEOF
	case len(data) == 0:
		return nil
	case t.queue(data):
		t.limits.check(t.proto, t.buffered())
		return nil
	}
	if len(t.wbuf) == 0 {
		n, err := t.write(data)
		if err != nil && err != unix.EAGAIN && err != unix.EINTR {
			opErr := t.opError("write", err)
			t.closeNow(opErr)
			return opErr
		}
		if n < 0 {
			n = 0
		}
		data = data[n:]
		if len(data) == 0 {
			return nil
		}
	}
	t.wbuf = append(t.wbuf, data...)
	if !t.writing {
		t.writing = true
		t.loop.AddWriter(uintptr(t.fd), t.writeReady)
	}
	t.limits.check(t.proto, len(t.wbuf))
	return nil
}

// buffered is how many bytes wait to be sent.
func (t *fdTransport) buffered() int { return len(t.wbuf) + t.qLen }

// pending says that bytes wait to be sent.
func (t *fdTransport) pending() bool { return t.buffered() > 0 }

func (t *fdTransport) writeReady() {
	n, err := t.write(t.wbuf)
	if err != nil && err != unix.EAGAIN && err != unix.EINTR {
		t.closeNow(t.opError("write", err))
		return
	}
	if n > 0 {
		rest := copy(t.wbuf, t.wbuf[n:])
		t.wbuf = t.wbuf[:rest]
		if cap(t.wbuf) > 4*DefaultHighWater && rest < DefaultLowWater {
			t.wbuf = append([]byte(nil), t.wbuf...) // give a big buffer back
		}
	}
	t.limits.check(t.proto, len(t.wbuf))
	if len(t.wbuf) > 0 {
		return
	}
	t.writing = false
	t.loop.RemoveWriter(uintptr(t.fd))
	t.flushed()
}

// flushed runs once the write buffer is empty.
func (t *fdTransport) flushed() {
	if t.closing {
		t.closeNow(nil)
		return
	}
	if t.eofAsked && !t.eofSent {
		t.eofSent = true
		unix.Shutdown(t.fd, unix.SHUT_WR)
	}
}

func (t *fdTransport) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: t.laddr.Network(), Source: t.laddr, Addr: t.raddr, Err: os.NewSyscallError(op, err)}
}

func (t *fdTransport) WriteEOF() error {
	if t.closed || t.closing {
		return ErrClosed
	}
	t.eofAsked = true
	if !t.pending() {
		t.flushed()
	}
	return nil
}

func (t *fdTransport) Close() error {
	if t.closed || t.closing {
		return nil
	}
	t.closing = true
	t.loop.RemoveReader(uintptr(t.fd))
	if !t.pending() {
		t.closeNow(nil)
	}
	return nil
}

// Abort closes at once. Bytes gathered for the end of the pass go out first,
// as far as the socket takes them, as they would have had the write been
// made at once: a server answers 500 and aborts, and the answer must not be
// lost for having waited for the pass's end.
func (t *fdTransport) Abort() {
	if t.qLen > 0 && !t.closed {
		t.write(t.queued())
	}
	t.closeNow(nil)
}

// closeNow closes the socket and tells the protocol, on the loop's next pass.
func (t *fdTransport) closeNow(err error) {
	if t.closed {
		return
	}
	t.closed, t.closing = true, true
	t.loop.RemoveReader(uintptr(t.fd))
	t.loop.RemoveWriter(uintptr(t.fd))
	unix.Close(t.fd)
	t.wbuf, t.qLen = nil, 0
	if t.stopOnClose != nil {
		t.stopOnClose()
	}
	p := t.proto
	if t.loop.IsClosed() || err == aio.ErrClosed {
		p.ConnectionLost(err)
		return
	}
	t.loop.CallSoon(func() { p.ConnectionLost(err) })
}

func (t *fdTransport) PauseReading() {
	if !t.readPaused && !t.closing {
		t.readPaused = true
		t.loop.RemoveReader(uintptr(t.fd))
	}
}

func (t *fdTransport) ResumeReading() {
	if t.readPaused && !t.closing {
		t.readPaused = false
		if !t.eofRead {
			edge.AddReader(t.loop, uintptr(t.fd), t.onReadable)
		}
	}
}

func (t *fdTransport) SetWriteBufferLimits(high, low int) {
	t.limits.set(high, low)
	t.limits.check(t.proto, t.buffered())
}

func (t *fdTransport) WriteBufferSize() int { return t.buffered() }
func (t *fdTransport) IsClosing() bool      { return t.closing }
func (t *fdTransport) LocalAddr() net.Addr  { return t.laddr }
func (t *fdTransport) RemoteAddr() net.Addr { return t.raddr }

// newPipeTransport drives our end of a pipe: a duplicate of f's descriptor,
// non-blocking; f is closed.
func newPipeTransport(l *aio.Loop, f *os.File, write bool, p Protocol) error {
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	rc.Control(func(ofd uintptr) { fd, err = unix.Dup(int(ofd)) })
	if err != nil {
		return os.NewSyscallError("dup", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return err
	}
	kind := pipeReader
	if write {
		kind = pipeWriter
	}
	_, err = newFDTransportOn(l, fd, p, kind, pipeAddr(f.Name()), pipeAddr(f.Name()))
	return err
}
