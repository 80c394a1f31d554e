// Package edge lets aionet's transports watch a descriptor edge-triggered on
// an aio loop, without a method on aio.Loop that users of asyncio's
// add_reader (level-triggered) would mistake for it, and mark the events its
// tasks wait on as I/O for observers. It owns these function variables, set
// by package aio when it is initialised, and nothing else.
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
