// Command http-server is the HTTP server of the peer kit
// (../shared/bench-peers/http) on aio: TechEmpower's plaintext and json tests
// served by aiohttp.Server from one loop, or from N loops sharing the port.
//
//	http-server PORT              # one loop, GOMAXPROCS=1 as the kit's Go peers
//	http-server -loops N PORT     # N loops with SO_REUSEPORT (0: one per CPU)
//
// It listens on 127.0.0.1 only. GET /plaintext answers "Hello, World!",
// GET /json {"message":"Hello, World!"} serialised per request; both with
// Server and Date headers, kept alive.
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

func main() {
	loops := flag.Int("loops", 1, "number of loops, sharing the port (0: one per CPU)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: http-server [-loops N] PORT")
		os.Exit(2)
	}
	if *loops == 1 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	addr := "127.0.0.1:" + flag.Arg(0)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", plaintext)
	mux.HandleFunc("GET /json", jsonHandler)
	srv := &aiohttp.Server{Handler: mux}
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
