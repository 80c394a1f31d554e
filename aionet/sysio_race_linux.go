//go:build race

package aionet

import (
	"runtime"
	"unsafe"
)

// The race detector's view of the buffers sysRead and sysWrite hand the kernel.
const raceEnabled = true

func raceReadRange(p unsafe.Pointer, n int)  { runtime.RaceReadRange(p, n) }
func raceWriteRange(p unsafe.Pointer, n int) { runtime.RaceWriteRange(p, n) }
