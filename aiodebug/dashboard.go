package aiodebug

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/aio-go/aio"
)

//go:embed dashboard.html
var dashboardPage []byte

// Handler returns an http.Handler that shows every loop of the process.
// Mount it where a service keeps its debug pages; a browser gets a live
// dashboard (an HTML page with nothing to build and nothing fetched from
// elsewhere) with each loop's metrics and a graph of its ready queue, tasks
// and scheduling lag, its task tree, the watchdog's stalls and the timeline
// of the last Recorder made. Other clients get the dump as text; ?format=
// asks for one: text, json (the Snapshot), live (what the page reads: the
// Snapshot with each loop's Metrics and Stalls), or svg (the timeline).
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		if format == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
			format = "html"
		}
		switch format {
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'")
			w.Write(dashboardPage)
		case "json":
			w.Header().Set("Content-Type", "application/json")
			WriteJSON(r.Context(), w)
		case "live":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			json.NewEncoder(w).Encode(live(r))
		case "svg":
			rec := lastRecorder()
			if rec == nil {
				http.Error(w, "no recorder: aiodebug.NewRecorder().Option() records a loop's timeline", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Header().Set("Cache-Control", "no-store")
			rec.WriteSVG(w)
		case "", "text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			Write(r.Context(), w)
		default:
			http.Error(w, "unknown format "+format+": text, json, live, svg or html", http.StatusBadRequest)
		}
	})
}

// liveLoop is a loop as the dashboard shows it.
type liveLoop struct {
	aio.LoopInfo
	Metrics aio.Metrics
	Stalls  []aio.Stall
}

// live is what the dashboard page reads.
func live(r *http.Request) any {
	byID := map[uint64]*aio.Loop{}
	for _, l := range aio.Loops() {
		byID[l.ID()] = l
	}
	loops := []liveLoop{}
	for _, info := range aio.Snapshot(r.Context(), Timeout) {
		ll := liveLoop{LoopInfo: info}
		if l := byID[info.ID]; l != nil {
			ll.Metrics, ll.Stalls = l.Metrics(), l.Stalls()
		}
		loops = append(loops, ll)
	}
	return struct {
		Loops    []liveLoop `json:"loops"`
		Timeline bool       `json:"timeline"`
	}{loops, lastRecorder() != nil}
}

// The last Recorder made, whose timeline the dashboard shows.
var (
	recordersMu sync.Mutex
	recorder    *Recorder
)

func lastRecorder() *Recorder {
	recordersMu.Lock()
	defer recordersMu.Unlock()
	return recorder
}
