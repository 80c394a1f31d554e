package aio

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// WithThreads sets how many functions ToThread runs at once on the loop's
// pool of goroutines; more wait their turn in FIFO order. The default, as
// asyncio's default executor, is min(32, GOMAXPROCS+4); n <= 0 keeps it.
func WithThreads(n int) Option {
	return func(l *Loop) { l.threads.max = max(n, 0) }
}

// threadPool runs ToThread's functions on goroutines, at most max at once.
// Its queue belongs to the loop's goroutine.
type threadPool struct {
	max     int
	running int
	queue   []func()
	cancels map[*threadJob]struct{}

	// The goroutines that run the functions, ToThread's and ToGoroutine's:
	// one waits for the next function a while after it ran one, so that a
	// stream of calls reuses a few goroutines whose stacks have grown to what
	// the functions need, rather than starting (and growing) one per call.
	work chan func() // to an idle goroutine; unbuffered
	quit chan struct{}
	wg   sync.WaitGroup
}

// goroutineIdle is how long a goroutine of the pool waits for another
// function before it ends.
const goroutineIdle = 10 * time.Second

// start runs fn on an idle goroutine of the pool, or a new one.
func (p *threadPool) start(fn func()) {
	if p.work == nil {
		p.work, p.quit = make(chan func()), make(chan struct{})
	}
	select {
	case p.work <- fn:
	default:
		p.wg.Add(1)
		go p.goroutine(fn)
	}
}

func (p *threadPool) goroutine(fn func()) {
	defer p.wg.Done()
	idle := time.NewTimer(goroutineIdle)
	defer idle.Stop()
	for {
		fn()
		idle.Reset(goroutineIdle)
		select {
		case fn = <-p.work:
		case <-idle.C:
			return
		case <-p.quit:
			return
		}
	}
}

type threadJob struct {
	cancel context.CancelCauseFunc
	pooled bool // counts against the pool's limit (ToThread's; not ToGoroutine's)
}

func (p *threadPool) limit() int {
	if p.max == 0 {
		p.max = min(32, runtime.GOMAXPROCS(0)+4)
	}
	return p.max
}

// ToThread runs fn on another goroutine, from the loop's bounded pool, and
// suspends the current task until fn returns (asyncio.to_thread): the loop
// goes on serving its other tasks meanwhile, so fn may block. fn's context
// carries ctx's values; it is cancelled when the Await is (ToThread then
// returns the cause at once, and fn's result is dropped when it comes) or when
// the loop closes. A panic in fn becomes a *PanicError. A virtual clock does
// not move while fn runs.
func ToThread[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	return offload(ctx, fn, true)
}

// ToGoroutine runs fn on a goroutine of its own, outside the loop's pool, and
// suspends the current task until fn returns, as ToThread does in every
// other way. It is for calls into goroutine-based libraries that bound their
// own concurrency (a database driver's connection pool, net/http's
// Transport): as many run at once as tasks call it, and the library decides
// how many proceed, where ToThread's pool would hold all but a few back.
func ToGoroutine[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	return offload(ctx, fn, false)
}

func offload[T any](ctx context.Context, fn func(ctx context.Context) (T, error), pooled bool) (T, error) {
	var zero T
	t, _, err := enter(ctx)
	if err != nil {
		return zero, err
	}
	l := t.loop
	f := &Future[T]{fut: fut{loop: l, kind: futThread}}
	jctx, cancel := context.WithCancelCause(offLoop{context.WithoutCancel(ctx)})
	job := &threadJob{cancel: cancel, pooled: pooled}
	l.runThread(job, func() {
		v, err := callRecovered(jctx, fn)
		cancel(nil)
		delivered := l.CallSoonThreadsafe(func() {
			l.threadDone(job)
			if f.state == futPending {
				f.value = v
				f.complete(err)
				f.markRetrieved() // the task, or nobody, reads it
			}
		})
		_ = delivered // a closed loop drops the result: nobody waits for it
	})
	v, err := f.Await(ctx)
	if err != nil && f.state == futPending {
		cancel(err)
		f.complete(err) // drop the late result
		f.markRetrieved()
		return zero, err
	}
	return v, err
}

// offLoop is the context of a function running off the loop (ToThread's):
// it carries the task's values but not its place on the loop, so that the
// loop's functions called with it (Spawn, Put, Sleep) answer ErrNoTask
// instead of touching the loop from another goroutine.
type offLoop struct{ context.Context }

func (c offLoop) Value(key any) any {
	if key == nodeKey {
		return nil
	}
	return c.Context.Value(key)
}

// callRecovered calls fn, turning a panic into a *PanicError.
func callRecovered[T any](ctx context.Context, fn func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn(ctx)
}

// runThread starts run on a goroutine if the pool has room, or queues it.
func (l *Loop) runThread(job *threadJob, run func()) {
	p := &l.threads
	if p.cancels == nil {
		p.cancels = make(map[*threadJob]struct{})
	}
	p.cancels[job] = struct{}{}
	l.inflight.Add(1)
	if !job.pooled {
		p.start(run)
		return
	}
	if p.running < p.limit() {
		p.running++
		p.start(run)
		return
	}
	p.queue = append(p.queue, run)
	l.counters.queued.Store(int64(len(p.queue)))
}

// threadDone runs on the loop when a job's function has returned.
func (l *Loop) threadDone(job *threadJob) {
	p := &l.threads
	delete(p.cancels, job)
	l.inflight.Add(-1)
	if !job.pooled {
		return
	}
	p.running--
	if len(p.queue) > 0 && !l.closing {
		run := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		l.counters.queued.Store(int64(len(p.queue)))
		p.running++
		p.start(run)
	}
}

// closeThreads cancels the functions running on the pool, drops the queued
// ones and waits for the goroutines to end (asyncio's
// shutdown_default_executor). A function that ignores its context delays
// Close until it returns.
func (l *Loop) closeThreads() {
	p := &l.threads
	for job := range p.cancels {
		job.cancel(ErrClosed)
	}
	p.queue = nil
	l.counters.queued.Store(0)
	if p.quit != nil {
		close(p.quit)
	}
	p.wg.Wait()
}
