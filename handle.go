package aio

import (
	"math"
	"math/rand/v2"
	"time"
)

// A Handle is a callback scheduled on a loop by CallSoon, CallLater or CallAt.
// Its methods belong to the loop: call them from the loop's goroutine (a task
// or a callback of the same loop).
type Handle struct {
	fn        func()
	t         *task // wake this task instead of calling fn (Sleep's timer)
	loop      *Loop
	when      int64  // loop time in ns, for timers
	seq       uint64 // FIFO order among timers due at the same instant
	index     int    // position in the timer heap, -1 when not in it
	cancelled bool
}

// Cancel cancels the callback: it will not run if it has not run yet.
// Cancelling twice, or after the callback ran, does nothing.
func (h *Handle) Cancel() {
	if h.loop.misused() {
		h.loop.handOver(h.Cancel)
		return
	}
	if h.cancelled {
		return
	}
	h.cancelled = true
	if h.index >= 0 {
		h.loop.timers.remove(h.index)
	}
}

// Cancelled reports whether Cancel was called.
func (h *Handle) Cancelled() bool { return h.cancelled }

// When returns the time on the loop's clock at which a timer callback is due;
// for CallSoon it returns the zero time.
func (h *Handle) When() time.Time {
	if h.when < 0 {
		return time.Time{}
	}
	return h.loop.timeAt(h.when)
}

// getTimer returns a timer handle for Sleep from the loop's free list.
func (l *Loop) getTimer() *Handle {
	if n := len(l.freeTimers); n > 0 {
		h := l.freeTimers[n-1]
		l.freeTimers = l.freeTimers[:n-1]
		return h
	}
	return &Handle{loop: l, index: -1}
}

func (l *Loop) putTimer(h *Handle) {
	if h.index < 0 && len(l.freeTimers) < 1024 {
		h.t = nil
		l.freeTimers = append(l.freeTimers, h)
	}
}

// addSat is now + d, saturating instead of overflowing for huge d (a sleep
// "forever").
func addSat(now int64, d time.Duration) int64 {
	if d > 0 && now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return now + int64(d)
}

// timerHeap is a binary min-heap of timers ordered by (when, seq).
type timerHeap []*Handle

func (h timerHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) push(t *Handle) {
	t.index = len(*h)
	*h = append(*h, t)
	h.up(t.index)
}

// pop removes and returns the earliest timer.
func (h *timerHeap) pop() *Handle {
	return h.remove(0)
}

func (h *timerHeap) remove(i int) *Handle {
	old := *h
	n := len(old) - 1
	t := old[i]
	if i != n {
		old.swap(i, n)
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	t.index = -1
	return t
}

func (h timerHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h timerHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h.less(r, j) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// readyItem is an entry of the ready queue: a task to resume or a callback.
type readyItem struct {
	t *task
	h *Handle
}

// ring is the FIFO ready queue, a growable ring buffer.
type ring struct {
	buf        []readyItem
	head, size int
	quiet      int // passes in a row that used under a quarter of the room
}

// ringKeep is the capacity a ring keeps however idle it gets; ringQuiet is
// how many quiet passes in a row halve a larger one.
const (
	ringKeep  = 1024
	ringQuiet = 64
)

func (r *ring) push(it readyItem) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.size)&(len(r.buf)-1)] = it
	r.size++
}

// shuffle puts the queued items in a random order.
func (r *ring) shuffle(rng *rand.Rand) {
	mask := len(r.buf) - 1
	for i := r.size - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		a, b := (r.head+i)&mask, (r.head+j)&mask
		r.buf[a], r.buf[b] = r.buf[b], r.buf[a]
	}
}

func (r *ring) front() readyItem {
	if r.size == 0 {
		return readyItem{}
	}
	return r.buf[r.head]
}

func (r *ring) pop() readyItem {
	it := r.buf[r.head]
	r.buf[r.head] = readyItem{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.size--
	return it
}

// settle is called at the start of each pass. A burst does not hold its
// memory for ever: a ring that began ringQuiet passes in a row under a
// quarter full halves, while a loop that bursts now and then keeps its room.
// push and pop pay nothing for it.
func (r *ring) settle() {
	if len(r.buf) <= ringKeep {
		return
	}
	if r.size >= len(r.buf)/4 {
		r.quiet = 0
		return
	}
	if r.quiet++; r.quiet == ringQuiet {
		r.quiet = 0
		r.resize(len(r.buf) / 2)
	}
}

func (r *ring) grow() {
	r.resize(max(64, 2*len(r.buf)))
}

// resize moves the items to a buffer of n slots, a power of two.
func (r *ring) resize(n int) {
	buf := make([]readyItem, n)
	for i := 0; i < r.size; i++ {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}
