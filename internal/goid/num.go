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
// descriptor: the one offset that holds the number runtime.Stack prints, in
// this goroutine's descriptor and in another's.
func calibrate() {
	found := func() []int {
		var offs []int
		me, g := stackNum(), G()
		if me == 0 {
			return nil
		}
		for off := 0; off < 512; off += 8 {
			if num(g, uintptr(off)) == me {
				offs = append(offs, off)
			}
		}
		return offs
	}
	mine := found()
	if len(mine) != 1 {
		return
	}
	other := make(chan []int)
	go func() { other <- found() }()
	if theirs := <-other; len(theirs) == 1 && theirs[0] == mine[0] {
		numOff = mine[0]
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
