// Package edge lets aionet's transports watch a descriptor edge-triggered on
// an aio loop, without a method on aio.Loop that users of asyncio's
// add_reader (level-triggered) would mistake for it, mark the events its
// tasks wait on as I/O for observers, and keep work for a pass's ends.
// It owns these function variables, set by package aio when it is
// initialised, and nothing else.
package edge

// AddReader watches fd for reading on loop (an *aio.Loop) as Loop.AddReader
// does, but edge-triggered where the poller has it (epoll): fn runs when fd
// becomes readable and must read until a short read or EAGAIN, or come back
// to fd by itself. A writer added to fd meanwhile is edge-triggered too, until
// fd is no longer watched at all.
var AddReader func(loop any, fd uintptr, fn func()) error

// MarkIO marks ev (an *aio.Event) as the wait for a descriptor, so that
// observers of the tasks waiting on it say they wait for I/O.
var MarkIO func(ev any)

// Batch returns the batch slot of loop (an *aio.Loop). A Batcher put there
// runs its PassStart at the start of every pass, before the pass's tasks
// and callbacks run, and its PassEnd before the loop looks for I/O to wait
// for it, sleeps, moves a virtual clock or stops, and once more when the
// loop closes, after its tasks are unwound and before its OnClose
// callbacks. A pass after which tasks are ready is followed at once by a
// poll that does not wait and the next pass's start, without PassEnd.
// aionet's transports make there the reads that the last poll found ready
// and the sends of the pass before, in one system call.
var Batch func(loop any) *Batcher

// A Batcher is work kept for the start and the end of a loop's pass.
type Batcher interface {
	PassStart()
	PassEnd()
}
