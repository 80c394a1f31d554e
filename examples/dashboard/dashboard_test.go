package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiodebug"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var screenshot = flag.String("screenshot", "", "write the page's picture there (docs/dashboard.png)")

// TestDashboardInBrowser loads the dashboard of a running workload in
// headless Chromium: the page shows both loops, their tasks by name, a stall
// of the careless job and the timeline, and logs no error.
func TestDashboardInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("AIO_REQUIRE_BROWSER") != "" {
			t.Fatal("no chromium on the PATH, and AIO_REQUIRE_BROWSER is set")
		}
		t.Skip("no chromium on the PATH (Debian's chromium package)")
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	quiet := aio.WithExceptionHandler(func(aio.ExceptionContext) {}) // the stalls are expected
	go func() { done <- workload(ctx, 200*time.Millisecond, quiet) }()
	defer func() {
		stop()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}()
	mux := http.NewServeMux()
	mux.Handle("/debug/aio", aiodebug.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1400))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var problems []string
	err = chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			if d.Exception != nil {
				d.Text += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, d.Text))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console "+string(e.Type)+": "+strings.Join(args, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			status, _ := chromedp.Run(bctx, chromedp.Text("#status"))
			t.Fatalf("%s: %v (the page's status: %q)", what, err, status)
		}
	}
	_, err = chromedp.Run(bctx, chromedp.Navigate(srv.URL+"/debug/aio"))
	step("navigate", err)
	_, err = chromedp.Run(bctx, chromedp.WaitVisible("#timeline-body img"))
	step("timeline", err)
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.body.dataset.polls >= 4 && document.querySelectorAll("section.loop[id^=loop-]").length == 2 &&
			document.body.innerText.includes("careless job") && document.querySelectorAll("table.stalls tr").length > 1`,
		chromedp.WithPollingTimeout(30*time.Second)))
	step("two loops, the careless job and its stall", err)
	tasks, err := chromedp.Run(bctx, chromedp.Evaluate[string](`[...document.querySelectorAll("li.task > b")].map(b => b.textContent).join(",")`))
	step("tasks", err)
	stalls, err := chromedp.Run(bctx, chromedp.Evaluate[string](`[...document.querySelectorAll("table.stalls td:first-child")].map(td => td.textContent).join(",")`))
	step("stalls", err)
	status, err := chromedp.Run(bctx, chromedp.Text("#status"))
	step("status", err)
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	step("screenshot", err)
	for _, name := range []string{"main", "crawler 0.0", "crawler 1.2", "worker 0.1", "producer 1"} {
		if !strings.Contains(","+tasks+",", ","+name+",") {
			t.Errorf("task %q not on the page; tasks: %s", name, tasks)
		}
	}
	if !strings.Contains(stalls, "careless job") {
		t.Errorf("stalls: %q; want the careless job's", stalls)
	}
	if !strings.Contains(status, "2 loop(s)") {
		t.Errorf("status %q", status)
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("the page logged:\n%s", strings.Join(problems, "\n"))
	}
	mu.Unlock()
	out := *screenshot
	if out == "" {
		out = filepath.Join(t.TempDir(), "dashboard.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
