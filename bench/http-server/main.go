// Command http-server is the HTTP server of the peer kit
// (../shared/bench-peers/http) on aio: TechEmpower's plaintext and json tests
// served by aiohttp.Server from one loop, or from N loops sharing the port.
//
//	http-server PORT                # one loop, GOMAXPROCS=1 as the kit's Go peers
//	http-server -loops N PORT       # N loops with SO_REUSEPORT (0: one per CPU)
//	http-server -router switch PORT # routes by a switch on the path, as the fasthttp peer does
//
// It listens on 127.0.0.1 only. GET /plaintext answers "Hello, World!",
// GET /json {"message":"Hello, World!"} serialised per request; both with
// Server and Date headers, kept alive. Routes go through http.ServeMux, as
// the kit's net/http peer's do, or, with -router switch, through a switch on
// the path, as its fasthttp peer's do (method checked, 404 and 405 answered):
// each comparison is then with the same application code.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
)

var hello = []byte("Hello, World!")

type message struct {
	Message string `json:"message"`
}

func plaintext(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Server"] = []string{"aio"}
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = []string{strconv.Itoa(len(hello))}
	w.Write(hello)
}

func jsonHandler(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(message{Message: "Hello, World!"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h["Server"] = []string{"aio"}
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.Write(b)
}

// routeSwitch is the fasthttp peer's routing: a switch on the path.
func routeSwitch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/plaintext":
		plaintext(w, r)
	case "/json":
		jsonHandler(w, r)
	default:
		http.NotFound(w, r)
	}
}

func main() {
	loops := flag.Int("loops", 1, "number of loops, sharing the port (0: one per CPU)")
	router := flag.String("router", "mux", "mux (http.ServeMux, as the net/http peer) or switch (on the path, as the fasthttp peer)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: http-server [-loops N] PORT")
		os.Exit(2)
	}
	if *loops == 1 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	addr := "127.0.0.1:" + flag.Arg(0)
	var handler http.Handler
	switch *router {
	case "mux":
		mux := http.NewServeMux()
		mux.HandleFunc("GET /plaintext", plaintext)
		mux.HandleFunc("GET /json", jsonHandler)
		handler = mux
	case "switch":
		handler = http.HandlerFunc(routeSwitch)
	default:
		fmt.Fprintf(os.Stderr, "unknown -router %q (mux or switch)\n", *router)
		os.Exit(2)
	}
	srv := &aiohttp.Server{Handler: handler}
	err := aio.RunLoops(context.Background(), *loops, func(ctx context.Context, _ []*aio.Loop, _ int) error {
		ln, err := aionet.ListenConfig{ReusePort: *loops != 1}.Listen(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return srv.Serve(ctx, ln)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
