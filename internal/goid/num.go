package goid

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Num returns the number runtime.Stack prints for the goroutine whose
// descriptor is g (a value G returned, of a goroutine still alive), or 0 when
// it cannot tell on this build. Any goroutine may call it.
func Num(g uintptr) uint64 {
	if g == 0 || !numeric {
		return uint64(g)
	}
	numOnce.Do(calibrate)
	if numOff < 0 {
		return 0
	}
	return num(g, uintptr(numOff))
}

var (
	numOnce sync.Once
	numOff  = -1 // offset of the number in the descriptor; -1 unknown
)

// calibrate finds where the runtime keeps a goroutine's number in its
// descriptor: the one offset that holds the number runtime.Stack prints in
// the descriptors of this goroutine and of three others. One goroutine is not
// enough: a small number (2, say) is also found in other fields (a status).
func calibrate() {
	found := func() map[int]bool {
		offs := map[int]bool{}
		me, g := stackNum(), G()
		if me == 0 {
			return offs
		}
		for off := 0; off < 512; off += 8 {
			if num(g, uintptr(off)) == me {
				offs[off] = true
			}
		}
		return offs
	}
	common := found()
	for range 3 {
		other := make(chan map[int]bool)
		go func() { other <- found() }()
		theirs := <-other
		for off := range common {
			if !theirs[off] {
				delete(common, off)
			}
		}
	}
	if len(common) == 1 {
		for off := range common {
			numOff = off
		}
	}
}

// stackNum returns the calling goroutine's number, read from its stack trace.
func stackNum() uint64 {
	var buf [64]byte
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf[:], false)]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, _ := strconv.ParseUint(s, 10, 64)
	return id
}
