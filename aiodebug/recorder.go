package aiodebug

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/aio-go/aio"
)

// Recorder records the steps of the tasks of the loops it is given to (with
// its Option), and writes them as a timeline: Chrome trace-event JSON, which
// Perfetto and chrome://tracing open, or a self-contained SVG picture with one
// row per task, in the spirit of the lecture's async-vs-sync diagram. It is
// safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	start time.Time
	spans []Span
}

// Span is one step of a task on the timeline.
type Span struct {
	Loop, Task uint64
	Name       string
	Start, End time.Duration // since the first step recorded
	Finished   bool          // the task's last step
}

// NewRecorder returns an empty recorder. The dashboard (Handler) shows the
// timeline of the last one made.
func NewRecorder() *Recorder {
	r := &Recorder{}
	recordersMu.Lock()
	recorder = r
	recordersMu.Unlock()
	return r
}

// Option makes a loop report to the recorder (aio.WithObserver).
func (r *Recorder) Option() aio.Option { return aio.WithObserver(r) }

// TaskStep records a step (aio.Observer).
func (r *Recorder) TaskStep(loop, task uint64, name string, start, end time.Time, finished bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.start.IsZero() {
		r.start = start
	}
	r.spans = append(r.spans, Span{Loop: loop, Task: task, Name: name,
		Start: start.Sub(r.start), End: end.Sub(r.start), Finished: finished})
}

// Spans returns the steps recorded so far.
func (r *Recorder) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// row is a task's line on the timeline.
type row struct {
	loop, task uint64
	name       string
	first, end time.Duration
	spans      []Span
}

func (r *Recorder) rows() []*row {
	byTask := map[[2]uint64]*row{}
	var rows []*row
	for _, s := range r.Spans() {
		k := [2]uint64{s.Loop, s.Task}
		rw := byTask[k]
		if rw == nil {
			rw = &row{loop: s.Loop, task: s.Task, name: s.Name, first: s.Start}
			byTask[k] = rw
			rows = append(rows, rw)
		}
		rw.spans = append(rw.spans, s)
		rw.end = max(rw.end, s.End)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].first < rows[j].first })
	return rows
}

// WriteChromeTrace writes the timeline as Chrome trace-event JSON: a process
// per loop, a thread per task, a complete event per step.
func (r *Recorder) WriteChromeTrace(w io.Writer) error {
	type event struct {
		Name string         `json:"name"`
		Cat  string         `json:"cat,omitempty"`
		Ph   string         `json:"ph"`
		Ts   float64        `json:"ts"`
		Dur  float64        `json:"dur,omitempty"`
		Pid  uint64         `json:"pid"`
		Tid  uint64         `json:"tid"`
		Args map[string]any `json:"args,omitempty"`
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	var events []event
	for _, rw := range r.rows() {
		events = append(events, event{Name: "thread_name", Ph: "M", Pid: rw.loop, Tid: rw.task,
			Args: map[string]any{"name": rw.name}})
		for _, s := range rw.spans {
			events = append(events, event{Name: "step", Cat: "aio", Ph: "X", Ts: us(s.Start),
				Dur: us(s.End - s.Start), Pid: s.Loop, Tid: s.Task, Args: map[string]any{"finished": s.Finished}})
		}
	}
	return json.NewEncoder(w).Encode(map[string]any{"traceEvents": events, "displayTimeUnit": "ms"})
}

// WriteSVG writes the timeline as an SVG picture: a row per task, its life as
// a thin line from its first step to its last, and its steps as marks.
func (r *Recorder) WriteSVG(w io.Writer) error {
	rows := r.rows()
	var total time.Duration
	for _, rw := range rows {
		total = max(total, rw.end)
	}
	if total <= 0 {
		total = time.Millisecond
	}
	const label, width, rowH, top = 160, 640, 28, 30
	height := top + rowH*len(rows) + 30
	x := func(d time.Duration) float64 { return label + float64(width)*float64(d)/float64(total) }
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", label+width+20, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="18" font-weight="bold">aio timeline: one row per task, marks where it ran</text>`+"\n", label)
	for i, rw := range rows {
		y := top + rowH*i
		fmt.Fprintf(w, `<g class="task"><text x="4" y="%d">%s</text>`, y+rowH/2+4, html.EscapeString(rw.name))
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#9bb" stroke-width="2"/>`,
			x(rw.first), y+rowH/2, x(rw.end), y+rowH/2)
		for _, s := range rw.spans {
			wd := max(x(s.End)-x(s.Start), 3)
			fmt.Fprintf(w, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#2a7"/>`, x(s.Start)-1, y+6, wd, rowH-12)
		}
		fmt.Fprintln(w, `</g>`)
	}
	axis := top + rowH*len(rows) + 10
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", label, axis, label+width, axis)
	for i := 0; i <= 4; i++ {
		d := total * time.Duration(i) / 4
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(d), axis+15, d.Round(time.Millisecond))
	}
	_, err := fmt.Fprintln(w, `</svg>`)
	return err
}
