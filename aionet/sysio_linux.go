package aionet

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRead and sysWrite are read(2) and write(2) on a non-blocking descriptor,
// made without telling the Go scheduler: they cannot block, so the scheduler's
// bookkeeping for a system call that might (entersyscall and exitsyscall) is
// pure cost, and worse, a copy of 100 KiB outlasts the 20 µs after which the
// runtime's monitor takes the processor away from a goroutine in a system
// call. The loop then had to win a processor back from a thread started in
// its place on the same core: hundreds of hand-offs a second when echoing big
// messages, each a pair of context switches. Used only for sockets and pipes
// the transport made non-blocking. Race-detector builds tell the detector
// about the buffer, as unix.Read and unix.Write do.
func sysRead(fd int, p []byte) (int, error) {
	n, err := rawIO(unix.SYS_READ, fd, p)
	if raceEnabled && n > 0 {
		raceWriteRange(unsafe.Pointer(&p[0]), n)
	}
	return n, err
}

func sysWrite(fd int, p []byte) (int, error) {
	if raceEnabled && len(p) > 0 {
		raceReadRange(unsafe.Pointer(&p[0]), len(p))
	}
	return rawIO(unix.SYS_WRITE, fd, p)
}

// rawIO makes the system call trap (read or write) on fd and p. It calls
// syscall.RawSyscall6, a Go function, itself: x/sys/unix's RawSyscall is an
// assembly jump to it through an ABI wrapper, two more calls per request.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall6(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
