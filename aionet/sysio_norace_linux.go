//go:build !race

package aionet

import "unsafe"

const raceEnabled = false

func raceReadRange(unsafe.Pointer, int)  {}
func raceWriteRange(unsafe.Pointer, int) {}
