//go:build linux

package aionet_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

func TestRunLoopsSharePort(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	const n = 4
	var accepted [n]atomic.Int32
	var listening sync.WaitGroup
	listening.Add(n)
	ready := make(chan struct{})
	go func() { listening.Wait(); close(ready) }()
	done := make(chan struct{})
	errBoom := errors.New("boom")
	err = aio.RunLoops(context.Background(), n, func(ctx context.Context, loops []*aio.Loop, i int) error {
		ln, err := aionet.ListenConfig{ReusePort: true}.Listen(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer ln.Close()
		aionet.Serve(ctx, ln, func(ctx context.Context, s *aionet.Stream) error {
			accepted[i].Add(1)
			return echo(ctx, s)
		})
		listening.Done()
		if i != 0 {
			_, _, err := aio.Recv(ctx, done) // serve until loop 0 is done
			return err
		}
		defer close(done)
		if _, _, err := aio.Recv(ctx, ready); err != nil {
			return err
		}
		for c := range 200 {
			s, err := aionet.Dial(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			msg := fmt.Sprintf("conn %d\n", c)
			s.Write([]byte(msg))
			if line, err := s.ReadLine(ctx); err != nil || string(line) != msg {
				return fmt.Errorf("echo %q: %q %v", msg, line, err)
			}
			s.Close()
		}
		// Hand work to another loop, and wait for its result.
		v, err := aio.Submit(loops[1], func(ctx context.Context) (string, error) {
			return "done on loop 1", aio.Yield(ctx)
		}).Await(ctx)
		if v != "done on loop 1" || err != nil {
			return fmt.Errorf("hand-off: %q %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	busy := 0
	for i := range n {
		if accepted[i].Load() > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Errorf("connections went to %d of %d loops", busy, n)
	}
	// The first failure cancels the other loops and comes back.
	err = aio.RunLoops(context.Background(), 3, func(ctx context.Context, loops []*aio.Loop, i int) error {
		if i == 2 {
			return errBoom
		}
		_, _, err := aio.Recv(ctx, make(chan int))
		return err
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("RunLoops with a failing loop = %v", err)
	}
}
