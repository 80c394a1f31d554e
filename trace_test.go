package aio_test

import (
	"bytes"
	"context"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
)

func TestExecutionTrace(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("a trace is already recording")
	}
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		tk := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Millisecond) }, aio.WithName("traced-task"))
		_, err := tk.Await(ctx)
		return err
	})
	trace.Stop()
	if err != nil {
		t.Fatal(err)
	}
	// The trace is binary; names of tasks and regions appear in it as strings.
	for _, want := range []string{"aio.Task traced-task", "aio.Task main", "aio.step"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the execution trace does not name %q", want)
		}
	}
}
