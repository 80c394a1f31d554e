// Package uring is a minimal io_uring for the loop's transports: one ring
// per loop, used from the loop's goroutine only, to hand the kernel a pass's
// worth of reads or sends in one system call instead of one call each. It owns the
// ring's memory and the system calls that drive it, and nothing else: it
// knows no transports, no loop and no buffers but the ones it is given.
package uring

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's structures and constants (include/uapi/linux/io_uring.h).
const (
	opSend = 26 // IORING_OP_SEND
	opRecv = 27 // IORING_OP_RECV

	setupClamp          = 1 << 4 // IORING_SETUP_CLAMP
	setupSubmitAll      = 1 << 7 // IORING_SETUP_SUBMIT_ALL
	setupCoopTaskrun    = 1 << 8 // IORING_SETUP_COOP_TASKRUN
	featSingleMmap      = 1 << 0 // IORING_FEAT_SINGLE_MMAP
	featNoDrop          = 1 << 1 // IORING_FEAT_NODROP
	enterGetEvents      = 1 << 0 // IORING_ENTER_GETEVENTS
	offSQRing           = 0      // IORING_OFF_SQ_RING
	offSQEs             = 0x10000000
	sqeSize             = 64
	cqeSize             = 16
	msgDontwaitNosignal = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFDIn  int32
	addr3       uint64
	_           uint64
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// ErrUnavailable is returned by New where the kernel has no io_uring, or
// refuses it (io_uring_disabled, a seccomp filter, an old kernel).
var ErrUnavailable = errors.New("uring: io_uring is not available")

// A Ring is an io_uring submission and completion queue pair.
type Ring struct {
	fd      int
	mem     []byte // the rings (one mapping)
	sqeMem  []byte
	sqHead  *uint32
	sqTail  *uint32
	sqMask  uint32
	sqArray unsafe.Pointer
	sqes    unsafe.Pointer
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	cqes    unsafe.Pointer
	entries uint32
	tail    uint32 // the next submission's index, not yet published
	pending uint32 // submissions prepared and not yet entered
}

// New sets up a ring with room for entries submissions (a power of two).
func New(entries uint32) (*Ring, error) {
	var p params
	p.flags = setupClamp | setupSubmitAll | setupCoopTaskrun
	fd, _, e := syscall.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, errors.Join(ErrUnavailable, os.NewSyscallError("io_uring_setup", e))
	}
	r := &Ring{fd: int(fd), entries: p.sqEntries}
	if p.features&featSingleMmap == 0 || p.features&featNoDrop == 0 {
		unix.Close(r.fd)
		return nil, ErrUnavailable // older than 5.5: not worth a second path
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*cqeSize)
	mem, err := unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Close(r.fd)
		return nil, errors.Join(ErrUnavailable, err)
	}
	sqeMem, err := unix.Mmap(r.fd, offSQEs, int(p.sqEntries*sqeSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Munmap(mem)
		unix.Close(r.fd)
		return nil, errors.Join(ErrUnavailable, err)
	}
	base := unsafe.Pointer(&mem[0])
	r.mem, r.sqeMem = mem, sqeMem
	r.sqHead = (*uint32)(unsafe.Add(base, p.sqOff.head))
	r.sqTail = (*uint32)(unsafe.Add(base, p.sqOff.tail))
	r.sqMask = *(*uint32)(unsafe.Add(base, p.sqOff.ringMask))
	r.sqArray = unsafe.Add(base, p.sqOff.array)
	r.sqes = unsafe.Pointer(&sqeMem[0])
	r.cqHead = (*uint32)(unsafe.Add(base, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cqOff.tail))
	r.cqMask = *(*uint32)(unsafe.Add(base, p.cqOff.ringMask))
	r.cqes = unsafe.Add(base, p.cqOff.cqes)
	r.tail = *r.sqTail
	if err := r.probe(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// probe checks what the batch relies on: RECV and SEND exist (5.6), and
// MSG_DONTWAIT makes them answer in the call, an empty socket's read with
// EAGAIN, rather than wait in the kernel (where a kernel does not, Enter
// would block the loop until the socket became readable). It submits
// without waiting and finds both answers already there, or gives up.
func (r *Ring) probe() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return errors.Join(ErrUnavailable, err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	var in, out [1]byte
	r.Recv(fds[0], in[:], 0)
	r.Send(fds[1], out[:], 1)
	atomic.StoreUint32(r.sqTail, r.tail)
	r.pending = 0
	if _, _, e := syscall.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 2, 0, 0, 0, 0); e != 0 {
		return errors.Join(ErrUnavailable, os.NewSyscallError("io_uring_enter", e))
	}
	got := map[uint64]int32{}
	head := *r.cqHead
	for tail := atomic.LoadUint32(r.cqTail); head != tail; head++ {
		c := (*cqe)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*cqeSize))
		got[c.userData] = c.res
	}
	atomic.StoreUint32(r.cqHead, head)
	if recv, ok := got[0]; !ok || recv != -int32(unix.EAGAIN) || got[1] != 1 || len(got) != 2 {
		return fmt.Errorf("%w: a MSG_DONTWAIT recv and send came back as %v (want EAGAIN and 1 at once)", ErrUnavailable, got)
	}
	return nil
}

// Pending says how many submissions are prepared and not yet entered.
func (r *Ring) Pending() int { return int(r.pending) }

// Space says how many more submissions fit before Enter.
func (r *Ring) Space() int { return int(r.entries - r.pending) }

// Send prepares a send(2) of p on the socket fd, with MSG_DONTWAIT (a full
// socket answers EAGAIN rather than a wait in the kernel) and MSG_NOSIGNAL;
// tag comes back with its completion. p must stay as it is until then. The
// caller checks Space first.
func (r *Ring) Send(fd int, p []byte, tag uint64) { r.prep(opSend, fd, p, tag) }

// Recv prepares a recv(2) into p from the socket fd, with MSG_DONTWAIT (an
// empty socket answers EAGAIN). p is the kernel's until its completion.
func (r *Ring) Recv(fd int, p []byte, tag uint64) { r.prep(opRecv, fd, p, tag) }

func (r *Ring) prep(op uint8, fd int, p []byte, tag uint64) {
	idx := r.tail & r.sqMask
	s := (*sqe)(unsafe.Add(r.sqes, uintptr(idx)*sqeSize))
	*s = sqe{opcode: op, fd: int32(fd), len: uint32(len(p)), opFlags: msgDontwaitNosignal, userData: tag}
	if len(p) > 0 {
		s.addr = uint64(uintptr(unsafe.Pointer(&p[0])))
	}
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
	r.tail++
	r.pending++
}

// Enter hands the prepared submissions to the kernel and waits until as
// many completions are ready (MSG_DONTWAIT's operations complete in the call),
// then calls done for each completion with its tag and result (a byte count,
// or a negated errno). The buffers given to Send are the kernel's until done
// has seen their tags.
func (r *Ring) Enter(done func(tag uint64, res int32)) error {
	want := r.pending // completions to come
	if want == 0 {
		return nil
	}
	atomic.StoreUint32(r.sqTail, r.tail) // publish the submissions
	r.pending = 0
	submit := want
	for want > 0 {
		n, _, e := syscall.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), uintptr(want), enterGetEvents, 0, 0)
		switch {
		case e == 0:
			submit -= uint32(n)
		case e != unix.EINTR && e != unix.EAGAIN && e != unix.EBUSY:
			return os.NewSyscallError("io_uring_enter", e)
		}
		head := *r.cqHead
		for tail := atomic.LoadUint32(r.cqTail); head != tail; head++ {
			c := (*cqe)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*cqeSize))
			tag, res := c.userData, c.res
			atomic.StoreUint32(r.cqHead, head+1)
			want--
			done(tag, res)
		}
	}
	return nil
}

// Close releases the ring.
func (r *Ring) Close() error {
	unix.Munmap(r.sqeMem)
	unix.Munmap(r.mem)
	return unix.Close(r.fd)
}
