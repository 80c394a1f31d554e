package aio

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
)

// ErrNestedRun is returned by Run when it is called from a task of a running
// loop, which it would block; await the function instead.
var ErrNestedRun = errors.New("aio: Run called from a running task")

// Run runs main as the first task of a new loop and returns its error
// (asyncio.run). When main returns, the tasks still pending are cancelled and
// Run waits for their cleanup; errors they return other than the cancellation
// go to the loop's exception handler. Then the loop is closed.
//
// main's context derives from ctx: cancelling ctx cancels main. An interrupt
// (Ctrl-C, SIGINT) or a request to terminate (SIGTERM, what docker and
// Kubernetes send) while Run runs cancels main too, with the message
// "interrupt" or "terminated", and lets its cleanup run (a server shuts down
// gracefully); a second one stops the program as usual (asyncio.run's
// handling). WithInterrupt(false) leaves both signals alone.
func Run(ctx context.Context, main func(ctx context.Context) error, opts ...Option) error {
	if n := nodeOf(ctx); n != nil && n.loop.running && n.loop.current != nil {
		return ErrNestedRun
	}
	l := NewLoop(opts...)
	defer l.Close()
	return l.run(ctx, main)
}

// RunOn runs main as a task on loop l, driving l from the calling goroutine
// until the task is done, and returns main's error (asyncio's
// loop.run_until_complete of a coroutine): Run for a loop you keep. A value
// comes back through main's closure. Tasks main started and did not await
// are left on the loop, as asyncio leaves them; run the loop again, or Close
// it, which cancels them. For a future or a task already on l, use
// Loop.RunUntilComplete.
func RunOn(l *Loop, main func(ctx context.Context) error) error {
	if l == nil {
		return errors.New("aio: RunOn with a nil loop")
	}
	t := Go(l.Context(), main)
	if err := l.RunUntilComplete(t); err != nil {
		return err
	}
	return t.Err()
}

// run is Run on loop l.
func (l *Loop) run(ctx context.Context, main func(ctx context.Context) error) error {
	t := newTask(func(ctx context.Context) (struct{}, error) { return struct{}{}, main(ctx) })
	l.start(&t.task, ctx, nodeOf(ctx), []TaskOption{WithName("main")})
	if !l.noInterrupt {
		defer cancelOnInterrupt(l, t)()
	}
	if err := l.RunUntilComplete(t); err != nil {
		return err
	}
	if err := l.cancelAll(); err != nil {
		return err
	}
	_, err := t.Result()
	return err
}

// cancelAll cancels every task of the loop and runs the loop until they are
// done, reporting the errors they end with other than their cancellation
// (asyncio.run's shutdown). A task that keeps awaiting after its
// cancellation is unwound after maxAwaitsAfterClose Awaits and reported with
// ErrIgnoredCancellation, so that Run ends.
func (l *Loop) cancelAll() error {
	var tasks []*task
	for t := l.tasks; t != nil; t = t.nextAll {
		tasks = append(tasks, t)
	}
	for _, t := range tasks {
		t.body.Cancel()
	}
	l.draining = true
	defer func() { l.draining = false }()
	for _, t := range tasks {
		if err := l.RunUntilComplete(t.body); err != nil {
			return err
		}
		if err := t.body.Err(); err != nil && !isCancellation(err) {
			l.reportException(ExceptionContext{
				Message: "unhandled error during aio.Run() shutdown", Err: err, Task: t.Name(),
			})
		}
	}
	return nil
}

// WithInterrupt sets whether Run turns an interrupt (SIGINT) or a request to
// terminate (SIGTERM, what docker and Kubernetes send) into the cancellation
// of main; it does by default.
func WithInterrupt(on bool) Option { return func(l *Loop) { l.noInterrupt = !on } }

// cancelOnInterrupt cancels t at the first SIGINT or SIGTERM, with the
// signal's name as the message, then lets the next one act as it would
// have. The returned function stops listening.
func cancelOnInterrupt(l *Loop, t *Task[struct{}]) (stop func()) {
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sig:
			signal.Stop(sig) // the next one stops the program
			l.CallSoonThreadsafe(func() { t.CancelWithMessage(s.String()) })
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
	}
}

// RunLoops runs n loops in parallel, each on a goroutine of its own, so that
// one process uses every core (n <= 0: GOMAXPROCS loops). Each loop runs main
// as Run does, with i its index and loops all of them: a task hands work to
// another loop with Submit(loops[j], fn). Loops that serve one port listen on
// it with SO_REUSEPORT (aionet.ListenConfig{ReusePort: true}) and the kernel
// spreads the connections. The first main to fail cancels the others;
// RunLoops returns once every loop has ended, with their errors joined.
func RunLoops(ctx context.Context, n int, main func(ctx context.Context, loops []*Loop, i int) error, opts ...Option) error {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	loops := make([]*Loop, n)
	for i := range loops {
		loops[i] = NewLoop(opts...)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer l.Close()
			errs[i] = l.run(ctx, func(ctx context.Context) error { return main(ctx, loops, i) })
			if errs[i] != nil && !isCancellation(errs[i]) {
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Cause(ctx)) {
			failed = append(failed, err)
		}
	}
	if c := context.Cause(ctx); c != nil {
		failed = append([]error{c}, failed...)
	}
	return errors.Join(failed...)
}
