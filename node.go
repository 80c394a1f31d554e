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
// Code that must still await during cleanup uses context.WithoutCancel(ctx) or
// Shield.
//
// A node embeds a standard library context made by context.WithCancelCause, so
// that Done, Err, context.Cause and contexts derived with context.With* behave
// exactly as users expect. Its parent for values is the context it was made
// from; its parent for cancellation is the tree, never the standard library's
// propagation (which would need a goroutine per foreign parent).
type node struct {
	context.Context // the stdlib cancel context: Done, Err, Value(&cancelCtxKey)
	cancelStd       context.CancelCauseFunc
	parentCtx       context.Context // values and, if no own deadline, Deadline
	loop            *Loop
	parent          *node
	first           *node // first child
	prev, next      *node // siblings
	waiters         *task // tasks suspended with this context (list via parkPrev/parkNext)
	task            *task // the task whose context this is; nil for scopes
	cause           error // set once, on the loop, when cancelled
	stopAfter       func() bool
	timer           *Handle      // a Timeout scope's timer
	deadline        atomic.Int64 // loop time in ns; noDeadline if none
	scope           uint8        // scopeTimeout, scopeGroup, or 0 for a task
	expired         bool         // the scope's own timer fired
	done            bool         // the owner finished; detach once childless
	linked          bool         // linked under parent
}

const noDeadline = math.MinInt64

// Kinds of scope nodes.
const (
	scopeTimeout uint8 = iota + 1
	scopeGroup
)

// nodeKey finds the nearest node in a context chain.
var nodeKey = new(byte)

// nodeValues is the node seen as the parent of its stdlib cancel context: it
// passes values through and has no cancellation of its own.
type nodeValues node

func (*nodeValues) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*nodeValues) Done() <-chan struct{}       { return nil }
func (*nodeValues) Err() error                  { return nil }
func (v *nodeValues) Value(key any) any         { return v.parentCtx.Value(key) }

// Value returns the node itself for nodeKey and defers to the chain otherwise.
func (n *node) Value(key any) any {
	if key == nodeKey {
		return n
	}
	return n.Context.Value(key)
}

// Deadline reports the earlier of the node's own deadline (a Timeout scope's,
// on the loop's clock) and its parent's.
func (n *node) Deadline() (time.Time, bool) {
	d, ok := n.parentCtx.Deadline()
	if ns := n.deadline.Load(); ns != noDeadline {
		own := n.loop.timeAt(ns)
		if !ok || own.Before(d) {
			return own, true
		}
	}
	return d, ok
}

// Err reports context.DeadlineExceeded when the node was cancelled by a
// timeout, and context.Canceled for any other cancellation.
func (n *node) Err() error {
	err := n.Context.Err()
	if err != nil && errors.Is(context.Cause(n.Context), context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

func (n *node) String() string {
	if n.task != nil {
		return "aio.Task(" + n.task.name + ").Context"
	}
	return "aio.Scope.Context"
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
	n := &node{loop: l, parentCtx: parent, task: t}
	n.deadline.Store(noDeadline)
	n.Context, n.cancelStd = context.WithCancelCause((*nodeValues)(n))
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
			n.stopAfter = context.AfterFunc(parent, func() {
				_ = l.CallSoonThreadsafe(func() { n.cancel(context.Cause(parent)) })
			})
		}
	}
	return n
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
	if n.first == nil {
		n.detach()
	}
}

func (n *node) detach() {
	if n.stopAfter != nil {
		n.stopAfter()
		n.stopAfter = nil
	}
	if n.timer != nil {
		n.timer.Cancel()
		n.timer = nil
	}
	if !n.linked {
		return
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
		return
	}
	n.cause = cause
	n.cancelStd(cause)
	for t := n.waiters; t != nil; t = t.parkNext {
		t.wake()
	}
	for c := n.first; c != nil; c = c.next {
		c.cancel(cause)
	}
}

func (n *node) addWaiter(t *task) {
	t.parkNode = n
	t.parkPrev = nil
	t.parkNext = n.waiters
	if n.waiters != nil {
		n.waiters.parkPrev = t
	}
	n.waiters = t
}

func (n *node) removeWaiter(t *task) {
	if t.parkPrev != nil {
		t.parkPrev.parkNext = t.parkNext
	} else {
		n.waiters = t.parkNext
	}
	if t.parkNext != nil {
		t.parkNext.parkPrev = t.parkPrev
	}
	t.parkPrev, t.parkNext, t.parkNode = nil, nil, nil
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

// cause returns the cancellation cause of the context, or nil.
func (w *waitCtx) cause() error {
	switch w.mode {
	case waitNode:
		return w.n.cause
	case waitForeign:
		if w.ctx.Err() != nil {
			return context.Cause(w.ctx)
		}
	}
	return nil
}
