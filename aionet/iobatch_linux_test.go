package aionet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/internal/uring"
	"golang.org/x/sys/unix"
)

// pairs connects n streams to n peers on l's loop.
func pairs(ctx context.Context, n int) (cs, peers []*Stream, done func(), err error) {
	accepted := make(chan *Stream, n)
	srv, err := StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *Stream) error {
		accepted <- s
		return s.WaitClosed(ctx)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	done = func() {
		for _, c := range cs {
			c.Close()
		}
		srv.Close()
	}
	for range n {
		c, err := Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			done()
			return nil, nil, nil, err
		}
		cs = append(cs, c)
		for len(accepted) == 0 {
			aio.Yield(ctx)
		}
		peers = append(peers, <-accepted)
	}
	return cs, peers, done, nil
}

// readAll reads s to its end.
func readAll(ctx context.Context, s *Stream) ([]byte, error) {
	var all []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(ctx, buf)
		all = append(all, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}

// runBoth runs main on a loop whose transports gather their writes, and on
// one whose transports write at once.
func runBoth(t *testing.T, main func(t *testing.T, ctx context.Context) error) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			batchDisabled = direct
			defer func() { batchDisabled = false }()
			runLoop(t, func(ctx context.Context) error { return main(t, ctx) })
		})
	}
}

// runRing runs main with n connected pairs on a loop with a batch, and
// skips the test where the kernel has no io_uring for us.
func runRing(t *testing.T, n int, main func(ctx context.Context, cs, peers []*Stream, b *ioBatch) error) {
	r, err := uring.New(8)
	if err != nil {
		t.Skip(err)
	}
	r.Close()
	runLoop(t, func(ctx context.Context) error {
		cs, peers, done, err := pairs(ctx, n)
		if err != nil {
			return err
		}
		defer done()
		b := cs[0].t.(*fdTransport).batch
		if b == nil {
			return errors.New("a loop with io_uring made no batch")
		}
		return main(ctx, cs, peers, b)
	})
}

// runBothPairs is runBoth with n connected pairs.
func runBothPairs(t *testing.T, n int, main func(t *testing.T, ctx context.Context, cs, peers []*Stream) error) {
	runBoth(t, func(t *testing.T, ctx context.Context) error {
		cs, peers, done, err := pairs(ctx, n)
		if err != nil {
			return err
		}
		defer done()
		return main(t, ctx, cs, peers)
	})
}

// runLoop runs main on a loop of its own; a lost byte fails it in 20 s
// rather than hang the test.
func runLoop(t *testing.T, main func(ctx context.Context) error) {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		_, err := aio.WaitFor(ctx, 20*time.Second, func(ctx context.Context) (struct{}, error) { return struct{}{}, main(ctx) })
		return err
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
}

// The writes a pass makes to many connections go out in one system call,
// each to its own peer, and the reads the peers make in one.
func TestSendBatchOneCall(t *testing.T) {
	runRing(t, 8, func(ctx context.Context, cs, peers []*Stream, b *ioBatch) error {
		calls, reads := b.sends, b.recvs
		for i, c := range cs {
			fmt.Fprintf(c, "to %d;", i)
			fmt.Fprintf(c, "again %d", i) // the same transport twice in a pass
		}
		if err := aio.Yield(ctx); err != nil {
			return err
		}
		if got := b.sends - calls; got != 1 {
			t.Errorf("8 connections' writes took %d calls; want 1", got)
		}
		// The peers find their bytes readable at the same poll, and read
		// them in one call.
		for _, p := range peers {
			for p.Buffered() == 0 {
				aio.Yield(ctx)
			}
		}
		if got := b.recvs - reads; got != 1 {
			t.Errorf("8 connections' reads took %d calls; want 1", got)
		}
		for i, p := range peers {
			want := fmt.Sprintf("to %d;again %d", i, i)
			got, err := p.ReadExactly(ctx, len(want))
			if err != nil || string(got) != want {
				t.Errorf("peer %d read %q, %v; want %q", i, got, err, want)
			}
		}
		return nil
	})
}

// pattern is n bytes of a sequence that shows a lost or reordered piece.
func pattern(from, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte((from + i) % 251)
	}
	return p
}

// Writes that outgrow the socket's buffer keep their order: a gathered send
// the socket takes in part leaves the rest before the writes that follow,
// in the same pass and later ones; a transport's gathered bytes that another
// transport's follow move to its own buffer in order; Close sends everything
// before the FIN.
func TestSendBatchKeepsOrder(t *testing.T) {
	runBoth(t, func(t *testing.T, ctx context.Context) error {
		// The socket refuses a send made with another transport's (in the
		// ring), then one made alone (a plain system call).
		for _, alone := range []bool{false, true} {
			if err := keepsOrder(t, ctx, alone); err != nil {
				return err
			}
		}
		return nil
	})
}

func keepsOrder(t *testing.T, ctx context.Context, alone bool) error {
	{
		cs, peers, done, err := pairs(ctx, 2)
		if err != nil {
			return err
		}
		defer done()
		c, p := cs[0], peers[0]
		tr := c.t.(*fdTransport)
		unix.SetsockoptInt(tr.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
		const piece = 1000
		sent, xs := 0, 0
		write := func(pieces int) {
			for range pieces {
				c.Write(pattern(sent, piece))
				sent += piece
			}
		}
		// Bytes gathered that cannot grow in place (another transport's
		// follow them) move to the transport's buffer.
		for range 50 {
			write(1)
			cs[1].Write([]byte("x"))
			xs++
			write(1)
			aio.Yield(ctx)
		}
		for tr.buffered() > 0 { // the moved bytes go out
			aio.Yield(ctx)
		}
		if alone { // the peer's reads would share c's calls
			p.t.PauseReading()
			defer p.t.ResumeReading()
		}
		// Gathered writes of 15 KB a pass, the peer not reading, until
		// the socket takes one in part: the rest waits in the transport.
		for len(tr.wbuf) == 0 {
			if sent > 100<<20 {
				return errors.New("the socket took 100 MB and never refused a send")
			}
			write(15)
			if !alone {
				cs[1].Write([]byte("x"))
				xs++
			}
			aio.Yield(ctx)
		}
		// More behind it.
		for round := range 300 {
			if round%3 == 0 {
				write(15)
			}
			cs[1].Write([]byte("x"))
			xs++
			write(1)
			aio.Yield(ctx)
		}
		tr.SetWriteBufferLimits(1<<30, 0) // no pause: the rest is gathered too
		for range 100 {
			aio.Yield(ctx)
			write(1)
		}
		c.Close()
		p.t.ResumeReading()
		got, err := readAll(ctx, p)
		if err != nil {
			return err
		}
		if len(got) != sent || !bytes.Equal(got, pattern(0, sent)) {
			t.Errorf("read %d bytes, in order %v; want the %d written, in order", len(got), bytes.Equal(got, pattern(0, len(got))), sent)
		}
		x, err := peers[1].ReadExactly(ctx, xs)
		if err != nil || !bytes.Equal(x, bytes.Repeat([]byte("x"), xs)) {
			t.Errorf("the other connection read %q…, %v", x[:min(len(x), 10)], err)
		}
		return nil
	}
}

// Bytes written in the pass that asks for WriteEOF, Close or Abort go out
// before the end of the stream.
func TestSendBatchThenEnd(t *testing.T) {
	runBothPairs(t, 3, func(t *testing.T, ctx context.Context, cs, peers []*Stream) error {
		for i, end := range []func(tr *fdTransport){
			func(tr *fdTransport) { tr.WriteEOF() },
			func(tr *fdTransport) { tr.Close() },
			func(tr *fdTransport) { tr.Abort() },
		} {
			cs[i].Write([]byte("last words"))
			end(cs[i].t.(*fdTransport))
			got, err := readAll(ctx, peers[i])
			if string(got) != "last words" || err != nil {
				t.Errorf("end %d: peer read %q, %v; want the last words, then EOF", i, got, err)
			}
		}
		// WriteEOF ends only the writing half.
		peers[0].Write([]byte("answer"))
		got, err := cs[0].ReadExactly(ctx, 6)
		if err != nil || string(got) != "answer" {
			t.Errorf("after WriteEOF the stream read %q, %v", got, err)
		}
		return nil
	})
}

// A send the peer refuses (it reset the connection) closes the transport with
// the error, as a direct write's failure does.
func TestSendBatchErrorCloses(t *testing.T) {
	runBothPairs(t, 1, func(t *testing.T, ctx context.Context, cs, peers []*Stream) error {
		p := peers[0].t.(*fdTransport)
		unix.SetsockoptLinger(p.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		p.Abort() // an RST
		c := cs[0]
		for range 100 { // until the RST has come and a send failed
			if _, err := c.Write([]byte("into the void")); err != nil {
				break
			}
			aio.Yield(ctx)
		}
		aio.Yield(ctx) // the stream hears of the loss
		_, err := c.Write([]byte("more"))
		if !errors.Is(err, unix.ECONNRESET) && !errors.Is(err, unix.EPIPE) {
			t.Errorf("write after the reset = %v; want ECONNRESET or EPIPE", err)
		}
		return nil
	})
}

// If the ring fails, what it did not send goes out when the sockets are
// writable, and the loop's transports write at once from then on.
func TestSendBatchRingFailure(t *testing.T) {
	runRing(t, 4, func(ctx context.Context, cs, peers []*Stream, b *ioBatch) error {
		b.enter = func(func(uint64, int32)) error { return unix.EBADF }
		for i, c := range cs {
			fmt.Fprintf(c, "first %d;", i)
		}
		aio.Yield(ctx) // the failing pass end
		for i, c := range cs {
			fmt.Fprintf(c, "second %d", i)
		}
		for i, p := range peers {
			want := fmt.Sprintf("first %d;second %d", i, i)
			got, err := p.ReadExactly(ctx, len(want))
			if err != nil || string(got) != want {
				t.Errorf("peer %d read %q, %v; want %q", i, got, err, want)
			}
		}
		if b.ring != nil {
			t.Error("the batch kept its failed ring")
		}
		return nil
	})
}
