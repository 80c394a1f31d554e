// Package aiodebug shows what the tasks of every aio loop are doing: a tree
// of tasks (who spawned whom, who awaits whom, where each one waits), as text
// or JSON, on demand, on a signal, or from an http.Handler a service mounts
// (Python 3.14's `asyncio pstree`), which serves browsers a live dashboard
// with each loop's metrics and stalls; and a Recorder that draws the
// timeline of the tasks' steps and waits. It reads aio.Snapshot, Metrics,
// Stalls and the Observer hook, and owns only the presentation; it must not
// reach into the loop.
package aiodebug

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/aio-go/aio"
)

// Timeout is how long a dump waits for a loop to describe itself.
const Timeout = time.Second

// Write writes the tree of every task of every loop as text.
func Write(ctx context.Context, w io.Writer) error {
	for _, l := range aio.Snapshot(ctx, Timeout) {
		mode := ""
		if l.Debug {
			mode = " (debug mode)"
		}
		if _, err := fmt.Fprintf(w, "loop %d%s\n", l.ID, mode); err != nil {
			return err
		}
		if l.Blocked {
			fmt.Fprintf(w, "└── (the loop did not answer within %v: %s is holding it without awaiting)\n", Timeout, l.BlockedBy)
			for _, line := range strings.Split(l.BlockedStack, "\n") {
				fmt.Fprintf(w, "        %s\n", line)
			}
		}
		for i, t := range l.Tasks {
			writeTask(w, t, "", i == len(l.Tasks)-1)
		}
	}
	return nil
}

func writeTask(w io.Writer, t *aio.TaskInfo, prefix string, last bool) {
	branch, next := "├── ", "│   "
	if last {
		branch, next = "└── ", "    "
	}
	var parts []string
	parts = append(parts, t.State)
	if t.Awaits != "" {
		parts = append(parts, "awaits "+t.Awaits)
	}
	if t.At != "" {
		parts = append(parts, "at "+t.At)
	}
	parts = append(parts, fmt.Sprintf("%d steps", t.Steps))
	if t.CreatedAt != "" {
		parts = append(parts, "created at "+t.CreatedAt, "age "+t.Age.Round(time.Millisecond).String(),
			"ran "+t.Running.Round(time.Microsecond).String())
	}
	fmt.Fprintf(w, "%s%s%s [%s]\n", prefix, branch, t.Name, strings.Join(parts, ", "))
	for i, c := range t.Children {
		writeTask(w, c, prefix+next, i == len(t.Children)-1)
	}
}

// WriteJSON writes the snapshot of every loop as JSON.
func WriteJSON(ctx context.Context, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(aio.Snapshot(ctx, Timeout))
}

// OnSignal writes the dump to w each time the process receives sig (SIGUSR1,
// say), until stop is called.
func OnSignal(sig os.Signal, w io.Writer) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, sig)
	go func() {
		for {
			select {
			case <-ch:
				Write(context.Background(), w)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
