package aiodebug_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiodebug"
)

var svgOut = flag.String("svg", "", "write the 1,000-task timeline there, to look at it")

func recordFactorials(t *testing.T) *aiodebug.Recorder {
	t.Helper()
	rec := aiodebug.NewRecorder()
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		fact := func(name string, n int) *aio.Task[int] {
			return aio.Spawn(ctx, func(ctx context.Context) (int, error) {
				r := 1
				for i := 2; i <= n; i++ {
					if err := aio.Sleep(ctx, time.Second); err != nil {
						return 0, err
					}
					r *= i
				}
				return r, nil
			}, aio.WithName(name))
		}
		_, _, err := aio.Wait(ctx, aio.AllCompleted, 0, fact("A", 2), fact("B", 3), fact("C", 4))
		return err
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})), rec.Option())
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestChromeTrace(t *testing.T) {
	var buf bytes.Buffer
	if err := recordFactorials(t).WriteChromeTrace(&buf); err != nil {
		t.Fatal(err)
	}
	var trace struct {
		TraceEvents []struct {
			Name string         `json:"name"`
			Ph   string         `json:"ph"`
			Ts   float64        `json:"ts"`
			Tid  uint64         `json:"tid"`
			Args map[string]any `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &trace); err != nil {
		t.Fatal(err)
	}
	names := map[uint64]string{}
	steps := map[string][]float64{}
	for _, e := range trace.TraceEvents {
		switch e.Ph {
		case "M":
			names[e.Tid] = e.Args["name"].(string)
		case "X":
			steps[names[e.Tid]] = append(steps[names[e.Tid]], e.Ts)
		}
	}
	// C computes 4! with three sleeps of 1 s: four steps, at 0, 1, 2 and 3 s.
	if got := steps["C"]; len(got) != 4 || got[3] != 3e6 {
		t.Errorf("steps of C at %v µs", got)
	}
	if len(steps["A"]) != 2 || len(steps["B"]) != 3 || len(steps["main"]) == 0 {
		t.Errorf("steps: %v", steps)
	}
}

func TestSVGOneRowPerTask(t *testing.T) {
	var buf bytes.Buffer
	if err := recordFactorials(t).WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	if n := strings.Count(svg, `<g class="task">`); n != 4 {
		t.Errorf("%d rows; want 4 (main, A, B, C)", n)
	}
	for _, name := range []string{">main<", ">A<", ">B<", ">C<", "</svg>"} {
		if !strings.Contains(svg, name) {
			t.Errorf("the SVG lacks %q", name)
		}
	}
}

// TestSVGScales: a run of 1,000 tasks draws in a bounded picture, grouped by
// name, with the legend, the time axis, and the failures and cancellations
// counted; a small run draws each task's waits in their colours.
func TestSVGScales(t *testing.T) {
	rec := aiodebug.NewRecorder()
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		var mu aio.Lock
		jobs := aio.NewQueue[int](0)
		return aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for i := range 1000 {
				tg.Go(func(ctx context.Context) error {
					switch i % 100 {
					case 0:
						return nil // see below: the failures are counted, not returned to the group
					case 1:
						t := aio.Go(ctx, func(ctx context.Context) error { return aio.Sleep(ctx, time.Hour) }, aio.WithName("doomed"))
						aio.Sleep(ctx, time.Second)
						t.Cancel()
						t.Await(ctx)
						return nil
					}
					if err := aio.Sleep(ctx, time.Duration(i%37)*100*time.Millisecond); err != nil {
						return err
					}
					if err := mu.Lock(ctx); err != nil {
						return err
					}
					aio.Sleep(ctx, time.Millisecond)
					mu.Unlock()
					if i%10 == 0 {
						return jobs.Put(ctx, i)
					}
					return nil
				}, aio.WithName(fmt.Sprintf("fetch %d", i)))
			}
			tg.Go(func(ctx context.Context) error {
				for range 90 {
					if _, err := jobs.Get(ctx); err != nil {
						return err
					}
				}
				return nil
			}, aio.WithName("consumer"))
			for i := range 5 {
				aio.Go(ctx, func(ctx context.Context) error { return errors.New("broken") }, aio.WithName(fmt.Sprintf("broken %d", i)))
			}
			return nil
		})
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})), rec.Option(), aio.WithExceptionHandler(func(aio.ExceptionContext) {}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rec.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	var doc struct {
		Height int `xml:"height,attr"`
		Width  int `xml:"width,attr"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if doc.Height > 1400 || doc.Width > 1100 {
		t.Errorf("%d×%d px for 1,000 tasks; want it bounded", doc.Width, doc.Height)
	}
	for _, want := range []string{"1017 tasks, grouped by name", "fetch # ×1000", "doomed ×10", "broken # ×5", ">consumer<",
		"waits: sleep", "waits: lock, event, semaphore…", "waits: queue", ">failed<", ">cancelled<", "✕5", "▮10", ">3s<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	if n := strings.Count(svg, `<g class="task">`); n > aiodebug.MaxRows {
		t.Errorf("%d rows; want at most %d", n, aiodebug.MaxRows)
	}
	if *svgOut != "" {
		os.WriteFile(*svgOut, buf.Bytes(), 0o644)
	}

	buf.Reset()
	if err := recordFactorials(t).WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `stroke="#9ab" stroke-width="3"><title>sleep</title>`); n != 6 { // A 1, B 2, C 3 sleeps
		t.Errorf("%d sleeps drawn; want 6", n)
	}
}

// TestYieldEndsAStep: a task that yields is drawn as steps with nothing to
// wait for between them.
func TestYieldEndsAStep(t *testing.T) {
	rec := aiodebug.NewRecorder()
	aio.Run(context.Background(), func(ctx context.Context) error {
		_, err := aio.Go(ctx, func(ctx context.Context) error {
			for range 3 {
				if err := aio.Yield(ctx); err != nil {
					return err
				}
			}
			return nil
		}, aio.WithName("yielder")).Await(ctx)
		return err
	}, rec.Option())
	n := 0
	for _, s := range rec.Spans() {
		if s.Name == "yielder" {
			n++
			if !s.Finished && s.Wait != "" {
				t.Errorf("a yield's step waits for %q; want nothing", s.Wait)
			}
		}
	}
	if n != 4 {
		t.Errorf("%d steps of a task that yields 3 times; want 4", n)
	}
}
