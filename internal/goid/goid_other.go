//go:build !amd64 && !arm64

package goid

// G returns the calling goroutine's number, read from its stack trace: the
// slow way, where there is no register read for it.
func G() uintptr { return uintptr(stackNum()) }

// numeric: G is a descriptor's address, whose number num can read.
const numeric = false

func num(p, off uintptr) uint64 { return 0 }
