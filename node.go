package aio

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// A node is a context owned by a loop: the context of a task, of a Timeout
// scope or of a TaskGroup. Nodes form a tree that mirrors the context tree, so
// that a cancellation made on the loop reaches every task below it at once,
// without goroutines or locks, and wakes the tasks suspended on it.
//
// Cancellation is level-triggered (as in Trio and in Go's context package):
// once a node is cancelled, every Await made with its context fails at once.
// Code that must still await during cleanup uses Cleanup(ctx), a node that
// outlives one cancellation; cancel looks below cancelled nodes for those
// while any exist.
//
// A node answers Err itself and makes a standard library context with
// context.WithCancelCause when someone needs one (Done, context.Cause, a
// context derived with context.With*), so that those behave exactly as users
// expect while a task that never asks costs no more than the node. Its parent
// for values is the context it was made from; its parent for cancellation is
// the tree, never the standard library's propagation (which would need a
// goroutine per foreign parent).
type node struct {
	std       atomic.Pointer[stdCtx] // the stdlib cancel context, made on demand
	flags     atomic.Uint32          // flagCancelled, flagDeadline: Err from any goroutine
	scope     uint8                  // scopeTimeout, scopeGroup, or 0 for a task
	expired   bool                   // the scope's deadline passed while it was active
	absorb    bool                   // a Cleanup context made before the cancellation it outlives
	done      bool                   // the owner finished; detach once childless
	linked    bool                   // linked under parent
	parentCtx context.Context        // values and, if no own deadline, Deadline
	loop      *Loop
	parent    *node
	first     *node // first child
	prev      *node // siblings
	next      *node
	waiters   *worker // tasks suspended with this context (list via parkPrev/parkNext)
	task      *task   // the task whose context this is; nil for scopes
	cause     error   // set once, on the loop, when cancelled
	ext       *nodeExt
}

// stdCtx is a node's standard library context and its cancel function.
type stdCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// nodeExt holds what only some nodes need: a deadline and its timer, or the
// registration with a parent context the tree does not own.
type nodeExt struct {
	name      string       // a task's name, given with WithName
	deadline  atomic.Int64 // loop time in ns; noDeadline if none
	timer     *Handle
	stopAfter func() bool
}

const (
	flagCancelled = 1 << iota
	flagDeadline
)

const noDeadline = math.MinInt64

// Kinds of scope nodes.
const (
	scopeTimeout uint8 = iota + 1
	scopeGroup
	scopeCleanup // made by Cleanup; owned by the node it hangs under
)

// nodeKey finds the nearest node in a context chain.
var nodeKey = new(byte)

// cancelCtxKey is the key the context package looks a *cancelCtx up with (in
// context.Cause and when deriving a context); a node answers it with its
// stdlib context, made on demand. It is learnt once from context.Cause; if
// that ever fails, nodes make their stdlib context at once.
var cancelCtxKey = func() any {
	var p keyProbe
	_ = context.Cause(&p)
	return p.key
}()

type keyProbe struct{ key any }

func (*keyProbe) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*keyProbe) Done() <-chan struct{}       { return nil }
func (*keyProbe) Err() error                  { return context.Canceled }
func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}

// nodeValues is the node seen as the parent of its stdlib context: it passes
// values through and has no cancellation of its own.
type nodeValues node

func (*nodeValues) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*nodeValues) Done() <-chan struct{}       { return nil }
func (*nodeValues) Err() error                  { return nil }
func (v *nodeValues) Value(key any) any         { return v.parentCtx.Value(key) }

// stdContext returns the node's stdlib context, making it if needed. Any
// goroutine may call it. Against a concurrent cancel on the loop: cancel sets
// the flags, then looks for the stdlib context; this publishes the context,
// then looks at the flags; one of them, or both, cancels it (cause is written
// before the flags, so it is seen with them).
func (n *node) stdContext() context.Context {
	if s := n.std.Load(); s != nil {
		return s.ctx
	}
	s := &stdCtx{}
	s.ctx, s.cancel = context.WithCancelCause((*nodeValues)(n))
	if !n.std.CompareAndSwap(nil, s) {
		return n.std.Load().ctx
	}
	if n.flags.Load()&flagCancelled != 0 {
		s.cancel(n.cause)
	}
	return s.ctx
}

// Value returns the node itself for nodeKey and defers to the chain otherwise.
func (n *node) Value(key any) any {
	switch key {
	case nodeKey:
		return n
	case cancelCtxKey:
		return n.stdContext().Value(key)
	}
	for { // nodes hold no other value: skip them (a driver asks for a few per call)
		p, ok := n.parentCtx.(*node)
		if !ok {
			return n.parentCtx.Value(key)
		}
		n = p
	}
}

// Done returns a channel closed when the node is cancelled.
func (n *node) Done() <-chan struct{} { return n.stdContext().Done() }

// Err reports context.DeadlineExceeded when the node was cancelled by a
// timeout, context.Canceled for any other cancellation, and nil before.
func (n *node) Err() error {
	switch f := n.flags.Load(); {
	case f&flagCancelled == 0:
		return nil
	case f&flagDeadline != 0:
		return context.DeadlineExceeded
	}
	if n.loop != nil && n.loop.InTask() { // a task that looks has seen it (a cheap check: Err is called from anywhere)
		n.loop.delivered()
	}
	return context.Canceled
}

// Deadline reports the earliest of the node's own deadline (a Timeout
// scope's, on the loop's clock) and its ancestors', up to a cleanup node
// (the deadlines above it have passed). It walks the chain in a loop: a
// database driver asks at every document of a cursor.
func (n *node) Deadline() (d time.Time, ok bool) {
	for {
		if n.scope == scopeCleanup {
			return d, ok
		}
		if n.ext != nil {
			if ns := n.ext.deadline.Load(); ns != noDeadline {
				if own := n.loop.timeAt(ns); !ok || own.Before(d) {
					d, ok = own, true
				}
			}
		}
		p, isNode := n.parentCtx.(*node)
		if !isNode {
			if pd, pok := n.parentCtx.Deadline(); pok && (!ok || pd.Before(d)) {
				return pd, true
			}
			return d, ok
		}
		n = p
	}
}

func (n *node) String() string {
	if n.task != nil {
		return "aio.Task(" + n.task.Name() + ").Context"
	}
	return "aio.Scope.Context"
}

func (n *node) extra() *nodeExt {
	if n.ext == nil {
		n.ext = &nodeExt{}
		n.ext.deadline.Store(noDeadline)
	}
	return n.ext
}

// nodeOf returns the nearest node of ctx, or nil.
func nodeOf(ctx context.Context) *node {
	if n, ok := ctx.(*node); ok {
		return n
	}
	if ctx == nil {
		return nil
	}
	n, _ := ctx.Value(nodeKey).(*node)
	return n
}

// newNode makes a node of loop l under the context parent, whose nearest node
// is pn (nil if none). It runs on the loop's goroutine.
func (l *Loop) newNode(parent context.Context, pn *node, t *task) *node {
	n := &node{}
	l.initNode(n, parent, pn, t)
	return n
}

// initNode sets n up as newNode does.
func (l *Loop) initNode(n *node, parent context.Context, pn *node, t *task) {
	n.loop, n.parentCtx, n.task = l, parent, t
	if cancelCtxKey == nil {
		n.stdContext()
	}
	if pn != nil && pn.loop != l {
		pn = nil // another loop's context: its cancellation is foreign here
	}
	switch {
	case pn != nil && (parent == context.Context(pn) || parent.Done() == pn.Done()):
		// The parent's cancellation is exactly the node's: link in the tree.
		n.link(pn)
	case parent.Done() == nil:
		// Nothing can cancel the parent (Background, WithoutCancel).
	default:
		// A context the tree does not own (context.WithCancel of a task's
		// context, a signal context, a context of another loop): link to the
		// nearest node if any, and hear about the rest through AfterFunc, which
		// calls back on another goroutine.
		if pn != nil {
			n.link(pn)
		}
		if parent.Err() != nil {
			n.cancel(context.Cause(parent))
		} else {
			n.extra().stopAfter = context.AfterFunc(parent, func() {
				_ = l.CallSoonThreadsafe(func() { n.cancel(context.Cause(parent)) })
			})
		}
	}
}

func (n *node) link(p *node) {
	n.parent = p
	n.next = p.first
	if p.first != nil {
		p.first.prev = n
	}
	p.first = n
	n.linked = true
	if p.cause != nil {
		n.cancel(p.cause)
	}
}

// finish marks the owner of n as finished; n leaves the tree once it has no
// children left (tasks spawned with its context may outlive it and must still
// hear about cancellations from above).
func (n *node) finish() {
	n.done = true
	if n.loop != nil && n.loop.cleanups > 0 {
		for c := n.first; c != nil; {
			next := c.next
			if c.scope == scopeCleanup {
				c.finish() // its owner is done
			}
			c = next
		}
	}
	if n.first == nil {
		n.detach()
	}
}

func (n *node) detach() {
	if x := n.ext; x != nil {
		if x.stopAfter != nil {
			x.stopAfter()
			x.stopAfter = nil
		}
		if x.timer != nil {
			x.timer.Cancel()
			x.timer = nil
		}
	}
	if !n.linked {
		return
	}
	if n.scope == scopeCleanup {
		n.loop.cleanups--
	}
	n.linked = false
	p := n.parent
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		p.first = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	}
	n.prev, n.next, n.parent = nil, nil, nil
	if p.done && p.first == nil {
		p.detach()
	}
}

// cancel cancels n and everything below it with cause, and wakes the tasks
// suspended on them. It runs on the loop's goroutine.
func (n *node) cancel(cause error) {
	if n.cause != nil {
		if n.loop != nil && n.loop.cleanups > 0 {
			// A later cancellation: it reaches the Cleanup contexts below.
			for c := n.first; c != nil; c = c.next {
				c.cancel(cause)
			}
		}
		return
	}
	if n.absorb {
		n.absorb = false // the cancellation the cleanup runs after
		return
	}
	flags := uint32(flagCancelled)
	if _, plain := cause.(*CancelledError); !plain && errors.Is(cause, context.DeadlineExceeded) {
		flags |= flagDeadline
	}
	n.cause = cause
	n.flags.Store(flags)
	if s := n.std.Load(); s != nil {
		s.cancel(cause)
	}
	for w := n.waiters; w != nil; w = w.parkNext {
		w.t.cancelWake()
	}
	for c := n.first; c != nil; c = c.next {
		c.cancel(cause)
	}
}

func (n *node) addWaiter(w *worker) {
	w.parkNode = n
	w.parkPrev = nil
	w.parkNext = n.waiters
	if n.waiters != nil {
		n.waiters.parkPrev = w
	}
	n.waiters = w
}

func (n *node) removeWaiter(w *worker) {
	if w.parkPrev != nil {
		w.parkPrev.parkNext = w.parkNext
	} else {
		n.waiters = w.parkNext
	}
	if w.parkNext != nil {
		w.parkNext.parkPrev = w.parkPrev
	}
	w.parkPrev, w.parkNext, w.parkNode = nil, nil, nil
}

// waitCtx is a context classified for waiting: how its cancellation reaches a
// suspended task.
type waitCtx struct {
	ctx  context.Context
	n    *node
	mode uint8
}

const (
	waitNode    uint8 = iota // cancelled exactly when node n is
	waitNever                // cannot be cancelled
	waitForeign              // cancelled by something the tree does not own
)

func classify(ctx context.Context, n *node) waitCtx {
	if ctx == context.Context(n) {
		return waitCtx{ctx, n, waitNode}
	}
	done := ctx.Done()
	switch {
	case done == nil:
		return waitCtx{ctx, n, waitNever}
	case done == n.Done():
		return waitCtx{ctx, n, waitNode}
	}
	return waitCtx{ctx, n, waitForeign}
}

// causeOf returns the cancellation cause of ctx as an Await made with it
// would, or nil.
func causeOf(ctx context.Context) error {
	n := nodeOf(ctx)
	if n == nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	wc := classify(ctx, n)
	return wc.cause()
}

// cause returns the cancellation cause of the context, or nil.
func (w *waitCtx) cause() error {
	var c error
	switch w.mode {
	case waitNode:
		c = w.n.cause
	case waitForeign:
		if w.ctx.Err() != nil {
			c = context.Cause(w.ctx)
		}
	}
	if c != nil {
		w.n.loop.delivered()
	}
	return c
}

// delivered notes that an Await of the running task returned a cancellation:
// a task whose Cancel has been delivered may go on and return a value (it
// caught the cancellation); one whose Cancel never was ends cancelled (see
// execute).
func (l *Loop) delivered() {
	if t := l.current; t != nil {
		t.cancel |= cancelSeen
	}
}
