package aionet

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/aio-go/aio"
)

// acceptRetryDelay is how long a server waits before accepting again after
// accept failed with something other than "nothing to accept", such as the
// process running out of descriptors (asyncio's ACCEPT_RETRY_DELAY).
const acceptRetryDelay = time.Second

// Server serves each connection of a Listener in a task of its own (what
// asyncio.start_server returns). Its methods belong to the loop's goroutine.
type Server struct {
	ctx     context.Context // the handlers' parent: Close does not cancel them
	ln      *Listener
	handler func(ctx context.Context, s *Stream) error
	accept  *aio.Task[struct{}]
	conns   map[*Stream]*aio.Task[struct{}]
	idle    aio.Event // set while no connection is being served
}

// StartServer listens on address and serves each connection by calling
// handler in a new task, spawned with ctx (asyncio.start_server). The
// connection is closed when handler returns; an error it returns goes to the
// loop's exception handler, and the server goes on.
func StartServer(ctx context.Context, network, address string, handler func(ctx context.Context, s *Stream) error) (*Server, error) {
	ln, err := Listen(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return Serve(ctx, ln, handler), nil
}

// Serve serves the connections of ln as StartServer does.
func Serve(ctx context.Context, ln *Listener, handler func(ctx context.Context, s *Stream) error) *Server {
	srv := &Server{ctx: ctx, ln: ln, handler: handler, conns: make(map[*Stream]*aio.Task[struct{}])}
	srv.idle.Set()
	srv.accept = aio.Go(ctx, srv.acceptLoop, aio.WithName("aionet.Server "+ln.Addr().String()))
	return srv
}

func (srv *Server) acceptLoop(ctx context.Context) error {
	l := aio.LoopOf(ctx)
	for {
		s, err := srv.ln.Accept(ctx)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, aio.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			l.CallExceptionHandler(aio.ExceptionContext{Message: "aionet: accept failed", Err: err})
			// Out of descriptors, say: accepting again at once would fail
			// again at once.
			if aio.Sleep(ctx, acceptRetryDelay) != nil {
				return nil
			}
			continue
		}
		srv.idle.Clear()
		// The handler's context is the server's, not the accept task's: Close
		// cancels the accept task and the handlers carry on.
		t := aio.Go(srv.ctx, func(ctx context.Context) error {
			defer func() {
				s.Close()
				delete(srv.conns, s)
				if len(srv.conns) == 0 {
					srv.idle.Set()
				}
			}()
			if err := srv.handler(ctx, s); err != nil && ctx.Err() == nil {
				l.CallExceptionHandler(aio.ExceptionContext{
					Message: "aionet: connection handler failed for " + s.RemoteAddr().String(),
					Err:     err,
					Task:    aio.CurrentTask(ctx).Name(),
				})
			}
			return nil
		})
		srv.conns[s] = t
	}
}

// Addr returns the address the server listens on.
func (srv *Server) Addr() net.Addr { return srv.ln.Addr() }

// Close stops accepting connections; those being served go on (asyncio's
// Server.close). CloseClients ends them too.
func (srv *Server) Close() error {
	err := srv.ln.Close()
	srv.accept.Cancel()
	return err
}

// CloseClients cancels the handlers of the connections being served, which
// closes the connections (asyncio's Server.close_clients).
func (srv *Server) CloseClients() {
	for _, t := range srv.conns {
		t.Cancel()
	}
}

// WaitClosed waits until the server is closed and every connection it
// served has finished (asyncio's Server.wait_closed).
func (srv *Server) WaitClosed(ctx context.Context) error {
	if _, err := srv.accept.Await(ctx); err != nil && !srv.accept.Cancelled() {
		return err
	}
	return srv.idle.Wait(ctx)
}
