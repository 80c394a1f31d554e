package aiomongo

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"sync/atomic"
)

// readBufferSize is the read buffer of each connection the client dials:
// room for a typical reply whole (a document, an acknowledgement, a small
// batch); a longer reply is read past it, straight into the driver's buffer.
const readBufferSize = 4 << 10

// bufferedDialer dials the driver's connections through bufferedConn, and
// counts the requests awaiting their replies on all of them.
type bufferedDialer struct {
	net.Dialer
	// waiting is the number of requests sent (or held) whose reply no read
	// has returned yet; a monitor's streamed hello (exhaustAllowed), which
	// waits for seconds, is not counted.
	waiting atomic.Int32
	// holdAt is the count at which requests are held; 0: defaultHoldAt.
	holdAt int32
}

// defaultHoldAt is how many requests, a new one included, must be awaiting
// their replies for the new one to be held. Holding delays the request by what
// the driver does between its write and its read (a few microseconds):
// nothing when the goroutines have other requests' work to do meanwhile,
// but with one or two in flight the delay is latency, which the Go
// scheduler spends polling (insert at one task: 1.08× the CPU of writing at
// once, 0.93× the throughput).
const defaultHoldAt = 3

func (d *bufferedDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	bc := newBufferedConn(c)
	bc.d = d
	return bc, nil
}

// bufferedConn is a driver's connection that saves system calls on the
// driver's way of using it: a request written, then its reply read.
//
// Reads go through a buffer. The driver reads a reply in two calls, its
// 4-byte length and then the rest, and each call on a bare connection is a
// read system call (after the one that found nothing yet and waited): the
// buffer gets the whole of a small reply in one (a find_one at 32 tasks: 4 %
// of its CPU). A read that fails (a deadline, a closed connection) reports
// its error once and the next read tries the connection again, as the driver
// expects of a bare one.
//
// Where the system lets the connection be written and read directly (see
// rawOf), a request that the server answers is held back by Write and
// written by the next read, which then waits for the reply without first
// trying a read that cannot find it yet (a read system call per operation,
// 2 µs on the machine of docs/performance.md). The wait for the reply is
// armed before the request goes out, so a reply that comes at once is not
// missed. Write sends at once, as before, a request the server does not
// answer (an unacknowledged write, moreToCome), anything that is not one
// whole OP_MSG, and any request while fewer than defaultHoldAt await their replies;
// what the socket cannot take of a held request the read sends through the
// connection's own Write; a failed held write is reported by the read.
// Deadlines and Close go to the connection itself.
type bufferedConn struct {
	net.Conn
	r        *bufio.Reader
	raw      rawConn         // nil: requests are written at once
	d        *bufferedDialer // nil: held whenever they can be
	held     []byte          // a request the next read writes; empty: none
	awaiting atomic.Bool     // a request of this connection is counted in d.waiting
}

func newBufferedConn(c net.Conn) *bufferedConn {
	bc := &bufferedConn{Conn: c, raw: rawOf(c)}
	bc.r = bufio.NewReaderSize(connReader{bc}, readBufferSize)
	return bc
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufferedConn) Write(p []byte) (int, error) {
	if c.raw != nil && len(c.held) == 0 && expectsReply(p) && c.busy() {
		c.held = append(c.held, p...) // the driver may reuse p
		return len(p), nil
	}
	if err := c.writeHeld(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// busy counts the request being written as awaiting its reply, and says
// whether enough are awaiting theirs to hold it.
func (c *bufferedConn) busy() bool {
	d := c.d
	if d == nil {
		return true
	}
	n := d.waiting.Load()
	if c.awaiting.CompareAndSwap(false, true) {
		n = d.waiting.Add(1)
	}
	at := d.holdAt
	if at == 0 {
		at = defaultHoldAt
	}
	return n >= at
}

// replied takes the connection's request off the count: its reply came, or
// the connection failed or closed.
func (c *bufferedConn) replied() {
	if c.d != nil && c.awaiting.CompareAndSwap(true, false) {
		c.d.waiting.Add(-1)
	}
}

func (c *bufferedConn) Close() error {
	c.replied()
	return c.Conn.Close()
}

// writeHeld writes a held request, for a write that must follow it.
func (c *bufferedConn) writeHeld() error {
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	return err
}

// connReader is what the buffer reads: the connection, after the request
// held for it.
type connReader struct{ c *bufferedConn }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	defer c.replied()
	if len(c.held) == 0 {
		return c.Conn.Read(p)
	}
	held := c.held
	c.held = c.held[:0]
	n, wrote, err := c.raw.writeThenRead(held, p)
	if err != nil || wrote == len(held) {
		return n, err
	}
	// The socket took part of the request (or none, if the read could not
	// begin): the rest waits for room, within the write deadline, and the
	// reply is read as any.
	if _, err := c.Conn.Write(held[wrote:]); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// A rawConn writes and reads a connection's socket itself.
type rawConn interface {
	// writeThenRead writes req until the socket is full, and if it took
	// all of it waits for the reply and reads into p. It returns what it
	// read and wrote, and the first failure, as a *net.OpError; if the read
	// could not begin, it wrote nothing and reports nothing, for the
	// connection's own Write and Read to do both.
	writeThenRead(req, p []byte) (n, wrote int, err error)
}

// The wire protocol's OP_MSG, and its flags for a message not answered and
// for a request whose replies stream (a monitor's hello).
const (
	opMsg              = 2013
	flagMoreToCome     = 1 << 1
	flagExhaustAllowed = 1 << 16
)

// expectsReply says whether p is one whole OP_MSG that the server answers
// once: its length is p's, its opcode OP_MSG, and neither moreToCome nor
// exhaustAllowed is set. (Anything else, such as a TLS record, is written at
// once.)
func expectsReply(p []byte) bool {
	return len(p) >= 20 &&
		binary.LittleEndian.Uint32(p) == uint32(len(p)) &&
		binary.LittleEndian.Uint32(p[12:]) == opMsg &&
		binary.LittleEndian.Uint32(p[16:])&(flagMoreToCome|flagExhaustAllowed) == 0
}
