// Command echo-server is a TCP echo server on aio streams, for the peer kit
// (../shared/bench-peers): it listens on 127.0.0.1:PORT and sends back what
// it reads.
//
//	echo-server PORT                # one loop, aio streams (a task per connection)
//	echo-server -protocol PORT      # one loop, a Protocol (no task per connection)
//	echo-server -loops N PORT       # N loops sharing the port with SO_REUSEPORT
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

func main() {
	protocol := flag.Bool("protocol", false, "serve with a Protocol instead of streams")
	loops := flag.Int("loops", 1, "number of loops, sharing the port (0: one per CPU)")
	watchdog := flag.Bool("watchdog", true, "run the blocked-loop watchdog (on by default, as in aio)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: echo-server [-protocol] [-loops N] [-watchdog=false] PORT")
		os.Exit(2)
	}
	addr := "127.0.0.1:" + flag.Arg(0)
	n := *loops
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	var opts []aio.Option
	if !*watchdog {
		opts = append(opts, aio.WithWatchdog(-1))
	}
	err := aio.RunLoops(context.Background(), n, func(ctx context.Context, _ []*aio.Loop, _ int) error {
		return serve(ctx, addr, *protocol, n > 1)
	}, opts...)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "echo-server:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, addr string, protocol, reusePort bool) error {
	ln, err := aionet.ListenConfig{ReusePort: reusePort}.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if !protocol {
		// Serve until interrupted (asyncio's serve_forever).
		return aionet.Serve(ctx, ln, echo).WaitClosed(ctx)
	}
	if err := ln.ServeProtocol(func() aionet.Protocol { return &echoProtocol{} }); err != nil {
		return err
	}
	return aio.Sleep(ctx, math.MaxInt64) // serve until interrupted
}

func echo(ctx context.Context, s *aionet.Stream) error {
	buf := make([]byte, 256<<10) // as the Go peer
	for {
		n, err := s.Read(ctx, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := s.Write(buf[:n]); err != nil {
			return err
		}
		if err := s.Drain(ctx); err != nil {
			return err
		}
	}
}

// echoProtocol is the callback version: no task, no stack per connection.
type echoProtocol struct{ t aionet.Transport }

func (p *echoProtocol) ConnectionMade(t aionet.Transport) { p.t = t }
func (p *echoProtocol) DataReceived(data []byte)          { p.t.Write(data) }
func (p *echoProtocol) EOFReceived() bool                 { return false }
func (p *echoProtocol) ConnectionLost(error)              {}
