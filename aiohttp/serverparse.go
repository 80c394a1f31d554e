package aiohttp

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// parseSimpleRequest parses the request at the start of buf when it is of
// the plainest kind, the one most requests are: an origin-form target,
// HTTP/1.0 or 1.1, no body, no header folding, nothing net/http's parser
// would treat specially. It makes the Request net/http's ReadRequest would
// make of the same bytes, in one pass and with fewer allocations (one string
// holds the request line and the header, the values share one slice), and
// returns the bytes it took. Anything else, including anything malformed,
// it leaves to ReadRequest (ok false), which parses or refuses it as
// always: this is a fast path, not a second parser of record. FuzzSimpleRequest
// checks that the two agree on every request this one takes.
//
// last, if not nil, is the text of the previous request parsed with it: a
// request with the same text shares its strings (they are immutable), and
// one with another text, if no longer than maxLastHead, becomes the new
// last.
func parseSimpleRequest(buf []byte, limit int, last *string) (req *http.Request, n int, ok bool) {
	end, lines := headEnd(buf)
	if end < 0 || end+4 > limit {
		return nil, 0, false
	}
	var s string // the request line and the header lines, each with its CRLF
	if last != nil && *last == string(buf[:end+2]) {
		s = *last
	} else {
		s = string(buf[:end+2])
		if last != nil && len(s) <= maxLastHead {
			*last = s
		}
	}
	line, rest, _ := strings.Cut(s, "\r\n")
	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || !httpguts.ValidHeaderFieldName(method) || method == "CONNECT" || method == "PRI" ||
		len(target) == 0 || target[0] != '/' || !validTarget(target) {
		return nil, 0, false
	}
	var minor int
	switch proto {
	case "HTTP/1.1":
		minor = 1
	case "HTTP/1.0":
	default:
		return nil, 0, false
	}
	sr := new(simpleRequest)
	if !sr.setURL(target) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return nil, 0, false
		}
		sr.url = *u
	}
	header := make(http.Header, lines)
	values := sr.values[:]
	if lines > len(values) {
		values = make([]string, lines)
	}
	host, hosts := "", 0
	for i := 0; rest != ""; i++ {
		line, rest, _ = strings.Cut(rest, "\r\n")
		name, value, found := strings.Cut(line, ":")
		if !found || !httpguts.ValidHeaderFieldName(name) {
			return nil, 0, false // also a folded line: it starts with a space
		}
		value = trimOWS(value)
		if !httpguts.ValidHeaderFieldValue(value) {
			return nil, 0, false
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		switch key {
		case "Host":
			host, hosts = value, hosts+1
			continue
		case "Content-Length":
			if value != "0" || header[key] != nil {
				return nil, 0, false // a body, or a doubt: net/http decides
			}
		case "Transfer-Encoding", "Trailer", "Pragma":
			return nil, 0, false
		}
		values[i] = value
		if old := header[key]; old != nil {
			header[key] = append(old, value)
		} else {
			header[key] = values[i : i+1 : i+1]
		}
	}
	if hosts > 1 || host == "" && minor == 1 {
		return nil, 0, false // readRequest tells a missing Host from an empty one
	}
	req = &sr.req
	*req = http.Request{
		Method:     method,
		URL:        &sr.url,
		Proto:      proto,
		ProtoMajor: 1,
		ProtoMinor: minor,
		Header:     header,
		Body:       http.NoBody,
		Host:       host,
		RequestURI: target,
	}
	conn := header["Connection"]
	hasClose := httpguts.HeaderValuesContainsToken(conn, "close")
	if minor == 0 {
		req.Close = hasClose || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else {
		req.Close = hasClose
	}
	return req, end + 4, true
}

// headEnd finds the head at the start of buf in one pass over its lines:
// end is the index of the CRLF that ends its last line (an empty line
// follows), lines the number of header lines after the request line. It
// returns -1 for a head not complete in buf, or with a line that does not
// end in CRLF, or that starts with an empty line: net/http decides those.
func headEnd(buf []byte) (end, lines int) {
	start := 0 // of the current line
	for n := 0; ; n++ {
		j := bytes.IndexByte(buf[start:], '\n')
		if j < 1 || buf[start+j-1] != '\r' {
			return -1, 0
		}
		if j == 1 { // the empty line
			if start == 0 {
				return -1, 0
			}
			return start - 2, n - 1
		}
		start += j + 1
	}
}

// maxLastHead bounds what a connection keeps of its last request between
// requests: the line and header of a short one (an API client's, not a
// browser's with its cookies).
const maxLastHead = 256

// trimOWS trims the spaces and tabs around a header value (strings.Trim
// with a cutset, without building one).
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// simpleRequest is what parseSimpleRequest allocates, in one piece: the
// request, its URL and the values of a short header.
type simpleRequest struct {
	req    http.Request
	url    url.URL
	values [4]string
}

// setURL sets the URL of an origin-form target whose path has only bytes
// that url.URL keeps as they are (so Path is the target's path and RawPath
// is empty), as url.ParseRequestURI would; it reports false, setting
// nothing, for any other target.
func (sr *simpleRequest) setURL(target string) bool {
	path, query, hasQuery := strings.Cut(target, "?")
	for i := 0; i < len(path); i++ {
		if !plainPathByte[path[i]] {
			return false
		}
	}
	sr.url = url.URL{Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	return true
}

// plainPathByte: the bytes url.URL does not escape in a path (RFC 3986's
// unreserved and sub-delims, ':', '@', '/'), less those ParseRequestURI
// treats otherwise.
var plainPathByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "-_.~$&+,/:;=@" {
		t[c] = true
	}
	return t
}()

// validTarget reports whether a request target has only the bytes a URI may
// have: no controls, no spaces, nothing above ASCII.
func validTarget(t string) bool {
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
