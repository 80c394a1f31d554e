//go:build unix

package aio_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestRunInterrupt(t *testing.T) {
	cleaned := false
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		go syscall.Kill(os.Getpid(), syscall.SIGINT) // Ctrl-C
		_, err := aio.NewFuture[int](ctx).Await(ctx)
		aio.Sleep(context.WithoutCancel(ctx), time.Millisecond) // cleanup still awaits
		cleaned = true
		return err
	})
	var ce *aio.CancelledError
	if !errors.As(err, &ce) || ce.Msg != "interrupt" || !cleaned {
		t.Fatalf("Run after SIGINT = %v, cleaned %v", err, cleaned)
	}
}

func TestSignalHandler(t *testing.T) {
	err, _, _ := vrun(t, func(ctx context.Context, tr *transcript) error {
		l := aio.LoopOf(ctx)
		got := aio.NewFuture[string](ctx)
		if err := l.AddSignalHandler(syscall.SIGUSR1, func() { got.SetResult("SIGUSR1 on the loop") }); err != nil {
			return err
		}
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		v, err := got.Await(ctx)
		if v != "SIGUSR1 on the loop" || err != nil {
			t.Errorf("handler: %q %v", v, err)
		}
		if !l.RemoveSignalHandler(syscall.SIGUSR1) || l.RemoveSignalHandler(syscall.SIGUSR1) {
			t.Error("RemoveSignalHandler")
		}
		l.AddSignalHandler(syscall.SIGUSR2, func() {}) // removed when the loop closes
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunTerminate: SIGTERM, what containers are stopped with, cancels main
// as SIGINT does, and its cleanup runs (it killed the process before).
func TestRunTerminate(t *testing.T) {
	cleaned := false
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		go syscall.Kill(os.Getpid(), syscall.SIGTERM)
		_, err := aio.NewFuture[int](ctx).Await(ctx)
		cleaned = true
		return err
	})
	var ce *aio.CancelledError
	if !errors.As(err, &ce) || ce.Msg != "terminated" || !cleaned {
		t.Fatalf("Run after SIGTERM = %v, cleaned %v", err, cleaned)
	}
}
