//go:build !race

package aionet_test

import (
	"bytes"
	"context"
	"testing"
)

// TestEchoAllocatesNothing checks the steady state of a stream connection:
// a round trip through a server task on the same loop (writes, drains, reads,
// the loop parking on the poller and waking) allocates nothing.
func TestEchoAllocatesNothing(t *testing.T) {
	run(t, func(ctx context.Context) error {
		s, _, done, err := serveAndDial(ctx, echo)
		if err != nil {
			return err
		}
		defer done()
		msg := bytes.Repeat([]byte("x"), 1024)
		buf := make([]byte, len(msg))
		var failed error
		roundTrip := func() {
			if _, err := s.Write(msg); err != nil {
				failed = err
				return
			}
			for got := 0; got < len(buf); {
				n, err := s.Read(ctx, buf[got:])
				if err != nil {
					failed = err
					return
				}
				got += n
			}
		}
		roundTrip() // warm up: buffers grow to their size
		if allocs := testing.AllocsPerRun(1000, roundTrip); allocs != 0 {
			t.Errorf("a round trip allocates %v times, want 0", allocs)
		}
		return failed
	})
}
