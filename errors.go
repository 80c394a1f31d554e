package aio

import (
	"context"
	"errors"
	"fmt"
)

// Errors a caller may branch on with [errors.Is].
var (
	// ErrClosed is returned by operations on a loop that is closed or closing.
	ErrClosed = errors.New("aio: loop is closed")
	// ErrRunning is returned by RunForever, RunUntilComplete and Close when the
	// loop is already running.
	ErrRunning = errors.New("aio: loop is already running")
	// ErrStopped is returned by RunUntilComplete when Stop ended the loop before
	// the awaited future completed.
	ErrStopped = errors.New("aio: loop stopped before the future completed")
	// ErrNoTask is returned when an awaiting function is called where no task of
	// a running loop is running: on another goroutine, in a loop callback, or
	// with a context that does not come from a loop.
	ErrNoTask = errors.New("aio: not called from a running task (the context must come from a task of a running loop)")
	// ErrNotDone is returned by Result when the future is still pending
	// (asyncio's InvalidStateError).
	ErrNotDone = errors.New("aio: result is not ready")
	// ErrGoexit is the error of a task whose function called runtime.Goexit
	// (for instance t.FailNow in a test). The goroutine running the loop then
	// exits too, after the loop is closed, as iter.Pull propagates Goexit.
	ErrGoexit = errors.New("aio: task called runtime.Goexit")

	// ErrOtherLoop is returned when an object that belongs to one loop (a
	// future, a lock, a queue) is awaited from a task of another.
	ErrOtherLoop = errors.New("aio: used from a loop it does not belong to")

	errAwaitSelf = errors.New("aio: a task cannot await itself")

	// ErrWrongGoroutine is returned when a task's context is used to await
	// from a goroutine that is not running that task while its loop runs (a
	// goroutine the task started, a ToThread function holding it, a
	// goroutine-based library's callback). It matches ErrNoTask under
	// [errors.Is].
	ErrWrongGoroutine error = wrongGoroutine{}
)

type wrongGoroutine struct{}

func (wrongGoroutine) Error() string {
	return "aio: loop used from a goroutine that is not its own (go through Loop.CallSoonThreadsafe or Submit)"
}

func (wrongGoroutine) Unwrap() error { return ErrNoTask }

// CancelledError is the cause of a cancellation requested with [Task.Cancel]
// or [Task.CancelWithMessage] (asyncio's CancelledError). It matches
// [context.Canceled] under [errors.Is], so code written for contexts keeps
// working. An Await interrupted by the cancellation returns it.
type CancelledError struct {
	// Msg is the message given to CancelWithMessage, or empty.
	Msg string
}

// Error reports the cancellation and its message, if any.
func (e *CancelledError) Error() string {
	if e.Msg == "" {
		return "aio: cancelled"
	}
	return "aio: cancelled: " + e.Msg
}

// Is reports whether target is context.Canceled.
func (e *CancelledError) Is(target error) bool { return target == context.Canceled }

// PanicError is the error of a task whose function panicked. The panic does
// not reach the loop; it becomes the task's error, with the stack of the
// panicking goroutine.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the stack of the task at the panic, as debug.Stack prints it
}

// Error reports the panic's value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("aio: task panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// isCancellation reports whether err means "cancelled" rather than "failed".
func isCancellation(err error) bool {
	return err != nil && errors.Is(err, context.Canceled)
}
