package aio

import (
	"context"
	"errors"
)

// The synchronisation primitives of asyncio (asyncio.Lock, Event, Condition,
// Semaphore, BoundedSemaphore, Barrier). They coordinate the tasks of one
// loop, not goroutines: their zero values are ready to use, each binds to the
// loop of the first task that waits on it, and waiting on it from another
// loop returns ErrOtherLoop. Waiters are served in FIFO order. A waiter whose
// context is cancelled leaves the queue at once and returns the cause; one
// that was handed the lock, a permit or a notification and is cancelled
// before it runs passes it on to the next waiter, as asyncio does, so nothing
// is ever lost or leaked. Misuse (unlocking a lock that is not held,
// releasing a bounded semaphore too often) panics, as sync.Mutex does.

// Lock is a mutual-exclusion lock for tasks (asyncio.Lock). Holding it across
// Awaits is what it is for; a sync.Mutex held across an Await would block the
// loop.
type Lock struct {
	loop    loopRef
	locked  bool
	waiters waitq
}

// Lock acquires the lock, waiting in FIFO order if it is held (asyncio's
// async with lock / acquire). It returns the cause if ctx is cancelled first;
// the lock is then not held.
func (l *Lock) Lock(ctx context.Context) error {
	if !l.locked && l.waiters.n == 0 {
		l.locked = true
		return nil
	}
	// Unlock hands the lock over: granted means it is ours.
	granted, err := l.waiters.wait(ctx, &l.loop, waitLock)
	if granted && err != nil {
		l.Unlock() // cancelled before it could use it: pass it on
	}
	return err
}

// TryLock acquires the lock if it is free and nobody waits for it.
func (l *Lock) TryLock() bool {
	if l.loop.misused() || l.locked || l.waiters.n > 0 {
		return false
	}
	l.locked = true
	return true
}

// Unlock releases the lock and hands it to the first waiter. It panics if
// the lock is not held.
func (l *Lock) Unlock() {
	if l.loop.misused() {
		l.loop.handOver(l.Unlock)
		return
	}
	if !l.locked {
		panic("aio: Unlock of an unlocked Lock")
	}
	if !l.waiters.wakeFirst() {
		l.locked = false
	}
}

// Locked reports whether the lock is held.
func (l *Lock) Locked() bool { return l.locked }

// Event is a flag that tasks can wait for (asyncio.Event).
type Event struct {
	loop    loopRef
	set     bool
	io      bool // aionet's wait for a descriptor (edge.MarkIO), for observers
	waiters waitq
}

// kind is what a task waiting on e waits for, for observers.
func (e *Event) kind() uint8 {
	if e.io {
		return waitIO
	}
	return waitEvent
}

// Wait waits until the event is set. It returns at once if it is.
func (e *Event) Wait(ctx context.Context) error {
	if e.set {
		return nil
	}
	_, err := e.waiters.wait(ctx, &e.loop, e.kind())
	return err
}

// Set sets the event and wakes every task waiting for it.
func (e *Event) Set() {
	if e.loop.misused() {
		e.loop.handOver(e.Set)
		return
	}
	e.set = true
	e.waiters.wakeAll()
}

// Clear resets the event: Wait waits again until Set.
func (e *Event) Clear() {
	if e.loop.misused() {
		e.loop.handOver(e.Clear)
		return
	}
	e.set = false
}

// IsSet reports whether the event is set.
func (e *Event) IsSet() bool { return e.set }

// Condition lets tasks wait until another task notifies them, holding a Lock
// around the state they look at (asyncio.Condition). The zero value uses a
// lock of its own; NewCondition shares one.
type Condition struct {
	l       *Lock
	own     Lock
	loop    loopRef
	waiters waitq
}

// NewCondition returns a condition that uses l as its lock, or a lock of its
// own if l is nil.
func NewCondition(l *Lock) *Condition { return &Condition{l: l} }

func (c *Condition) lock() *Lock {
	if c.l == nil {
		c.l = &c.own
	}
	return c.l
}

// Lock acquires the condition's lock; see [Lock.Lock].
func (c *Condition) Lock(ctx context.Context) error { return c.lock().Lock(ctx) }

// Unlock releases the condition's lock; see [Lock.Unlock].
func (c *Condition) Unlock() { c.lock().Unlock() }

// Locked reports whether the condition's lock is held.
func (c *Condition) Locked() bool { return c.lock().Locked() }

// Wait releases the lock, waits for Notify or NotifyAll, and takes the lock
// again before it returns, even when ctx is cancelled (it then returns the
// cause, holding the lock; only a closing loop returns without it). It panics
// if the lock is not held.
func (c *Condition) Wait(ctx context.Context) error {
	l := c.lock()
	if !l.locked {
		panic("aio: Condition.Wait without holding its lock")
	}
	l.Unlock()
	notified, err := c.waiters.wait(ctx, &c.loop, waitCondition)
	// Take the lock back whatever happened; only the loop closing stops it.
	if lerr := l.Lock(context.WithoutCancel(ctx)); lerr != nil {
		if err == nil {
			err = lerr
		}
		return err
	}
	if err == nil {
		// Cancelled while taking the lock back: the notification was not used.
		if err = causeOf(ctx); err != nil {
			notified = true
		}
	}
	if notified && err != nil {
		c.Notify(1) // pass the unused notification on
	}
	return err
}

// WaitFor waits until pred returns true, as a loop of Wait; pred is called
// with the lock held.
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	for !pred() {
		if err := c.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes up to n tasks waiting on the condition. It panics if the lock
// is not held.
func (c *Condition) Notify(n int) {
	if c.loop.misused() {
		c.loop.handOver(func() { c.Notify(n) })
		return
	}
	if !c.lock().locked {
		panic("aio: Condition.Notify without holding its lock")
	}
	for ; n > 0 && c.waiters.wakeFirst(); n-- {
	}
}

// NotifyAll wakes every task waiting on the condition. It panics if the lock
// is not held.
func (c *Condition) NotifyAll() { c.Notify(c.waiters.n) }

// Semaphore is a counter of permits that tasks acquire and release
// (asyncio.Semaphore, and asyncio.BoundedSemaphore when made by
// NewBoundedSemaphore).
type Semaphore struct {
	loop    loopRef
	value   int
	bound   int // the most permits Release may bring back; 0: no bound
	handing int // permits handed to woken waiters that have not run yet
	waiters waitq
}

// NewSemaphore returns a semaphore with n permits. It panics if n < 0.
func NewSemaphore(n int) *Semaphore {
	if n < 0 {
		panic("aio: NewSemaphore with a negative count")
	}
	return &Semaphore{value: n}
}

// NewBoundedSemaphore returns a semaphore with n permits whose Release panics
// if it would bring the count above n.
func NewBoundedSemaphore(n int) *Semaphore {
	s := NewSemaphore(n)
	s.bound = n
	return s
}

// Acquire takes a permit, waiting in FIFO order if there is none. It returns
// the cause if ctx is cancelled first; no permit is then taken.
func (s *Semaphore) Acquire(ctx context.Context) error {
	if !s.Locked() {
		s.value--
		return nil
	}
	granted, err := s.waiters.wait(ctx, &s.loop, waitSemaphore) // Release hands the permit over
	if granted {
		s.handing--
		if err != nil {
			s.value++ // cancelled before it could use it: pass it on
		}
	}
	// Permits released while others waited behind this task (FIFO made
	// them wait though some were free) go to them now, as asyncio does.
	for s.value > 0 && s.waiters.wakeFirst() {
		s.value--
		s.handing++
	}
	return err
}

// TryAcquire takes a permit if one is free and nobody waits.
func (s *Semaphore) TryAcquire() bool {
	if s.loop.misused() {
		return false
	}
	if !s.Locked() {
		s.value--
		return true
	}
	return false
}

// Release gives a permit back, to the first waiter if there is one. A bounded
// semaphore panics if the count would go above its initial value.
func (s *Semaphore) Release() {
	if s.loop.misused() {
		s.loop.handOver(s.Release)
		return
	}
	if s.bound > 0 && s.value+s.handing >= s.bound {
		panic("aio: BoundedSemaphore released too many times")
	}
	if s.waiters.wakeFirst() {
		s.handing++
		return
	}
	s.value++
}

// Locked reports whether Acquire would wait: no permit is free, or tasks
// wait for one or were handed one and have not run yet (FIFO).
func (s *Semaphore) Locked() bool { return s.value == 0 || s.waiters.n > 0 || s.handing > 0 }

// Value returns the number of free permits.
func (s *Semaphore) Value() int { return s.value }

// ErrBrokenBarrier is returned by Barrier.Wait when the barrier is aborted or
// reset while the task waits, or was broken before it came.
var ErrBrokenBarrier = errors.New("aio: barrier is broken")

type barrierState uint8

const (
	barrierFilling barrierState = iota
	barrierDraining
	barrierResetting
	barrierBroken
)

// Barrier makes a set number of tasks wait until all of them have arrived
// (asyncio.Barrier). It can be used again once they have all left.
type Barrier struct {
	loop    loopRef
	parties int
	count   int
	state   barrierState
	waiters waitq
}

// NewBarrier returns a barrier for parties tasks. It panics if parties < 1.
func NewBarrier(parties int) *Barrier {
	if parties < 1 {
		panic("aio: NewBarrier with fewer than one party")
	}
	return &Barrier{parties: parties}
}

// Wait waits until parties tasks are waiting, then lets them all go. It
// returns the task's arrival index, from 0 to parties-1. It returns
// ErrBrokenBarrier if the barrier is or becomes broken (Abort, Reset), and the
// cause if ctx is cancelled first.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	// Wait while the previous round drains or resets.
	for b.state == barrierDraining || b.state == barrierResetting {
		if _, err := b.waiters.wait(ctx, &b.loop, waitBarrier); err != nil {
			return 0, err
		}
	}
	if b.state == barrierBroken {
		return 0, ErrBrokenBarrier
	}
	index := b.count
	b.count++
	defer b.leave()
	if index+1 == b.parties {
		b.state = barrierDraining
		b.waiters.wakeAll()
		return index, nil
	}
	for b.state == barrierFilling {
		if _, err := b.waiters.wait(ctx, &b.loop, waitBarrier); err != nil {
			return 0, err
		}
	}
	if b.state == barrierBroken || b.state == barrierResetting {
		return 0, ErrBrokenBarrier
	}
	return index, nil
}

func (b *Barrier) leave() {
	b.count--
	if b.count == 0 {
		if b.state == barrierResetting || b.state == barrierDraining {
			b.state = barrierFilling
		}
		b.waiters.wakeAll()
	}
}

// Reset puts the barrier back to its empty state; tasks waiting on it get
// ErrBrokenBarrier.
func (b *Barrier) Reset() {
	if b.loop.misused() {
		b.loop.handOver(b.Reset)
		return
	}
	if b.count > 0 {
		b.state = barrierResetting
	} else {
		b.state = barrierFilling
	}
	b.waiters.wakeAll()
}

// Abort breaks the barrier: waiting tasks and later Waits get
// ErrBrokenBarrier, until Reset.
func (b *Barrier) Abort() {
	if b.loop.misused() {
		b.loop.handOver(b.Abort)
		return
	}
	b.state = barrierBroken
	b.waiters.wakeAll()
}

// Parties returns the number of tasks the barrier waits for.
func (b *Barrier) Parties() int { return b.parties }

// Waiting returns the number of tasks waiting in the filling barrier.
func (b *Barrier) Waiting() int {
	if b.state == barrierFilling {
		return b.count
	}
	return 0
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool { return b.state == barrierBroken }
