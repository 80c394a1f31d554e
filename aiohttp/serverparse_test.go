package aiohttp

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// FuzzSimpleRequest checks the fast path against net/http's parser: every
// request parseSimpleRequest takes, ReadRequest parses into the same Request.
func FuzzSimpleRequest(f *testing.F) {
	for _, seed := range []string{
		"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
		"GET /a?b=c&d=%20 HTTP/1.0\r\nConnection: keep-alive\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 0\r\n\r\nGET",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
		"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET //x HTTP/1.1\r\nuser-agent:  wrk \t\r\nACCEPT: */*\r\n\r\n",
		"GET / HTTP/1.1\r\nX_Y: z\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\n\r\n",
		"GET /a/b;c=d@e:f?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /?  HTTP/1.1\r\n\r\n",
		"GET /p? HTTP/1.1\r\n\r\n",
		"GET /%41b!*'() HTTP/1.1\r\n\r\n",
		"GET /%41 HTTP/1.1\r\n\r\n",
		"GET /a!b HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nPragma: no-cache\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, n, ok := parseSimpleRequest(raw, 1<<20, nil)
		if !ok {
			return
		}
		br := bufio.NewReader(bytes.NewReader(raw))
		std, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("the fast path took %q, net/http refuses it: %v", raw, err)
		}
		if used := len(raw) - br.Buffered(); len(raw) <= 4096 && used != n {
			t.Fatalf("%q: the fast path took %d bytes, net/http %d", raw, n, used)
		}
		type view struct {
			Method, RequestURI, Proto, Host string
			URL                             url.URL
			Major, Minor                    int
			Header                          http.Header
			ContentLength                   int64
			Close                           bool
			TE                              []string
			Body                            bool
		}
		see := func(r *http.Request) view {
			h := r.Header
			if len(h) == 0 {
				h = nil
			}
			return view{r.Method, r.RequestURI, r.Proto, r.Host, *r.URL, r.ProtoMajor, r.ProtoMinor,
				h, r.ContentLength, r.Close, r.TransferEncoding, r.Body == http.NoBody}
		}
		if a, b := see(fast), see(std); !reflect.DeepEqual(a, b) {
			t.Fatalf("%q:\nfast     %+v\nnet/http %+v", raw, a, b)
		}
		// The same request again on a connection: the same Request, from
		// the strings of the first.
		last := ""
		parseSimpleRequest(raw, 1<<20, &last)
		again, n2, ok := parseSimpleRequest(raw, 1<<20, &last)
		if !ok || n2 != n || !reflect.DeepEqual(see(again), see(fast)) {
			t.Fatalf("%q: parsed again after itself: ok %v, %d bytes (%d), %+v", raw, ok, n2, n, see(again))
		}
	})
}

// TestHeadEnd: where a head ends and how many header lines it has, or -1
// for what parseSimpleRequest leaves to net/http.
func TestHeadEnd(t *testing.T) {
	for _, tc := range []struct {
		in         string
		end, lines int
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 23, 1},
		{"GET / HTTP/1.1\r\n\r\n", 14, 0},
		{"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\nGET / HTTP/1.1\r\n\r\n", 26, 2},
		{"GET / HTTP/1.1\r\nHost: x\r\n", -1, 0},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r", -1, 0},
		{"GET / HTTP/1.1\nHost: x\r\n\r\n", -1, 0},
		{"GET / HTTP/1.1\r\nHost: x\n\r\n", -1, 0},
		{"\r\nGET / HTTP/1.1\r\n\r\n", -1, 0},
		{"", -1, 0},
	} {
		end, lines := headEnd([]byte(tc.in))
		if end != tc.end || end >= 0 && lines != tc.lines {
			t.Errorf("headEnd(%q) = %d, %d; want %d, %d", tc.in, end, lines, tc.end, tc.lines)
		}
	}
}
