//go:build unix

package aiodebug_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiodebug"
)

// chanWriter hands each write to a channel.
type chanWriter chan string

func (c chanWriter) Write(p []byte) (int, error) { c <- string(p); return len(p), nil }

func TestOnSignal(t *testing.T) {
	out := make(chanWriter, 100)
	stop := aiodebug.OnSignal(syscall.SIGUSR2, out)
	defer stop()
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) }, aio.WithName("napper"))
		syscall.Kill(os.Getpid(), syscall.SIGUSR2)
		var dump strings.Builder
		for !strings.Contains(dump.String(), "napper") {
			s, _, err := aio.Recv(ctx, (chan string)(out))
			if err != nil {
				return err
			}
			dump.WriteString(s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
