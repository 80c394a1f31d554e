// Package aio is Python's asyncio for Go: an event loop that runs tasks, one
// at a time, on one goroutine, with futures, timers, cancellation and the
// high-level API built on them (Gather, TaskGroup, Timeout, WaitFor, Shield,
// Wait, AsCompleted).
//
// A task is a stackful coroutine (the runtime's coroutine switch behind
// iter.Pull). It gives the loop back only when it awaits, and it may await
// from any depth of ordinary function calls: there are no async functions,
// only functions that take a context. One loop runs one task at a time, so
// state shared only by the tasks of one loop needs no mutex; many loops may
// run in parallel.
//
//	err := aio.Run(context.Background(), func(ctx context.Context) error {
//		results, err := aio.Gather(ctx, fetch("a"), fetch("b")) // func(ctx) (T, error) each
//		...
//	})
//
// # What this package owns
//
// The loop (ready queue, timer heap, clock, the wait in the system's poller,
// readiness callbacks, signal handlers, thread-safe submission), tasks and
// their coroutines, futures, cancellation, the functions that combine them,
// the synchronisation primitives and queues, and the hooks debugging tools
// read (Snapshot, WithObserver). It opens no socket and speaks no protocol:
// aionet builds connections on AddReader and AddWriter, and clients of HTTP or
// MongoDB build on aionet.
//
// # Rules of use
//
//   - Every function that may suspend takes the task's context first and
//     finds its loop and task through it. Called where no task of a running
//     loop is running, it returns ErrNoTask; on a closed loop, ErrClosed.
//   - Objects of a loop (tasks, futures, handles, locks, queues) belong to the
//     loop's goroutine: use them from its tasks and callbacks. Other goroutines
//     hand work in with Loop.CallSoonThreadsafe or Submit. The loop checks
//     the caller always: awaiting or spawning from another goroutine returns
//     ErrWrongGoroutine, and the methods that take no context (SetResult,
//     Cancel, Set, Unlock, Release, CallSoon…) have their call made on the
//     loop instead, as CallSoonThreadsafe would (their boolean result then
//     says only that the loop took the call); reading an object's state
//     (Done, Len, IsSet) from another goroutine is a data race.
//   - Never block a task on something the loop does not know about: a mutex
//     held across an Await, a channel receive, time.Sleep, a blocking system
//     call. The whole loop waits with it.
//   - Cancellation is delivered at Awaits. It is level-triggered: once a
//     task's context is cancelled, every Await made with it fails at once with
//     the cause (a *CancelledError, or context.DeadlineExceeded for a timeout),
//     which matches context.Canceled or context.DeadlineExceeded under
//     errors.Is. Cleanup that must still await (asyncio's finally block)
//     uses Cleanup(ctx): it outlives the cancellation being handled, not the
//     next one.
//   - Awaiting a task never cancels it. Cancellation flows down the context
//     tree: a task spawned with a context is cancelled with it.
//
// # Time
//
// Timers run on the loop's Clock. With a VirtualClock, time jumps to the next
// timer whenever every task waits, so tests of sleeps and timeouts take no
// real time and give the same result on every run.
package aio
