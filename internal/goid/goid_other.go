//go:build !amd64 && !arm64

package goid

import (
	"runtime"
	"strconv"
	"strings"
)

// G returns the calling goroutine's number, read from its stack trace: the
// slow way, where there is no register read for it.
func G() uintptr {
	var buf [64]byte
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf[:], false)]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, _ := strconv.ParseUint(s, 10, 64)
	return uintptr(id)
}
