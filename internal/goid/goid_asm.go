//go:build amd64 || arm64

package goid

// G returns the address of the calling goroutine's descriptor: unique among
// the goroutines alive, and reused only after one ends. It costs a register
// read.
func G() uintptr

// numeric: G is a descriptor's address, whose number num can read.
const numeric = true

// num loads the word at p+off: p is a live goroutine's descriptor.
func num(p, off uintptr) uint64
