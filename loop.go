package aio

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aio-go/aio/internal/edge"
	"github.com/aio-go/aio/internal/goid"
	"github.com/aio-go/aio/internal/poll"
)

// Loop is an event loop: one goroutine that runs callbacks and tasks, one at a
// time, in the order they become ready, with timers on its clock. State shared
// only by the tasks and callbacks of one loop needs no mutex. Many loops may
// run in parallel, each on its own goroutine.
//
// A Loop's methods belong to the goroutine running it (from its tasks and
// callbacks), except CallSoonThreadsafe, which any goroutine may call, and
// RunForever, RunUntilComplete and Close, which run or end the loop.
type Loop struct {
	clock      Clock
	vclock     *VirtualClock // non-nil for a virtual clock
	real       bool          // clock is the real clock
	epoch      time.Time     // loop time 0
	epochNs    int64         // the virtual clock's reading at loop time 0
	ready      ring
	timers     timerHeap
	seq        uint64
	current    *task         // the task running now
	passLeft   int           // items of the current pass not run yet
	until      *fut          // RunUntilComplete's: the run ends when it is done
	passes     uint32        // passes run, to hand the Go scheduler a turn now and then
	lastTurn   time.Time     // when the loop last did
	tasks      *task         // live tasks (list via prevAll/nextAll)
	foreign    []foreignWait // tasks parked with contexts the loop does not own
	foreignGen uint64
	ntasks     int    // length of tasks
	nextID     uint64 // task numbering, for default names
	idle       []*worker
	threads    threadPool // ToThread's goroutines
	signals    signals    // AddSignalHandler's
	freeTimers []*Handle  // Sleep's timers, for reuse
	freeQ      []*qwaiter // waitq entries, for reuse
	logger     *slog.Logger
	handler    func(ExceptionContext)

	running, stopping, closing, closed bool
	draining                           bool   // Run is waiting for its cancelled tasks
	noInterrupt                        bool   // Run leaves SIGINT alone
	cleanups                           int    // Cleanup contexts linked in the tree
	sampleMask                         uint64 // passSample-1: the passes whose time Metrics measures
	debug                              *debugState
	traced                             map[*task]*traceState // tasks traced or labelled
	shuffle                            *rand.Rand            // WithShuffle: the order of each pass
	observer                           Observer              // WithObserver
	id                                 uint64
	loopG                              atomic.Uintptr         // the goroutine running the loop (goid.G), or 0 when it is not running
	workerG                            atomic.Uintptr         // goroutine of the worker running now or last (goid.G), or 0; InTask's
	stepTask                           atomic.Pointer[task]   // the task running now or last; nil while a callback runs: the watchdog's
	stepCB                             atomic.Pointer[Handle] // the callback running now or last: the watchdog's
	debugSet                           bool                   // WithDebug decided, not AIO_DEBUG

	root         *node                  // the loop's own context, made on demand
	failures     map[*failNote]struct{} // failures nobody has retrieved yet
	lastCancel   *CancelledError        // cancelErr's
	failGen      uint64                 // failures tracked so far
	collectedGen uint64                 // failGen when collectFailures last asked
	collectedAt  time.Time              // and when
	collectTries int                    // asks since failGen last changed
	pruneAt      int                    // prune reported failures at this size

	// Fields shared with other goroutines.
	mu         sync.Mutex
	pending    []func() // CallSoonThreadsafe's queue
	spare      []func()
	finished   []completion // calls run elsewhere, back with their results
	spareFin   []completion
	tsClosed   bool
	hasPending atomic.Bool
	counters   loopCounters
	watchAfter time.Duration // WithWatchdog's
	wd         *watchdog
	stalls     stallRing     // the watchdog's last reports
	passState  atomic.Uint64 // passNo<<1, | sleepingBit while the loop sleeps: for wakers and the watchdog
	passNo     uint64
	inflight   atomic.Int64 // work running elsewhere that will report back
	poller     poll.Poller

	watches    []*fdWatch // by file descriptor
	nwatch     int        // descriptors watched
	watchTag   uint32     // tells a descriptor from an earlier one with the same number
	dispatched uint64     // readiness callbacks run, to tell whether a poll found I/O
	closeHead  *closeHook // OnClose callbacks, in order
	closeTail  *closeHook
	batch      edge.Batcher // aionet's gathered reads and sends (edge.Batch)
}

// maxIdleWorkers bounds the pool of parked coroutines kept for reuse.
const maxIdleWorkers = 256

// An Option configures a loop made by NewLoop or Run.
type Option func(*Loop)

// WithClock makes the loop measure time on c. Pass a [VirtualClock] to run
// sleeps and timeouts in no real time.
func WithClock(c Clock) Option { return func(l *Loop) { l.clock = c } }

// WithShuffle makes the loop run the items of each pass, the tasks and
// callbacks ready at the same moment, in an order drawn from seed instead of
// FIFO: a test that passes whatever the order tries many seeds (package
// aiotest does), and replays a failing one from its seed.
func WithShuffle(seed uint64) Option {
	return func(l *Loop) { l.shuffle = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// WithLogger sets the logger of the default exception handler (slog.Default
// otherwise).
func WithLogger(lg *slog.Logger) Option { return func(l *Loop) { l.logger = lg } }

// WithExceptionHandler replaces the loop's exception handler, which receives
// the errors nobody else can: a task that failed and whose error nobody
// retrieved, a task that failed while Run was cancelling it. The handler may
// be called from any goroutine (reports of garbage-collected tasks come from
// the runtime's cleanup goroutine), so it must be safe for concurrent use.
func WithExceptionHandler(h func(ExceptionContext)) Option {
	return func(l *Loop) { l.handler = h }
}

// ExceptionContext describes an error passed to the loop's exception handler
// (asyncio's exception handler context).
type ExceptionContext struct {
	Message string // what happened
	Err     error  // the error
	Task    string // the task's name, when a task is involved
	// CreatedAt is where the task was spawned (file:line), in debug mode.
	CreatedAt string
	// Stack is the stack of the goroutine that blocks the loop, in the
	// watchdog's report (see WithWatchdog).
	Stack string
}

// sleepingBit marks passState while the loop sleeps.
const sleepingBit = 1

// NewLoop returns a loop that is ready to run. Close it when done.
func NewLoop(opts ...Option) *Loop {
	l := &Loop{clock: realClock{}, sampleMask: passSample - 1}
	l.counters.lag, l.counters.pass = new(histogram), new(histogram)
	for _, o := range opts {
		o(l)
	}
	l.debugFromEnv()
	switch c := l.clock.(type) {
	case realClock:
		l.real = true
	case *VirtualClock:
		l.vclock = c
		l.epochNs = c.ns.Load()
	}
	l.epoch = l.clock.Now()
	p, err := poll.New()
	if err != nil {
		// Out of descriptors, say: a loop without I/O still works.
		p = poll.NewFallback()
	}
	l.poller = p
	registerLoop(l)
	return l
}

// LoopOf returns the loop of ctx (asyncio's get_running_loop), or nil if ctx
// does not come from a loop.
func LoopOf(ctx context.Context) *Loop {
	if n := nodeOf(ctx); n != nil {
		return n.loop
	}
	return nil
}

// Context returns the loop's root context: tasks spawned with it belong to no
// other task (asyncio's loop.create_task). It is cancelled, with ErrClosed as
// its cause, when the loop closes.
func (l *Loop) Context() context.Context {
	if l.root == nil {
		l.root = l.newNode(context.Background(), nil, nil)
	}
	return l.root
}

// Now returns the time on the loop's clock (asyncio's loop.time()).
func (l *Loop) Now() time.Time { return l.timeAt(l.now()) }

// Clock returns the loop's clock.
func (l *Loop) Clock() Clock { return l.clock }

// now is the loop time in nanoseconds since the loop's epoch.
func (l *Loop) now() int64 {
	switch {
	case l.real:
		return int64(time.Since(l.epoch))
	case l.vclock != nil:
		return l.vclock.ns.Load() - l.epochNs
	}
	return int64(l.clock.Now().Sub(l.epoch))
}

func (l *Loop) timeAt(ns int64) time.Time { return l.epoch.Add(time.Duration(ns)) }

// IsRunning reports whether the loop is running.
func (l *Loop) IsRunning() bool { return l.running }

// IsClosed reports whether the loop was closed.
func (l *Loop) IsClosed() bool { return l.closed }

// CallSoon schedules fn to run on the loop after the callbacks and tasks that
// are already ready (asyncio's call_soon).
func (l *Loop) CallSoon(fn func()) *Handle {
	h := &Handle{fn: fn, loop: l, index: -1, when: -1}
	if l.misused() {
		l.handOver(func() { l.ready.push(readyItem{h: h}) })
		return h
	}
	if !l.closing {
		l.ready.push(readyItem{h: h})
	}
	return h
}

// CallLater schedules fn to run on the loop once d has passed on its clock.
// Callbacks due at the same instant run in the order they were scheduled.
func (l *Loop) CallLater(d time.Duration, fn func()) *Handle {
	return l.callAtNs(addSat(l.now(), d), fn, nil)
}

// CallAt schedules fn to run on the loop at time when on its clock.
func (l *Loop) CallAt(when time.Time, fn func()) *Handle {
	return l.callAtNs(int64(when.Sub(l.epoch)), fn, nil)
}

func (l *Loop) callAtNs(ns int64, fn func(), t *task) *Handle {
	h := &Handle{fn: fn, loop: l, index: -1}
	if l.misused() {
		l.handOver(func() {
			if !h.cancelled {
				l.schedule(h, ns, t)
			}
		})
		return h
	}
	l.schedule(h, ns, t)
	return h
}

// schedule puts timer h in the heap, due at loop time ns.
func (l *Loop) schedule(h *Handle, ns int64, t *task) {
	if ns < 0 {
		ns = 0
	}
	h.when, h.t, h.cancelled = ns, t, false
	l.seq++
	h.seq = l.seq
	if !l.closing {
		l.timers.push(h)
	}
}

// CallSoonThreadsafe schedules fn to run on the loop; any goroutine may call
// it, and it wakes the loop if it is waiting. It returns ErrClosed if the loop
// is closed: fn will then never run.
func (l *Loop) CallSoonThreadsafe(fn func()) error {
	l.mu.Lock()
	if l.tsClosed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.pending = append(l.pending, fn)
	l.hasPending.Store(true)
	l.mu.Unlock()
	if l.passState.Load()&sleepingBit != 0 {
		l.poller.Wake()
	}
	return nil
}

func (l *Loop) drainPending() {
	l.mu.Lock()
	fns, fin := l.pending, l.finished
	l.pending, l.spare = l.spare[:0], nil
	l.finished, l.spareFin = l.spareFin[:0], nil
	l.hasPending.Store(false)
	l.mu.Unlock()
	for i, c := range fin {
		c.finish() // completes a future: its task is ready for this pass
		fin[i] = nil
	}
	for i, fn := range fns {
		l.ready.push(readyItem{h: &Handle{fn: fn, loop: l, index: -1, when: -1}})
		fns[i] = nil
	}
	l.mu.Lock()
	if l.spare == nil {
		l.spare = fns[:0]
	}
	if l.spareFin == nil {
		l.spareFin = fin[:0]
	}
	l.mu.Unlock()
}

// A completion is a call made on another goroutine for the loop (ToThread's),
// back with its result: finish, on the loop, delivers it.
type completion interface{ finish() }

// completeThreadsafe hands c to the loop, which finishes it at the start of
// its next pass; any goroutine may call it. On a closed loop it does nothing.
// It is CallSoonThreadsafe without a closure and a Handle per call.
func (l *Loop) completeThreadsafe(c completion) {
	l.mu.Lock()
	if l.tsClosed {
		l.mu.Unlock()
		return
	}
	l.finished = append(l.finished, c)
	l.hasPending.Store(true)
	l.mu.Unlock()
	if l.passState.Load()&sleepingBit != 0 {
		l.poller.Wake()
	}
}

// Stop makes RunForever or RunUntilComplete return after the current pass
// over the ready queue.
func (l *Loop) Stop() { l.stopping = true }

func (l *Loop) enterRun() error {
	switch {
	case l.closed || l.closing:
		return ErrClosed
	case l.running:
		return ErrRunning
	}
	l.running = true
	l.loopG.Store(goid.G())
	l.startWatchdog()
	return nil
}

func (l *Loop) leaveRun() {
	l.stopWatchdog()
	l.running, l.stopping, l.current = false, false, nil
	l.loopG.Store(0)
}

// RunForever runs the loop until Stop is called.
func (l *Loop) RunForever() error {
	if err := l.enterRun(); err != nil {
		return err
	}
	defer l.leaveRun()
	l.serve(nil)
	return nil
}

// RunUntilComplete runs the loop until w is done. It returns ErrStopped if
// Stop ended the loop first; w's own result is w's to report.
func (l *Loop) RunUntilComplete(w Waitable) error {
	f := w.base()
	if f.loop != l {
		return ErrOtherLoop
	}
	if err := l.enterRun(); err != nil {
		return err
	}
	defer l.leaveRun()
	if f.state != futPending {
		return nil
	}
	l.serve(f)
	if l.stopping && f.state == futPending {
		return ErrStopped
	}
	return nil
}

// serve runs passes until Stop, or until until is done (nil: no such end).
// The poller drives them: it looks for ready descriptors, or waits for them,
// between one pass and the next, as each pass asks.
func (l *Loop) serve(until *fut) {
	l.until = until
	if err := l.poller.Serve(l.dispatcher()); err != nil {
		// The poller cannot wait (it fails only once closed, and Close
		// waits for the run to end): run the passes without it.
		for l.pass() != poll.Stop {
		}
	}
	l.until = nil
}

// Pass is one pass of the loop, for the poller's Serve.
func (d *dispatcher) Pass() time.Duration { return (*Loop)(d).pass() }

// pass is one iteration of the loop, run after the poller looked for I/O or
// waited: move due timers to the ready queue, run what was ready at the start
// of the pass (what becomes ready during it runs in the next one), then say
// whether the loop is done, and if not, how the poller is to look for I/O
// before the next pass.
func (l *Loop) pass() time.Duration {
	l.passNo++
	l.passState.Store(l.passNo << 1)
	if l.hasPending.Load() {
		l.drainPending()
	}
	var began int64
	sampled := l.passNo&l.sampleMask == 0
	if sampled {
		began = l.now()
	}
	if len(l.timers) > 0 {
		now := began
		if !sampled {
			now = l.now()
		}
		for len(l.timers) > 0 && l.timers[0].when <= now {
			h := l.timers.pop()
			l.counters.lag.record(now - h.when)
			if h.t != nil {
				h.t.wake()
			} else {
				l.ready.push(readyItem{h: h})
			}
		}
	}
	if l.batch != nil {
		l.batch.PassStart() // wakes the tasks that wait for what it reads
	}
	if l.shuffle != nil && l.ready.size > 1 {
		l.ready.shuffle(l.shuffle)
	}
	l.ready.settle()
	if sampled { // atomic stores cost: gauges are sampled with the pass time
		l.counters.ready.Store(int64(l.ready.size))
		l.counters.timers.Store(int64(len(l.timers)))
	}
	for l.passLeft = l.ready.size; l.passLeft > 0; {
		l.passLeft--
		it := l.ready.pop()
		switch {
		case it.t != nil:
			l.resume(it.t)
		case it.h != nil:
			if !it.h.cancelled {
				it.h.cancelled = true // a handle runs once
				if l.stepTask.Load() != nil {
					l.stepTask.Store(nil) // for the watchdog: a callback runs
				}
				l.stepCB.Store(it.h)
				if l.debug != nil {
					began := time.Now()
					it.h.fn()
					l.callbackTook(it.h, began)
				} else {
					it.h.fn()
				}
			}
		}
	}
	if sampled {
		l.counters.pass.record(l.now() - began)
	}
	if l.stopping || l.until != nil && l.until.state != futPending {
		if l.batch != nil {
			l.batch.PassEnd()
		}
		return poll.Stop
	}
	// A busy loop never parks: to the Go scheduler it is one goroutine that
	// runs for ever, which sysmon preempts every 10 ms, taking the processor
	// away if the loop is in a system call at that moment (a thread hand-off
	// and a burst of context switches each time). A turn given every 2 ms,
	// well inside those 10 ms, keeps the scheduler's view current; the clock
	// is read only every 256 passes, and a turn costs microseconds.
	if l.passes++; l.passes%256 == 0 {
		if now := time.Now(); now.Sub(l.lastTurn) >= 2*time.Millisecond {
			runtime.Gosched()
			l.lastTurn = now
		}
	}
	if l.hasPending.Load() {
		l.drainPending()
	}
	if l.ready.size > 0 {
		// Serve I/O even when tasks are always ready. The next pass
		// follows the poll at once: the batch's sends wait for its start.
		return l.noWait()
	}
	if l.batch != nil {
		// Before the loop looks for I/O, waits, or moves a virtual clock.
		l.batch.PassEnd()
		if l.ready.size > 0 {
			return l.noWait()
		}
	}
	return l.wait()
}

// noWait is what the poller does before a pass that must come at once: poll
// without waiting, or nothing when no descriptor is watched.
func (l *Loop) noWait() time.Duration {
	if l.nwatch > 0 {
		return 0
	}
	return poll.Skip
}

// wait says how long the poller may wait for I/O before the next pass: until
// the next timer, a thread-safe callback, or for ever. A virtual clock jumps
// to the next timer instead, unless work is in flight on other goroutines.
func (l *Loop) wait() time.Duration {
	if len(l.foreign) > 0 && l.checkForeign() {
		return l.noWait()
	}
	var collectIn time.Duration // wake to ask for a collection then, if > 0
	if len(l.failures) > 0 && (l.failGen != l.collectedGen || l.collectTries < maxCollectTries) {
		collectIn = l.collectFailures()
	}
	// A virtual clock jumps to the next timer only when no I/O is ready, so
	// it looks first. A real one need not: the poller looks before it parks
	// when looking pays.
	if l.nwatch > 0 && l.vclock != nil {
		before := l.dispatched
		l.poller.Wait(0, l.dispatcher())
		if l.dispatched != before {
			return poll.Skip
		}
	}
	timeout := time.Duration(-1)
	if len(l.timers) > 0 {
		d := l.timers[0].when - l.now()
		if d <= 0 {
			return l.noWait()
		} else if l.vclock == nil {
			timeout = time.Duration(d)
		} else if l.inflight.Load() == 0 {
			// Jump to the next timer: no I/O was ready (see above).
			l.vclock.advanceTo(l.epochNs + l.timers[0].when)
			return poll.Skip
		}
	}
	if l.inflight.Load() > 0 && !l.hasPending.Load() {
		// A function sent to a thread may be about to return: give it the
		// processor once before sleeping, so that its result arrives without
		// the wake-up a sleeping loop needs (an eventfd write and a netpoller
		// round trip, microseconds).
		runtime.Gosched()
	}
	// A thread-safe callback sent after this store wakes the poller; one
	// sent before it is seen by the load that follows.
	l.passState.Store(l.passNo<<1 | sleepingBit)
	if l.hasPending.Load() {
		return l.noWait()
	}
	if collectIn > 0 && l.vclock == nil && (timeout < 0 || timeout > collectIn) {
		timeout = collectIn
	}
	return timeout
}

// Close closes the loop. Tasks still pending are unwound: an Await in them
// returns ErrClosed, their deferred calls run, and their coroutines exit, so
// no goroutine of the loop is left behind. Tasks that never started complete
// with ErrClosed. Failures nobody retrieved are reported to the exception
// handler. Closing a closed loop does nothing.
func (l *Loop) Close() error {
	if l.running {
		return ErrRunning
	}
	if l.closed {
		return nil
	}
	if l.debug != nil {
		l.reportPending()
	}
	l.closing = true
	l.mu.Lock()
	l.tsClosed = true
	l.pending, l.finished = nil, nil
	l.hasPending.Store(false)
	l.mu.Unlock()
	for l.tasks != nil {
		t := l.tasks
		if t.w != nil {
			l.current = t
			l.workerG.Store(t.w.g)
			t.w.stop()
			l.workerG.Store(0)
			l.current = nil
		}
		if t.phase != stDone {
			t.finish(ErrClosed)
		}
	}
	for _, w := range l.idle {
		l.stopWorker(w)
	}
	l.idle = nil
	l.closeThreads()
	l.closeSignals()
	l.timers, l.ready = nil, ring{}
	if l.batch != nil {
		l.batch.PassEnd() // what the unwound tasks sent
	}
	l.runCloseHooks()
	for n := range l.failures {
		n.cleanup.Stop()
		n.report()
	}
	l.failures = nil
	l.watches, l.nwatch = nil, 0
	l.counters.descriptors.Store(0)
	if l.root != nil {
		l.root.cancel(ErrClosed)
	}
	l.closed = true
	l.poller.Close()
	unregisterLoop(l)
	return nil
}

// checkForeign wakes the tasks parked with a foreign context that is now
// cancelled, and reports whether it woke any. A context cancelled by code on
// the loop is so seen before the loop sleeps or a virtual clock jumps.
func (l *Loop) checkForeign() bool {
	woke := false
	for _, fw := range l.foreign {
		if fw.ctx.Err() != nil && fw.t.phase == stParked {
			fw.t.cancelWake()
			woke = true
		}
	}
	return woke
}

// foreignWait is a task parked with a context the loop does not own.
type foreignWait struct {
	t   *task
	ctx context.Context
	gen uint64 // tells this wait from later ones of the same task
}

func (l *Loop) addForeign(t *task, ctx context.Context) uint64 {
	l.foreignGen++
	t.w.foreignIdx = int32(len(l.foreign))
	l.foreign = append(l.foreign, foreignWait{t, ctx, l.foreignGen})
	return l.foreignGen
}

func (l *Loop) removeForeign(t *task) {
	i, last := t.w.foreignIdx, len(l.foreign)-1
	l.foreign[i] = l.foreign[last]
	l.foreign[i].t.w.foreignIdx = i
	l.foreign[last] = foreignWait{}
	l.foreign = l.foreign[:last]
	t.w.foreignIdx = -1
}

func (l *Loop) addTask(t *task) {
	t.nextAll = l.tasks
	if l.tasks != nil {
		l.tasks.prevAll = t
	}
	l.tasks = t
	l.ntasks++
}

func (l *Loop) removeTask(t *task) {
	if t.prevAll != nil {
		t.prevAll.nextAll = t.nextAll
	} else if l.tasks == t {
		l.tasks = t.nextAll
	} else {
		return // not in the list
	}
	if t.nextAll != nil {
		t.nextAll.prevAll = t.prevAll
	}
	t.prevAll, t.nextAll = nil, nil
	l.ntasks--
}

// CallExceptionHandler hands ec to the loop's exception handler (asyncio's
// loop.call_exception_handler): for errors that nobody else will see, such as
// a server's connection handler failing. Any goroutine may call it.
func (l *Loop) CallExceptionHandler(ec ExceptionContext) { l.reportException(ec) }

func (l *Loop) reportException(ec ExceptionContext) {
	if l.handler != nil {
		l.handler(ec)
		return
	}
	lg := l.logger
	if lg == nil {
		lg = slog.Default()
	}
	attrs := []any{"err", ec.Err}
	if ec.Task != "" {
		attrs = append(attrs, "task", ec.Task)
	}
	if ec.Stack != "" {
		attrs = append(attrs, "stack", ec.Stack)
	}
	lg.Error(ec.Message, attrs...)
}

// cancelErr returns a *CancelledError carrying msg: the last one made, if it
// carries msg too (they are not changed once made), so that a server that
// cancels a scope per request allocates none.
func (l *Loop) cancelErr(msg string) *CancelledError {
	if e := l.lastCancel; e != nil && e.Msg == msg {
		return e
	}
	e := &CancelledError{Msg: msg}
	l.lastCancel = e
	return e
}

// trackFailure remembers a failed future until someone retrieves its error;
// if nobody does, it is reported when the future is garbage-collected or when
// the loop closes, whichever comes first (asyncio's "exception was never
// retrieved").
func (l *Loop) trackFailure(f *fut) {
	if l.closing && errors.Is(f.err, ErrClosed) {
		return // unwound by Close: pending, not failed
	}
	n := &failNote{loop: l, what: "Future", err: f.err}
	if t := f.task(); t != nil {
		n.what, n.task = "Task", t.Name()
		if l.debug != nil {
			n.createdAt = l.debug.created[t]
		}
	}
	n.cleanup = runtime.AddCleanup(f, (*failNote).report, n)
	if l.failures == nil {
		l.failures = make(map[*failNote]struct{})
	}
	if len(l.failures) >= l.pruneAt {
		for n := range l.failures {
			if n.reported.Load() {
				delete(l.failures, n)
			}
		}
		l.pruneAt = 2*len(l.failures) + 64
	}
	l.failures[n] = struct{}{}
	l.failGen++
	f.note = n
}

// collectFailures asks the garbage collector, on a goroutine of its own, to
// find the failed tasks and futures nobody can retrieve any more, so that
// they are reported while the loop runs: asyncio reports one when its last
// reference goes, but Go learns that a value is unreachable only at a
// collection, which an idle service may not make for minutes. The loop asks
// when it goes idle with failures tracked since it last asked, unretrieved
// still, at most once a second; a failed task still reachable at that moment
// (its last step's traces not yet gone) would wait for the runtime's own
// collection, every two minutes, so it asks again while failures stay
// unreported, 1, 2, 4 and 8 s later. It returns how long to wait before it
// may ask again, or 0 when it asked.
func (l *Loop) collectFailures() time.Duration {
	if l.failGen != l.collectedGen {
		l.collectTries = 0
	} else if !l.unreported() {
		l.collectTries = maxCollectTries // nothing left to find
		return 0
	}
	now := time.Now()
	if wait := time.Second<<max(l.collectTries-1, 0) - now.Sub(l.collectedAt); wait > 0 {
		return wait
	}
	l.collectedGen, l.collectedAt = l.failGen, now
	l.collectTries++
	go runtime.GC()
	return 0
}

// maxCollectTries is how many times the loop asks for a collection for one
// set of failures.
const maxCollectTries = 5

// unreported reports whether a tracked failure has not been reported yet.
func (l *Loop) unreported() bool {
	for n := range l.failures {
		if !n.reported.Load() {
			return true
		}
	}
	return false
}

func (l *Loop) untrackFailure(f *fut) {
	f.note.cleanup.Stop()
	delete(l.failures, f.note)
	f.note = nil
}
