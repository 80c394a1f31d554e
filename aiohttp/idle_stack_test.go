//go:build !race

package aiohttp_test

import (
	"bytes"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestIdleConnectionStack: a keep-alive connection that has served a
// request keeps its task's stack, grown to the deepest point of the
// request's path, for as long as it stays open; the path fits in 4 KiB, so
// that an idle connection costs a 4 KiB stack, not 8 (a 640-byte array in
// one frame of the response's path once doubled it). The collector is off
// while it measures, so that no stack is shrunk back meanwhile.
func TestIdleConnectionStack(t *testing.T) {
	const conns = 200
	mux := http.NewServeMux() // the path of most servers' requests
	mux.HandleFunc("GET /plaintext", plaintext)
	addr, stop := serveOnLoop(mux)
	defer stop()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	buf := make([]byte, 4096)
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		for n := 0; !bytes.HasSuffix(buf[:n], []byte("Hello, World!")); {
			m, err := c.Read(buf[n:])
			if err != nil {
				t.Fatal(err)
			}
			n += m
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.StackInuse - before.StackInuse) / conns; per > 6<<10 {
		t.Errorf("%d bytes of stack per idle connection; want 4 KiB", per)
	}
}
