// Package edge lets aionet's transports watch a descriptor edge-triggered on
// an aio loop, without a method on aio.Loop that users of asyncio's
// add_reader (level-triggered) would mistake for it, mark the events its
// tasks wait on as I/O for observers, and keep work for the end of a pass.
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

// PassEnd returns the pass-end slot of loop (an *aio.Loop). A hook put there
// runs at the end of every pass, after the pass's tasks and callbacks and
// before the loop polls or sleeps, and once more when the loop closes, after
// its tasks are unwound and before its OnClose callbacks: aionet's
// transports keep there the sends they gather in a pass.
var PassEnd func(loop any) *PassEnder

// A PassEnder is work kept for the end of a loop's pass.
type PassEnder interface{ PassEnd() }
