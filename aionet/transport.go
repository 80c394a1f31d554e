// Package aionet is network I/O on an aio loop: transports and protocols
// (asyncio's callback API), streams built on them (open_connection,
// start_server), a net.Conn and net.Listener adapter so that standard library
// code (crypto/tls, bufio, net/http's Request.Write) runs unchanged inside
// tasks, datagram endpoints, and, beneath them all on Unix, sockets driven
// by hand (asyncio's loop.sock_* operations). A connection waits on the
// loop's poller (epoll, kqueue), not on a goroutine of its own; on systems
// without a poller aio knows, connections fall back to goroutines that hand
// data to the loop. On Linux, the reads of the sockets a poll found readable
// and the small writes of a pass go to the kernel in one io_uring call per
// pass rather than a system call each (where io_uring is refused, the
// transports read and write at once): a Write returns before its bytes reach
// the socket, as asyncio's transport.write does, and its failure closes the
// connection with the error.
//
// Everything here belongs to the loop it was made on: call it from that
// loop's tasks and callbacks. Every descriptor is closed when its owner is
// closed or when its loop closes. Errors name the operation and the address,
// as *net.OpError does.
//
// This package owns sockets and byte streams; it must not know about
// protocols above them (HTTP, MongoDB): those live in their own packages.
package aionet

import (
	"errors"
	"net"
)

// Protocol receives the events of a connection (asyncio.Protocol). Its
// methods run on the loop, one at a time, with no task and no stack of their
// own: a server with very many mostly idle connections is cheapest written as
// a Protocol.
type Protocol interface {
	// ConnectionMade is called once, when the transport is ready.
	ConnectionMade(t Transport)
	// DataReceived is called with the bytes read. data is valid only during
	// the call: copy what must outlive it.
	DataReceived(data []byte)
	// EOFReceived is called when the peer closed its side (half-close).
	// Returning false closes the transport; true keeps it open for writing.
	EOFReceived() (keepOpen bool)
	// ConnectionLost is called once, when the connection is closed: err is
	// nil after a normal close or EOF, the cause otherwise.
	ConnectionLost(err error)
}

// BufferedProtocol is a Protocol that lends the transport the buffer to read
// into (asyncio.BufferedProtocol), saving a copy: the transport calls
// GetBuffer, reads into it, and reports the count to BufferUpdated, instead of
// calling DataReceived.
type BufferedProtocol interface {
	Protocol
	// GetBuffer returns a buffer of at least one byte to read into.
	GetBuffer() []byte
	// BufferUpdated reports that n bytes were read into the last buffer.
	BufferUpdated(n int)
}

// WriteFlowControl is implemented by protocols that want to hear when the
// transport's write buffer goes above its high-water mark (PauseWriting) and
// back below its low-water mark (ResumeWriting).
type WriteFlowControl interface {
	PauseWriting()
	ResumeWriting()
}

// Transport is a connection driven by callbacks (asyncio.Transport). Writes
// never block: what the socket does not take at once is buffered and sent
// when it can be; the protocol hears about a full buffer through
// WriteFlowControl.
type Transport interface {
	// Write sends data, buffering what cannot be sent now. It returns
	// ErrClosed after Close, and an error once WriteEOF was called.
	Write(data []byte) error
	// WriteEOF closes the write side once the buffered data is sent
	// (half-close); reading goes on.
	WriteEOF() error
	// Close closes the transport once the buffered data is sent; the
	// protocol's ConnectionLost follows.
	Close() error
	// Abort closes the transport at once, dropping buffered data.
	Abort()
	// PauseReading stops DataReceived until ResumeReading.
	PauseReading()
	// ResumeReading resumes DataReceived.
	ResumeReading()
	// SetWriteBufferLimits sets the water marks of the write buffer (asyncio's
	// defaults: 64 KiB high, 16 KiB low).
	SetWriteBufferLimits(high, low int)
	// WriteBufferSize returns the number of bytes waiting to be sent.
	WriteBufferSize() int
	// IsClosing reports whether Close or Abort was called, or the connection
	// was lost.
	IsClosing() bool
	// LocalAddr and RemoteAddr return the connection's addresses.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// Default water marks of a transport's write buffer, as asyncio's.
const (
	DefaultHighWater = 64 * 1024
	DefaultLowWater  = 16 * 1024
)

// ErrClosed is returned by operations on a closed transport, stream or
// listener; it is net.ErrClosed, so code written for package net recognises
// it.
var ErrClosed = net.ErrClosed

var errWriteAfterEOF = errors.New("aionet: write after WriteEOF")

// errServing is the error of Accept, and of a second ServeProtocol, on a
// listener that serves protocols.
var errServing = errors.New("aionet: the listener serves protocols (ServeProtocol)")

// writeLimits holds the water marks shared by the transports.
type writeLimits struct {
	high, low int
	paused    bool // the protocol was told to pause
}

func (w *writeLimits) set(high, low int) {
	if high <= 0 {
		high = DefaultHighWater
	}
	if low < 0 || low > high {
		low = high / 4
	}
	w.high, w.low = high, low
}

// check tells the protocol to pause or resume writing as size crosses the
// water marks.
func (w *writeLimits) check(p Protocol, size int) {
	fc, ok := p.(WriteFlowControl)
	if !ok {
		return
	}
	switch {
	case !w.paused && size > w.high:
		w.paused = true
		fc.PauseWriting()
	case w.paused && size <= w.low:
		w.paused = false
		fc.ResumeWriting()
	}
}
