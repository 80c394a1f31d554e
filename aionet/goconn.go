package aionet

import (
	"context"
	"net"
	"time"

	"github.com/aio-go/aio"
)

// GoConn adapts the stream to a net.Conn for goroutines that are not tasks
// of its loop: libraries built on goroutines of their own, such as net/http's
// Transport, database drivers or gRPC. Each Read and Write hands the
// operation to the loop as a task of its own and blocks the calling goroutine
// until it is done, so the I/O stays on the loop and the loop is never
// touched from elsewhere; deadlines and Close work from any goroutine, as
// net.Conn promises. A goroutine pays a task and two hand-overs per call:
// tasks use Conn, whose calls suspend the task instead.
func (s *Stream) GoConn() net.Conn { return &goConn{c: s.Conn(), l: s.loop} }

// GoDialer returns a dial function for goroutines that connects with Dial on
// loop l and returns the stream as a GoConn: what http.Transport.DialContext
// and similar hooks take. ctx bounds the dial.
func GoDialer(l *aio.Loop) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		p := aio.Submit(l, func(tctx context.Context) (*Stream, error) {
			if d, ok := ctx.Deadline(); ok {
				var s *Stream
				err := aio.TimeoutAt(tctx, l.Now().Add(time.Until(d)), func(tctx context.Context) (err error) {
					s, err = Dial(tctx, network, address)
					return err
				})
				return s, err
			}
			return Dial(tctx, network, address)
		}, aio.WithName("aionet.GoDialer "+address))
		s, err := p.Wait(ctx)
		if err != nil {
			if p.Cancel() { // ctx ended first: the dial may still succeed
				if s, err2 := p.Wait(context.Background()); err2 == nil {
					onLoop(l, func() { s.Close() })
				}
			}
			return nil, err
		}
		return s.GoConn(), nil
	}
}

// onLoop runs fn on l, from any goroutine.
func onLoop(l *aio.Loop, fn func()) { _ = l.CallSoonThreadsafe(fn) }

// goConn is the net.Conn of GoConn: Conn's calls, made in tasks on the loop.
type goConn struct {
	c *Conn
	l *aio.Loop
}

type ioResult struct{ n int }

// run makes op in a task on the loop and waits for it.
func (g *goConn) run(name string, op func() (int, error)) (int, error) {
	p := aio.Submit(g.l, func(context.Context) (ioResult, error) {
		n, err := op()
		return ioResult{n}, err
	}, aio.WithName(name))
	r, err := p.Wait(context.Background())
	if err == aio.ErrClosed {
		return r.n, g.c.opError(name[len("aionet.GoConn."):], net.ErrClosed)
	}
	return r.n, err
}

func (g *goConn) Read(p []byte) (int, error) {
	return g.run("aionet.GoConn.read", func() (int, error) { return g.c.Read(p) })
}

func (g *goConn) Write(p []byte) (int, error) {
	return g.run("aionet.GoConn.write", func() (int, error) { return g.c.Write(p) })
}

func (g *goConn) Close() error                       { return g.c.Close() }
func (g *goConn) LocalAddr() net.Addr                { return g.c.LocalAddr() }
func (g *goConn) RemoteAddr() net.Addr               { return g.c.RemoteAddr() }
func (g *goConn) SetDeadline(t time.Time) error      { return g.c.SetDeadline(t) }
func (g *goConn) SetReadDeadline(t time.Time) error  { return g.c.SetReadDeadline(t) }
func (g *goConn) SetWriteDeadline(t time.Time) error { return g.c.SetWriteDeadline(t) }
