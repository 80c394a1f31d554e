package aio

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
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
	queue   []threadRunner
	jobs    *threadJob // the jobs started and not done, linked: Close cancels them

	// The goroutines that run the functions, ToThread's and ToGoroutine's:
	// one waits for the next function a while after it ran one, so that a
	// stream of calls reuses a few goroutines whose stacks have grown to what
	// the functions need, rather than starting (and growing) one per call.
	work    chan threadRunner // to an idle goroutine; unbuffered; closed by stop
	wg      sync.WaitGroup
	stopped bool // by stop: a late start runs its function on a goroutine that ends with it

	// Idle goroutines are retired by the reaper, a timer that runs every
	// goroutineIdle while the pool has goroutines, rather than by a timer of
	// each goroutine's own: a goroutine that waits in a select on a timer's
	// channel puts the timer in the runtime's heap and takes it out again at
	// every call (a tenth of a ToGoroutine round trip). The goroutines beyond
	// the most that were busy at once since the reaper's last run have waited
	// all that time for a call; it retires as many idle ones.
	alive, busy, peak atomic.Int32 // goroutines; functions running; most busy at once
	reapMu            sync.Mutex   // guards reaper, armed, closed
	reaper            *time.Timer
	armed, closed     bool
}

// A threadRunner is a call the pool runs on one of its goroutines.
type threadRunner interface{ run() }

// goroutineIdle is how long a goroutine of the pool waits for another
// function before it ends (up to twice as long: see reap).
const goroutineIdle = 10 * time.Second

// retire is what the reaper hands an idle goroutine to end it.
var retire threadRunner = retireRunner{}

type retireRunner struct{}

func (retireRunner) run() {}

// start runs r on an idle goroutine of the pool, or a new one.
func (p *threadPool) start(r threadRunner) {
	if p.work == nil {
		if p.stopped {
			go r.run()
			return
		}
		p.work = make(chan threadRunner)
	}
	n := p.busy.Add(1)
	for pk := p.peak.Load(); n > pk && !p.peak.CompareAndSwap(pk, n); pk = p.peak.Load() {
	}
	select {
	case p.work <- r:
	default:
		p.alive.Add(1)
		p.wg.Add(1)
		p.armReaper()
		go p.goroutine(r, p.work)
	}
}

// armReaper starts the reaper if it is not running.
func (p *threadPool) armReaper() {
	p.reapMu.Lock()
	defer p.reapMu.Unlock()
	if p.armed || p.closed {
		return
	}
	p.armed = true
	if p.reaper == nil {
		p.reaper = time.AfterFunc(goroutineIdle, p.reap)
	} else {
		p.reaper.Reset(goroutineIdle)
	}
}

// reap retires the goroutines that were not needed since its last run, and
// runs again in goroutineIdle while any are left.
func (p *threadPool) reap() {
	p.reapMu.Lock()
	defer p.reapMu.Unlock()
	if p.closed {
		return
	}
	excess := p.alive.Load() - p.peak.Load()
	p.peak.Store(p.busy.Load())
	for ; excess > 0; excess-- {
		select {
		case p.work <- retire:
		default:
			excess = 0 // none idle now: they are needed after all
		}
	}
	if p.alive.Load() > 0 {
		p.reaper.Reset(goroutineIdle)
	} else {
		p.armed = false
	}
}

// goroutine is a goroutine of the pool. Its first frame holds stackReserve
// bytes, so that the runtime does not take back the stack its calls grew:
// at each collection the runtime halves a stack less than a quarter used,
// and a goroutine waiting for its next call, or parked in a socket read in
// the middle of one, uses a small part of what the call's deepest point
// needed (a database driver's server selection), so that without the reserve
// its stack was halved at every collection and grown again, copied both ways,
// by the next call: 10 % of aiomongo's CPU per find_one at 32 tasks
// (docs/performance.md). The reserve counts as used, and keeps a stack of up
// to about four times its size whole.
func (p *threadPool) goroutine(r threadRunner, work <-chan threadRunner) {
	var reserve [stackReserve]byte
	p.serve(r, work)
	runtime.KeepAlive(&reserve)
}

// stackReserve is the part of a pool goroutine's stack its first frame holds.
const stackReserve = 8 << 10

// serve runs r, then what comes on work, until work is closed (stop) or
// brings retire (the reaper).
func (p *threadPool) serve(r threadRunner, work <-chan threadRunner) {
	defer p.wg.Done()
	defer p.alive.Add(-1)
	for {
		r.run()
		p.busy.Add(-1)
		var ok bool
		// One channel, not a select with a quit channel: a receive locks
		// one channel where a select locks and sorts two, at every call.
		if r, ok = <-work; !ok || r == retire {
			return
		}
	}
}

type threadJob struct {
	cancel     context.CancelCauseFunc
	pooled     bool       // counts against the pool's limit (ToThread's; not ToGoroutine's)
	prev, next *threadJob // in threadPool.jobs: a list, not a map, for no hashing per call
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
// returns the cause at once, and fn's result is dropped when it comes), when
// the task ends, or when the loop closes; calls a task makes with the same
// context may be given the same one, so fn must not keep it past its return.
// A panic in fn becomes a *PanicError. A virtual clock does not move while fn
// runs.
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
	o := &offloaded[T]{fn: fn}
	o.f.loop, o.f.kind = l, futThread
	o.job.pooled = pooled
	oc := t.offContext(ctx)
	if oc != nil {
		o.ctx, o.job.cancel = oc.ctx, oc.cancel
	} else {
		o.off.parent = ctx
		o.ctx, o.job.cancel = context.WithCancelCause(&o.off)
		o.ownCtx = true
	}
	l.runThread(&o.job, o)
	v, err := o.f.Await(ctx)
	if err != nil && o.f.state == futPending {
		o.job.cancel(err)
		if oc != nil && t.off == oc {
			t.off = nil
		}
		o.f.complete(err) // drop the late result
		o.f.markRetrieved()
		return zero, err
	}
	return v, err
}

// offCtx is the context a task's functions run with off the loop, kept
// from one call to the next while the task passes the same context (its own,
// or a scope's): made once, it saves each call a cancellable context, its
// channel, and the registrations a library makes under it (a database
// driver's per-call timeouts). It is cancelled when an Await of a call is,
// when the task ends, and when the loop closes, and then replaced.
type offCtx struct {
	parent *node
	off    offLoop
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// offContext returns the task's off-loop context for ctx, making it if
// needed, or nil when ctx is not one of the loop's own (a context derived
// with values, say): a call then makes a context of its own.
func (t *task) offContext(ctx context.Context) *offCtx {
	n, ok := ctx.(*node)
	if !ok {
		return nil
	}
	if oc := t.off; oc != nil {
		if oc.parent == n && oc.ctx.Err() == nil {
			return oc
		}
		oc.cancel(nil)
	}
	oc := &offCtx{parent: n}
	oc.off.parent = n
	oc.ctx, oc.cancel = context.WithCancelCause(&oc.off)
	t.off = oc
	return oc
}

// offloaded is one ToThread or ToGoroutine call: the future its task awaits,
// its job in the pool, the function and its context, in one allocation.
type offloaded[T any] struct {
	f   Future[T]
	job threadJob
	fn  func(context.Context) (T, error)
	off offLoop // the parent of ctx when the call has a context of its own
	ctx context.Context
	// ownCtx says ctx is the call's own, cancelled when fn returns; else it
	// is its task's (see offCtx).
	ownCtx bool
	v      T
	err    error
}

// run calls the function on a goroutine of the pool and hands the result to
// the loop; a closed loop drops it (nobody waits for it).
func (o *offloaded[T]) run() {
	o.v, o.err = callRecovered(o.ctx, o.fn)
	if o.ownCtx {
		o.job.cancel(nil)
	}
	o.f.loop.completeThreadsafe(o)
}

// finish runs on the loop once the function has returned.
func (o *offloaded[T]) finish() {
	o.f.loop.threadDone(&o.job)
	if o.f.state == futPending {
		o.f.value = o.v
		o.f.complete(o.err)
		o.f.markRetrieved() // the task, or nobody, reads it
	}
}

// offLoop is the parent of the context of a function running off the loop
// (ToThread's): it carries the task's values but neither its cancellation
// nor its deadline (the await's cancellation reaches the function through
// the context made from it) nor its place on the loop, so that the loop's
// functions called with it (Spawn, Put, Sleep) answer ErrNoTask instead of
// touching the loop from another goroutine. It is context.WithoutCancel and
// a filter in one.
type offLoop struct{ parent context.Context }

func (offLoop) Deadline() (time.Time, bool) { return time.Time{}, false }
func (offLoop) Done() <-chan struct{}       { return nil }
func (offLoop) Err() error                  { return nil }
func (c offLoop) Value(key any) any {
	if key == nodeKey {
		return nil
	}
	return c.parent.Value(key)
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
func (l *Loop) runThread(job *threadJob, run threadRunner) {
	p := &l.threads
	job.next = p.jobs
	if p.jobs != nil {
		p.jobs.prev = job
	}
	p.jobs = job
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
	switch {
	case job.prev != nil:
		job.prev.next = job.next
	case p.jobs == job:
		p.jobs = job.next
	default:
		return // not started here, or done already
	}
	if job.next != nil {
		job.next.prev = job.prev
	}
	job.prev, job.next = nil, nil
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
	for job := p.jobs; job != nil; job = job.next {
		job.cancel(ErrClosed)
	}
	p.queue = nil
	l.counters.queued.Store(0)
	p.stop()
}

// stop ends the pool's goroutines and its reaper, and waits for the
// goroutines to end.
func (p *threadPool) stop() {
	p.reapMu.Lock()
	p.closed = true // the reaper sends on work no more
	if p.reaper != nil {
		p.reaper.Stop()
	}
	p.reapMu.Unlock()
	p.stopped = true
	if p.work != nil {
		close(p.work)
		p.work = nil
	}
	p.wg.Wait()
}
