package aiodebug_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiodebug"
)

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
