package aionet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/aio-go/aio"
)

// DefaultLimit is the most a Stream buffers for ReadUntil and ReadLine, as
// asyncio's stream limit.
const DefaultLimit = 64 * 1024

// LimitError is returned by ReadUntil and ReadLine when the separator is not
// found within the stream's limit (asyncio's LimitOverrunError). The data
// stays in the buffer: Read can still take it.
type LimitError struct {
	Limit    int // the stream's limit
	Buffered int // bytes buffered when the limit was reached
}

// Error reports the limit that was overrun.
func (e *LimitError) Error() string {
	return fmt.Sprintf("aionet: separator not found within the limit of %d bytes (%d buffered)", e.Limit, e.Buffered)
}

// IncompleteReadError is returned by ReadExactly and ReadUntil when the
// stream ends first (asyncio's IncompleteReadError). Partial holds what was
// read; it matches io.ErrUnexpectedEOF under errors.Is, and the error the
// connection was lost with, if it was (a reset: syscall.ECONNRESET).
type IncompleteReadError struct {
	Partial  []byte
	Expected int   // bytes expected; -1 for ReadUntil
	Err      error // why the stream ended, if not the peer's orderly close
}

// Error reports how much was read of how much was expected.
func (e *IncompleteReadError) Error() string {
	if e.Expected < 0 {
		return fmt.Sprintf("aionet: stream ended after %d bytes, before the separator", len(e.Partial))
	}
	return fmt.Sprintf("aionet: stream ended after %d of %d bytes", len(e.Partial), e.Expected)
}

// Is reports whether target is io.ErrUnexpectedEOF.
func (e *IncompleteReadError) Is(target error) bool { return target == io.ErrUnexpectedEOF }

// Unwrap returns why the stream ended, if the connection was lost.
func (e *IncompleteReadError) Unwrap() error { return e.Err }

// Stream is a connection read and written by tasks (asyncio's StreamReader and
// StreamWriter in one). Reads suspend the calling task until data is there;
// writes never block and Drain waits while the write buffer is above its
// high-water mark, so that a slow peer cannot make memory grow without bound.
// Its methods belong to the loop's goroutine.
type Stream struct {
	t       Transport
	loop    *aio.Loop
	buf     []byte // buffered data is buf[off:]
	off     int
	limit   int
	eof     bool
	lost    bool
	lostErr error
	paused  bool // reading paused: the buffer is over 2×limit
	data    aio.Event
	drained aio.Event
	closed  aio.Event
	wpaused bool

	// lent is the buffer of a Read waiting on an empty stream: the transport
	// reads straight into it, and lentN says how much it got until that Read
	// takes it.
	lent  []byte
	lentN int

	hangUp func(err error) // OnHangUp's
}

// streamProtocol feeds a Stream from its transport.
type streamProtocol struct{ s *Stream }

func newStream(l *aio.Loop) (*Stream, *streamProtocol) {
	s := &Stream{loop: l, limit: DefaultLimit}
	s.drained.Set()
	return s, &streamProtocol{s}
}

func (p *streamProtocol) ConnectionMade(t Transport) { p.s.t = t }

func (p *streamProtocol) DataReceived(data []byte) {
	s := p.s
	if s.off > 0 && s.off == len(s.buf) {
		s.buf, s.off = s.buf[:0], 0
	}
	s.buf = append(s.buf, data...)
	s.data.Set()
	if !s.paused && len(s.buf)-s.off > 2*s.limit {
		s.paused = true
		s.t.PauseReading()
	}
}

// minRead is the least room GetBuffer offers: a read of a small message does
// not make the buffer grow, one that fills it doubles it next time.
const minRead = 512

// GetBuffer lends the transport the free end of the stream's buffer, so that
// data is read straight into it.
func (p *streamProtocol) GetBuffer() []byte {
	s := p.s
	if s.lent != nil {
		return s.lent
	}
	n := len(s.buf) - s.off
	if n == 0 {
		s.buf, s.off = s.buf[:0], 0
	}
	if cap(s.buf)-len(s.buf) < minRead {
		if s.off > 0 && cap(s.buf)-n >= max(minRead, cap(s.buf)/2) {
			copy(s.buf, s.buf[s.off:]) // room enough once compacted
			s.buf, s.off = s.buf[:n], 0
		} else {
			nb := make([]byte, n, max(minRead, 2*cap(s.buf)))
			copy(nb, s.buf[s.off:])
			s.buf, s.off = nb, 0
		}
	}
	return s.buf[len(s.buf):cap(s.buf)]
}

// BufferUpdated takes the n bytes read into the lent buffer.
func (p *streamProtocol) BufferUpdated(n int) {
	s := p.s
	if s.lent != nil {
		s.lent, s.lentN = nil, n
		s.data.Set()
		return
	}
	s.buf = s.buf[:len(s.buf)+n]
	s.data.Set()
	if !s.paused && len(s.buf)-s.off > 2*s.limit {
		s.paused = true
		s.t.PauseReading()
	}
}

func (p *streamProtocol) EOFReceived() bool {
	p.s.eof = true
	p.s.data.Set()
	p.s.hungUp(nil)
	return true // the writer may go on: half-close
}

func (p *streamProtocol) ConnectionLost(err error) {
	s := p.s
	s.lost, s.lostErr, s.eof = true, err, true
	s.data.Set()
	s.drained.Set()
	s.closed.Set()
	s.hungUp(err)
}

// hungUp calls the OnHangUp callback, once.
func (s *Stream) hungUp(err error) {
	if fn := s.hangUp; fn != nil {
		s.hangUp = nil
		fn(err)
	}
}

// OnHangUp makes fn run on the loop when the peer closes its side of the
// connection (err is nil) or the connection is lost (err says why, nil for
// a close of our own): what a server watches to stop working for a client
// that is gone. It runs at most once; a later call replaces fn, and nil
// removes it. If the peer has hung up already, fn runs at once.
func (s *Stream) OnHangUp(fn func(err error)) {
	s.hangUp = fn
	if s.eof {
		s.hungUp(s.lostErr)
	}
}

func (p *streamProtocol) PauseWriting()  { p.s.wpaused = true; p.s.drained.Clear() }
func (p *streamProtocol) ResumeWriting() { p.s.wpaused = false; p.s.drained.Set() }

// SetLimit sets the buffer limit of ReadUntil and ReadLine (DefaultLimit by
// default).
func (s *Stream) SetLimit(n int) { s.limit = max(n, 1) }

// Transport returns the stream's transport.
func (s *Stream) Transport() Transport { return s.t }

// LocalAddr returns the connection's local address.
func (s *Stream) LocalAddr() net.Addr { return s.t.LocalAddr() }

// RemoteAddr returns the address of the connection's peer.
func (s *Stream) RemoteAddr() net.Addr { return s.t.RemoteAddr() }

// Buffered returns the number of bytes read from the peer and not consumed.
func (s *Stream) Buffered() int { return len(s.buf) - s.off }

// AtEOF reports whether the peer has closed and the buffer is empty.
func (s *Stream) AtEOF() bool { return s.eof && s.Buffered() == 0 }

// wait suspends the task until more data, EOF or the end of the connection.
// A reader that waits wants more data: reading resumes even if the buffer is
// over its mark (ReadExactly of more than the limit), as in asyncio.
func (s *Stream) wait(ctx context.Context) error {
	if s.paused {
		s.paused = false
		s.t.ResumeReading()
	}
	s.data.Clear()
	return s.data.Wait(ctx)
}

// consume takes n buffered bytes.
func (s *Stream) consume(n int) []byte {
	b := s.buf[s.off : s.off+n]
	s.off += n
	if s.paused && s.Buffered() <= s.limit {
		s.paused = false
		s.t.ResumeReading()
	}
	return b
}

// readErr is what a read returns at the end of the data.
func (s *Stream) readErr() error {
	if s.lostErr != nil {
		return s.lostErr
	}
	return io.EOF
}

// minLend is the least room a waiting Read must offer to be read into
// directly: a smaller one would cost a system call per few bytes.
const minLend = minRead

// Read reads up to len(p) bytes, waiting until at least one is there. It
// returns io.EOF once the peer has closed and the buffer is empty (the
// io.Reader contract), and the cause if ctx is cancelled first.
//
// A Read that waits on an empty stream lends p to the transport, which reads
// the next data straight into it: one copy, from the kernel, as a blocking
// read on a goroutine would make.
func (s *Stream) Read(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for s.Buffered() == 0 {
		if s.eof {
			return 0, s.readErr()
		}
		// One Read at a time lends its buffer: another waiting meanwhile
		// (two tasks reading one stream) gets what comes next the usual way.
		lends := s.lent == nil && s.lentN == 0 && len(p) >= minLend
		if lends {
			s.lent = p
		}
		err := s.wait(ctx)
		if lends {
			s.lent = nil // taken back, if the transport did not fill it
			if n := s.lentN; n > 0 {
				s.lentN = 0
				return n, nil // the data is the caller's now, even if ctx ended meanwhile
			}
		}
		if err != nil {
			return 0, err
		}
	}
	return copy(p, s.consume(min(len(p), s.Buffered()))), nil
}

// WaitReadable waits until the stream has data to read, or has ended, and
// takes none of it: what a server waits with on an idle connection without
// holding a read buffer for it.
func (s *Stream) WaitReadable(ctx context.Context) error {
	for s.Buffered() == 0 && !s.eof {
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ReadExactly reads exactly n bytes (asyncio's readexactly). If the stream
// ends first, it returns an *IncompleteReadError with what there was. The
// slice is the stream's own until the next read: copy it to keep it.
func (s *Stream) ReadExactly(ctx context.Context, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("aionet: ReadExactly of %d bytes, fewer than none", n)
	}
	for s.Buffered() < n {
		if s.eof {
			partial := append([]byte(nil), s.consume(s.Buffered())...)
			return partial, &IncompleteReadError{Partial: partial, Expected: n, Err: s.lostErr}
		}
		if err := s.wait(ctx); err != nil {
			return nil, err
		}
	}
	return s.consume(n), nil
}

// ReadLine reads up to and including the next "\n"; see ReadUntil.
func (s *Stream) ReadLine(ctx context.Context) ([]byte, error) {
	return s.ReadUntil(ctx, []byte{'\n'})
}

// ReadUntil reads up to and including the next sep (asyncio's readuntil). If
// sep is not found within the stream's limit, it returns a *LimitError and
// leaves the data in the buffer; if the stream ends first, an
// *IncompleteReadError with the rest. The slice is the stream's own until the
// next read.
func (s *Stream) ReadUntil(ctx context.Context, sep []byte) ([]byte, error) {
	if len(sep) == 0 {
		return nil, errors.New("aionet: ReadUntil with an empty separator")
	}
	searched := 0 // bytes already searched without finding sep
	for {
		data := s.buf[s.off:]
		if i := bytes.Index(data[searched:], sep); i >= 0 {
			end := searched + i + len(sep)
			if end > s.limit {
				return nil, &LimitError{Limit: s.limit, Buffered: len(data)}
			}
			return s.consume(end), nil
		}
		searched = max(0, len(data)-len(sep)+1)
		if len(data) > s.limit {
			return nil, &LimitError{Limit: s.limit, Buffered: len(data)}
		}
		if s.eof {
			partial := append([]byte(nil), s.consume(len(data))...)
			if len(partial) == 0 && s.lostErr == nil {
				return nil, io.EOF
			}
			return partial, &IncompleteReadError{Partial: partial, Expected: -1, Err: s.lostErr}
		}
		if err := s.wait(ctx); err != nil {
			return nil, err
		}
	}
}

// Write sends b without blocking (asyncio's StreamWriter.write): what the
// socket does not take now is buffered. Call Drain to wait while the buffer
// is full. It returns net.ErrClosed once the stream is closed.
func (s *Stream) Write(b []byte) (int, error) {
	if s.lost {
		if s.lostErr != nil {
			return 0, asWrite(s.lostErr)
		}
		return 0, ErrClosed
	}
	if err := s.t.Write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// asWrite reports a connection's loss, seen by a read, as the write's.
func asWrite(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op != "write" {
		w := *oe
		w.Op = "write"
		return &w
	}
	return err
}

// Drain waits until the write buffer is back below its low-water mark
// (asyncio's drain). It returns the connection's error if it was lost.
func (s *Stream) Drain(ctx context.Context) error {
	if err := s.drained.Wait(ctx); err != nil {
		return err
	}
	if s.lost && s.lostErr != nil {
		return s.lostErr
	}
	return nil
}

// CloseWrite closes the write side once the buffered data is sent
// (half-close, asyncio's write_eof); reading goes on.
func (s *Stream) CloseWrite() error { return s.t.WriteEOF() }

// Close closes the stream once the buffered data is sent. It does not wait;
// WaitClosed does.
func (s *Stream) Close() error { return s.t.Close() }

// WaitClosed waits until the connection is closed (asyncio's wait_closed).
func (s *Stream) WaitClosed(ctx context.Context) error { return s.closed.Wait(ctx) }
