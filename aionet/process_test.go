//go:build unix

package aionet_test

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

func TestProcess(t *testing.T) {
	run(t, func(ctx context.Context) error {
		cmd := exec.Command("sh", "-c", "cat; echo oops >&2; exit 3")
		p, err := aionet.StartProcess(ctx, cmd, aionet.Stdin|aionet.Stdout|aionet.Stderr)
		if err != nil {
			return err
		}
		out, errOut, err := p.Communicate(ctx, []byte("through the pipes\n"))
		var ee *exec.ExitError
		if string(out) != "through the pipes\n" || string(errOut) != "oops\n" || !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Errorf("Communicate = %q %q %v", out, errOut, err)
		}
		// The loop serves other tasks while a child runs; a child that hangs
		// is killed by a timeout's cleanup.
		ticks := 0
		ticker := aio.Go(ctx, func(ctx context.Context) error {
			for ; ticks < 5; ticks++ {
				if err := aio.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
			}
			return nil
		})
		slow, err := aionet.StartProcess(ctx, exec.Command("sleep", "10"), aionet.Stdout)
		if err != nil {
			return err
		}
		err = aio.Timeout(ctx, 100*time.Millisecond, func(ctx context.Context) error {
			_, err := slow.Wait(ctx)
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait on a sleeping child = %v", err)
		}
		slow.Kill()
		if st, err := slow.Wait(ctx); err == nil || st.Success() {
			t.Errorf("killed child: %v %v", st, err)
		}
		ticker.Await(ctx)
		if ticks != 5 {
			t.Errorf("the loop ticked %d times while the child ran", ticks)
		}
		return nil
	})
}
