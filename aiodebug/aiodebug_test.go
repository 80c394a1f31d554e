package aiodebug_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiodebug"
)

var update = flag.Bool("update", false, "rewrite testdata/tree.golden")

// scene makes a loop with a known shape: a server task with two children, one
// of which awaits the other, and a worker waiting on an event.
func scene(ctx context.Context) (stop func()) {
	var ev aio.Event
	child := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) }, aio.WithName("sleeper"))
	aio.Go(ctx, func(ctx context.Context) error {
		aio.Go(ctx, func(ctx context.Context) error { return ev.Wait(ctx) }, aio.WithName("listener"))
		_, err := child.Await(ctx)
		return err
	}, aio.WithName("server"))
	return func() { ev.Set(); child.Cancel() }
}

var lineNumbers = regexp.MustCompile(`\.go:\d+`)

func TestTreeGolden(t *testing.T) {
	var buf bytes.Buffer
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		stop := scene(ctx)
		defer stop()
		aio.Yield(ctx)
		aio.Yield(ctx)
		return aiodebug.Write(ctx, &buf)
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})), aio.WithDebug(false, 0))
	if err != nil {
		t.Fatal(err)
	}
	// Loop numbers depend on the tests run before: keep the tree.
	got := regexp.MustCompile(`(?m)^loop \d+`).ReplaceAll(buf.Bytes(), []byte("loop N"))
	got = lineNumbers.ReplaceAll(got, []byte(".go:N"))
	got = regexp.MustCompile(`/\S*/aiodebug/`).ReplaceAll(got, []byte(".../aiodebug/"))
	if *update {
		os.WriteFile("testdata/tree.golden", got, 0o644)
	}
	want, _ := os.ReadFile("testdata/tree.golden")
	if !bytes.Equal(got, want) {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
}

func TestHandlerAndDebugFields(t *testing.T) {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		stop := scene(ctx)
		defer stop()
		aio.Yield(ctx)
		aio.Yield(ctx)
		// The handler is called from another goroutine, as a server would.
		body := make(chan string, 2)
		go func() {
			for _, q := range []string{"", "?format=json"} {
				rec := httptest.NewRecorder()
				aiodebug.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/aio"+q, nil))
				body <- rec.Body.String()
			}
		}()
		text, _, err := aio.Recv(ctx, body)
		if err != nil {
			return err
		}
		jsonText, _, err := aio.Recv(ctx, body)
		if err != nil {
			return err
		}
		for _, want := range []string{"sleeper [waiting", "awaits sleeper", "listener [waiting", "created at", "aiodebug_test.go", ", age ", ", ran "} {
			if !strings.Contains(text, want) {
				t.Errorf("text dump lacks %q:\n%s", want, text)
			}
		}
		var loops []aio.LoopInfo
		if err := json.Unmarshal([]byte(jsonText), &loops); err != nil || len(loops) == 0 {
			t.Fatalf("JSON dump: %v\n%s", err, jsonText)
		}
		found := false
		for _, l := range loops {
			for _, task := range l.Tasks {
				if task.Name == "main" && len(task.Children) == 2 {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("JSON tree without main and its two children:\n%s", jsonText)
		}
		return nil
	}, aio.WithDebug(true, 0))
	if err != nil {
		t.Fatal(err)
	}
}

// TestBlockedLoopInJSON: a loop held by a task that does not await is
// reported as blocked, with its debug mode, and not as a task named after the
// message (the JSON put the sentence in a task's Name, and said Debug false
// under debug mode).
func TestBlockedLoopInJSON(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- aio.Run(context.Background(), func(ctx context.Context) error {
			close(started)
			<-release // blocks the loop: what the dump must report
			return nil
		}, aio.WithDebug(true, time.Hour), aio.WithInterrupt(false))
	}()
	<-started
	rec := httptest.NewRecorder()
	aiodebug.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/?format=json", nil))
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var loops []aio.LoopInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &loops); err != nil {
		t.Fatalf("%v: %s", err, rec.Body.String())
	}
	found := false
	for _, l := range loops {
		if l.Blocked {
			found = true
			if !l.Debug || len(l.Tasks) != 0 || l.BlockedBy != "main" || !strings.Contains(l.BlockedStack, "aiodebug_test.TestBlockedLoopInJSON") {
				t.Errorf("blocked loop reported as %+v; want Debug true, no made-up task, main blocking in the test", l)
			}
		}
	}
	if !found {
		t.Errorf("no loop reported blocked: %s", rec.Body.String())
	}
}
