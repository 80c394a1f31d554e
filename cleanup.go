package aio

import "context"

// Cleanup returns the context for cleanup code that must still await after
// the cancellation that unwinds it: asyncio's finally block, which may await
// after a CancelledError (a task that was cancelled or timed out closes a
// connection, flushes a buffer, tells a peer goodbye).
//
//	defer coll.Drop(aio.Cleanup(ctx))  // made now, outlives the coming cancellation
//	defer func() {
//		fmt.Println("cancelled")
//		aio.Sleep(aio.Cleanup(ctx), 5*time.Second) // awaits although ctx is cancelled
//	}()
//
// A cleanup context keeps ctx's values and outlives one cancellation of ctx:
// the one that has already happened when Cleanup is called, or else the next
// one (a defer's arguments are evaluated when the defer statement runs). Any
// later cancellation — the task cancelled again, a timeout around it that
// expires later — cancels the cleanup too, as a second Task.cancel interrupts a
// finally block in asyncio. context.WithoutCancel, by contrast, makes the
// cleanup immune to everything. A cleanup context reports no deadline.
//
// Cleanup must be called from a task of ctx's loop; elsewhere it returns
// context.WithoutCancel(ctx).
func Cleanup(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	n := nodeOf(ctx)
	if n == nil || !n.loop.mayUse() || n.loop.current == nil {
		return context.WithoutCancel(ctx)
	}
	c := &node{loop: n.loop, parentCtx: ctx, scope: scopeCleanup}
	if n.cause == nil {
		c.absorb = true // the cancellation still to come is the one it outlives
	}
	if cancelCtxKey == nil {
		c.stdContext()
	}
	c.parent, c.next = n, n.first // link without taking n's cancellation
	if n.first != nil {
		n.first.prev = c
	}
	n.first = c
	c.linked = true
	n.loop.cleanups++
	return c
}
