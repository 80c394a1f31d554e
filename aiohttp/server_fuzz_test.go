package aiohttp_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiotest"
)

// FuzzServer feeds arbitrary bytes to a server as a request stream: whatever
// comes, the server answers or closes, within its timeouts, and leaves no
// task, goroutine or descriptor behind.
func FuzzServer(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /flush HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.0\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
		"GET http://other/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n X: folded\r\n\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(fuzzServer)
}

func fuzzServer(t *testing.T, raw []byte) {
	{
		sock := filepath.Join(t.TempDir(), "s") // no TCP: no TIME_WAIT to run out of ports
		aiotest.Run(t, func(ctx context.Context) error {
			mux := http.NewServeMux()
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.Method+" "+r.URL.String())
			})
			mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-N")
				n, _ := io.Copy(w, r.Body)
				w.Header().Set("X-N", string(rune('0'+n%10)))
			})
			mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "a")
				w.(http.Flusher).Flush()
				io.WriteString(w, "b")
			})
			srv := &aiohttp.Server{Handler: mux, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxHeaderBytes: 4096}
			ln, err := aionet.Listen(ctx, "unix", sock)
			if err != nil {
				return err
			}
			aio.Go(ctx, func(ctx context.Context) error { srv.Serve(ctx, ln); return nil })
			defer stopServer(ctx, srv)
			s, err := aionet.Dial(ctx, "unix", sock)
			if err != nil {
				return err
			}
			s.Write(raw)
			defer s.Close()
			s.CloseWrite()
			readAll(ctx, s)
			return nil
		})
	}
}
