//go:build !race

package aiohttp

import (
	"testing"
	"unsafe"
)

// TestSimpleRequestSharesRepeatedHead checks that a request repeated on a
// connection reuses the text of the one before: one allocation fewer, and
// its strings point into the same bytes. A different request takes its own.
func TestSimpleRequestSharesRepeatedHead(t *testing.T) {
	raw := []byte("GET /plaintext HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n")
	other := []byte("GET /json HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n")
	fresh := testing.AllocsPerRun(100, func() { parseSimpleRequest(raw, 1<<20, nil) })
	last := ""
	first, _, _ := parseSimpleRequest(raw, 1<<20, &last)
	shared := testing.AllocsPerRun(100, func() { parseSimpleRequest(raw, 1<<20, &last) })
	if shared != fresh-1 {
		t.Errorf("allocations per repeated request: %v, want %v (one fewer than a fresh one's)", shared, fresh-1)
	}
	again, _, _ := parseSimpleRequest(raw, 1<<20, &last)
	if unsafe.StringData(again.Method) != unsafe.StringData(first.Method) || again.Header["Accept"][0] != "*/*" {
		t.Errorf("the repeated request does not share the first one's text")
	}
	o, _, _ := parseSimpleRequest(other, 1<<20, &last)
	if o.URL.Path != "/json" || last != string(other[:len(other)-2]) {
		t.Errorf("another request: path %q, last %q", o.URL.Path, last)
	}
	long := []byte("GET / HTTP/1.1\r\nX-Long: " + string(make([]byte, maxLastHead)) + "\r\n\r\n")
	for i := range long[25 : 25+maxLastHead] {
		long[25+i] = 'a'
	}
	parseSimpleRequest(long, 1<<20, &last)
	if last != string(other[:len(other)-2]) {
		t.Errorf("a head longer than maxLastHead was kept (%d bytes)", len(last))
	}
}
