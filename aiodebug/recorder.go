package aiodebug

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aio-go/aio"
)

// Recorder records the steps of the tasks of the loops it is given to (with
// its Option), and writes them as a timeline: Chrome trace-event JSON, which
// Perfetto and chrome://tracing open, or a self-contained SVG picture in the
// spirit of the lecture's async-vs-sync diagram, with a row per task (or per
// group of tasks of the same name, past MaxRows), what each waited for
// between its steps, and how it ended. It keeps the last MaxSpans steps. It
// is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	start time.Time
	spans []Span
	first int // index of the oldest span once the ring is full
}

// MaxSpans is how many steps a Recorder keeps: the latest.
const MaxSpans = 200_000

// MaxRows is how many rows the SVG draws before it groups the tasks by name
// (digits aside: "worker 3" and "worker 17" are "worker #").
const MaxRows = 40

// Span is one step of a task on the timeline.
type Span struct {
	Loop, Task, Parent uint64
	Name               string
	Start, End         time.Duration // since the first step recorded
	Finished           bool          // the task's last step
	Failed, Cancelled  bool          // how it ended, when Finished
	Wait               string        // what it waited for next (aio.Step.Wait)
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
func (r *Recorder) TaskStep(st aio.Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.start.IsZero() {
		r.start = st.Start
	}
	sp := Span{Loop: st.Loop, Task: st.Task, Parent: st.Parent, Name: st.Name,
		Start: st.Start.Sub(r.start), End: st.End.Sub(r.start), Finished: st.Done,
		Failed: st.Done && st.Err != nil && !st.Cancelled, Cancelled: st.Cancelled, Wait: st.Wait}
	if len(r.spans) < MaxSpans {
		r.spans = append(r.spans, sp)
		return
	}
	r.spans[r.first] = sp
	r.first = (r.first + 1) % MaxSpans
}

// Spans returns the steps recorded, oldest first.
func (r *Recorder) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(append([]Span(nil), r.spans[r.first:]...), r.spans[:r.first]...)
}

// row is a task's line on the timeline, or a group's.
type row struct {
	loop, task  uint64
	name        string
	first, end  time.Duration
	spans       []Span
	tasks       int // in a group: how many
	failed, cxl int
	members     []*row
}

func (r *Recorder) rows() []*row {
	byTask := map[[2]uint64]*row{}
	var rows []*row
	for _, s := range r.Spans() {
		k := [2]uint64{s.Loop, s.Task}
		rw := byTask[k]
		if rw == nil {
			rw = &row{loop: s.Loop, task: s.Task, name: s.Name, first: s.Start, tasks: 1}
			byTask[k] = rw
			rows = append(rows, rw)
		}
		rw.spans = append(rw.spans, s)
		rw.end = max(rw.end, s.End)
		if s.Finished && s.Failed {
			rw.failed++
		}
		if s.Finished && s.Cancelled {
			rw.cxl++
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].first < rows[j].first })
	return rows
}

var digits = regexp.MustCompile(`[0-9]+`)

// grouped returns rows as they are if they are few, or else one row per
// name (digits aside), the largest groups first after the first MaxRows-1,
// and the rest in one.
func grouped(rows []*row) []*row {
	if len(rows) <= MaxRows {
		return rows
	}
	byName := map[string]*row{}
	var groups []*row
	for _, rw := range rows {
		key := digits.ReplaceAllString(rw.name, "#")
		g := byName[key]
		if g == nil {
			g = &row{name: key, first: rw.first}
			byName[key] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, rw)
		g.tasks++
		g.failed += rw.failed
		g.cxl += rw.cxl
		g.end = max(g.end, rw.end)
	}
	if len(groups) > MaxRows {
		sort.SliceStable(groups, func(i, j int) bool { return groups[i].tasks > groups[j].tasks })
		rest := &row{name: "others", first: groups[MaxRows-1].first}
		for _, g := range groups[MaxRows-1:] {
			rest.members = append(rest.members, g.members...)
			rest.tasks += g.tasks
			rest.failed += g.failed
			rest.cxl += g.cxl
			rest.first, rest.end = min(rest.first, g.first), max(rest.end, g.end)
		}
		groups = append(groups[:MaxRows-1], rest)
		sort.SliceStable(groups, func(i, j int) bool { return groups[i].first < groups[j].first })
	}
	for i, g := range groups {
		if len(g.members) == 1 { // a task alone under its name keeps its own row
			groups[i] = g.members[0]
		}
	}
	return groups
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
			args := map[string]any{"finished": s.Finished}
			switch {
			case s.Failed:
				args["ended"] = "failed"
			case s.Cancelled:
				args["ended"] = "cancelled"
			case !s.Finished:
				args["then waits for"] = s.Wait
			}
			events = append(events, event{Name: "step", Cat: "aio", Ph: "X", Ts: us(s.Start),
				Dur: us(s.End - s.Start), Pid: s.Loop, Tid: s.Task, Args: args})
		}
	}
	return json.NewEncoder(w).Encode(map[string]any{"traceEvents": events, "displayTimeUnit": "ms"})
}

// waitColors are the colours of what a task waits for, on its line between
// two steps; the legend lists them in this order.
var waitColors = []struct{ what, color string }{
	{"sleep", "#9ab"}, {"I/O", "#2a9d8f"}, {"lock, event, semaphore…", "#e9a23b"},
	{"queue", "#9b5de5"}, {"task(s)", "#3a6ea5"}, {"thread", "#a0522d"}, {"other", "#ccc"},
}

func waitColor(wait string) string {
	switch {
	case wait == "sleep":
		return waitColors[0].color
	case wait == "I/O":
		return waitColors[1].color
	case wait == "lock" || wait == "event" || wait == "condition" || wait == "semaphore" || wait == "barrier":
		return waitColors[2].color
	case wait == "queue":
		return waitColors[3].color
	case wait == "tasks" || strings.HasPrefix(wait, "task "):
		return waitColors[4].color
	case wait == "thread":
		return waitColors[5].color
	}
	return waitColors[6].color
}

const stepColor, failColor, cancelColor = "#2a7", "#d62828", "#f77f00"

// WriteSVG writes the timeline as an SVG picture: a time axis, a legend, and
// a row per task — its steps as green marks, its waits between them as a
// line coloured by what it waited for, a red cross where it failed and an
// orange bar where it was cancelled. Past MaxRows tasks, tasks of the same
// name (digits aside) share a row that shows how many of them were alive
// (light) and running (green) at each moment, and how many failed or were
// cancelled.
func (r *Recorder) WriteSVG(w io.Writer) error {
	all := r.rows()
	rows := grouped(all)
	var total time.Duration
	for _, rw := range all {
		total = max(total, rw.end)
	}
	if total <= 0 {
		total = time.Millisecond
	}
	const label, width, rowH, top = 200, 820, 24, 74
	height := top + rowH*len(rows) + 36
	x := func(d time.Duration) float64 { return label + float64(width)*float64(d)/float64(total) }
	b := &strings.Builder{}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", label+width+70, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := fmt.Sprintf("aio timeline: %d tasks", len(all))
	if len(rows) < len(all) {
		title += fmt.Sprintf(", grouped by name in %d rows", len(rows))
	}
	fmt.Fprintf(b, `<text x="4" y="16" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	// The legend.
	lx := 4.0
	legend := func(mark, text string) {
		fmt.Fprintf(b, `<g class="legend">%s<text x="%.0f" y="36">%s</text></g>`, mark, lx+16, html.EscapeString(text))
		lx += 22 + 6.5*float64(len(text))
	}
	legend(fmt.Sprintf(`<rect x="%.0f" y="27" width="12" height="12" fill="%s"/>`, lx, stepColor), "running")
	for _, c := range waitColors {
		legend(fmt.Sprintf(`<line x1="%.0f" y1="33" x2="%.0f" y2="33" stroke="%s" stroke-width="4"/>`, lx, lx+12, c.color), "waits: "+c.what)
	}
	legend(fmt.Sprintf(`<text x="%.0f" y="38" fill="%s" font-weight="bold">✕</text>`, lx+1, failColor), "failed")
	legend(fmt.Sprintf(`<rect x="%.0f" y="27" width="4" height="12" fill="%s"/>`, lx+4, cancelColor), "cancelled")
	// The time axis, above the rows and below them.
	ticks := niceTicks(total)
	for _, d := range ticks {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`, x(d), top-8, x(d), top+rowH*len(rows))
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`, x(d), top-12, d)
	}
	fmt.Fprintln(b)
	for i, rw := range rows {
		y := top + rowH*i
		mid := y + rowH/2
		name := rw.name
		if rw.members != nil {
			name = fmt.Sprintf("%s ×%d", rw.name, rw.tasks)
		}
		fmt.Fprintf(b, `<g class="task"><text x="4" y="%d">%s</text>`, mid+4, html.EscapeString(name))
		if rw.members != nil {
			drawGroup(b, rw, x, y, rowH, total)
		} else {
			drawTask(b, rw, x, mid, rowH)
		}
		fmt.Fprintln(b, `</g>`)
	}
	axis := top + rowH*len(rows) + 6
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", label, axis, label+width, axis)
	for _, d := range ticks {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(d), axis+16, d)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawTask draws one task's row.
func drawTask(b *strings.Builder, rw *row, x func(time.Duration) float64, mid, rowH int) {
	for i, s := range rw.spans {
		if i+1 < len(rw.spans) { // the wait until the next step
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="3"><title>%s</title></line>`,
				x(s.End), mid, x(rw.spans[i+1].Start), mid, waitColor(s.Wait), html.EscapeString(s.Wait))
		} else if !s.Finished && s.Wait != "" { // still waiting when the recording ends
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="3" stroke-dasharray="4 3"/>`,
				x(s.End), mid, x(s.End)+12, mid, waitColor(s.Wait))
		}
		wd := max(x(s.End)-x(s.Start), 2)
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`, x(s.Start)-1, mid-rowH/2+5, wd, rowH-10, stepColor)
		switch {
		case s.Failed:
			fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s" font-weight="bold" font-size="14">✕</text>`, x(s.End)+2, mid+5, failColor)
		case s.Cancelled:
			fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="4" height="%d" fill="%s"/>`, x(s.End)+2, mid-rowH/2+4, rowH-8, cancelColor)
		}
	}
}

// drawGroup draws a group's row: in each of its columns, how many of its
// tasks were alive (light band, full height for all of them) and how many
// ran a step (green), then its failures and cancellations.
func drawGroup(b *strings.Builder, g *row, x func(time.Duration) float64, y, rowH int, total time.Duration) {
	const cols = 205 // 4 px each
	var alive, ran [cols]int
	col := func(d time.Duration) int { return min(int(float64(cols)*float64(d)/float64(total)), cols-1) }
	for _, rw := range g.members {
		for c := col(rw.first); c <= col(rw.end); c++ {
			alive[c]++
		}
		seen := -1
		for _, s := range rw.spans {
			for c := max(col(s.Start), seen+1); c <= col(s.End); c++ {
				ran[c]++
				seen = c
			}
		}
	}
	h := float64(rowH - 6)
	colW := (x(total) - x(0)) / cols
	for c := range cols {
		if alive[c] == 0 {
			continue
		}
		ah := h * float64(alive[c]) / float64(g.tasks)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#cde"/>`, x(0)+colW*float64(c), float64(y+3)+h-ah, colW, ah)
		if ran[c] > 0 {
			rh := max(h*float64(ran[c])/float64(g.tasks), 2)
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x(0)+colW*float64(c), float64(y+3)+h-rh, colW, rh, stepColor)
		}
	}
	right := x(total) + 4
	if g.failed > 0 {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s" font-weight="bold">✕%d</text>`, right, y+rowH/2+4, failColor, g.failed)
		right += 34
	}
	if g.cxl > 0 {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s" font-weight="bold">▮%d</text>`, right, y+rowH/2+4, cancelColor, g.cxl)
	}
}

// niceTicks returns the instants from 0 to total at a round step (1, 2 or 5
// times a power of ten) that makes at most 11 of them.
func niceTicks(total time.Duration) []time.Duration {
	step := niceStep(total)
	var ticks []time.Duration
	for d := time.Duration(0); d <= total; d += step {
		ticks = append(ticks, d)
	}
	return ticks
}

func niceStep(total time.Duration) time.Duration {
	for p := time.Duration(1); ; p *= 10 {
		for _, m := range []time.Duration{1, 2, 5} {
			if total/(m*p) <= 10 {
				return m * p
			}
		}
	}
}
