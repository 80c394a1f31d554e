// Package gen is Python's generator protocol on Go's coroutines: next, send,
// throw, close, a return value, and delegation (yield from). It is where the
// lecture starts — coroutines are generators that an event loop drives — and
// it stands alone: it owns no loop and must not import one.
//
// A generator's body runs on a coroutine of its own (iter.Pull), only while
// the caller is inside Next, Send, Throw or Close, and hands values out with
// Yielder.Yield:
//
//	g := gen.New(func(y *gen.Yielder[int, int]) (string, error) {
//		jump, err := y.Yield(1) // suspends; jump is what Send passed in
//		...
//		return "done", nil // the generator's return value
//	})
//	v, err := g.Next()
//
// A Generator is not safe for concurrent use.
package gen

import (
	"errors"
	"iter"
)

// Errors of the protocol.
var (
	// ErrStop is returned by Next, Send and Throw once the generator has
	// returned (StopIteration); its return value is Generator.Value.
	ErrStop = errors.New("gen: generator stopped")
	// ErrExit is returned by Yield when Close asks the generator to finish
	// (GeneratorExit). The body should clean up and return.
	ErrExit = errors.New("gen: generator exit")
	// ErrIgnoredExit is returned by Close when the body yielded again after
	// ErrExit; the body is then unwound (its deferred calls run).
	ErrIgnoredExit = errors.New("gen: generator ignored exit")
	// ErrRunning is returned when a generator is resumed from its own body.
	ErrRunning = errors.New("gen: generator already executing")
	// ErrNotStarted is returned by Send with a value before the generator has
	// run to its first Yield: start it with Next.
	ErrNotStarted = errors.New("gen: cannot send a value to a generator that has not started; call Next first")
)

// Generator is a suspended computation that yields values of type Y, receives
// values of type S and returns a value of type R.
type Generator[Y, S, R any] struct {
	next    func() (Y, bool)
	stop    func()
	y       Yielder[Y, S]
	ret     R
	err     error // the body's error, reported once
	started bool
	done    bool
	running bool
}

// Yielder is what a generator's body yields with.
type Yielder[Y, S any] struct {
	yield   func(Y) bool
	sent    S
	thrown  error
	closing bool
}

// unwind ends a body that ignored ErrExit.
type unwind struct{}

// New returns a generator that runs body when first resumed.
func New[Y, S, R any](body func(y *Yielder[Y, S]) (R, error)) *Generator[Y, S, R] {
	g := &Generator[Y, S, R]{}
	g.next, g.stop = iter.Pull(func(yield func(Y) bool) {
		g.y.yield = yield
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(unwind); !ok {
					panic(r)
				}
				g.err = ErrIgnoredExit
			}
		}()
		if err := g.y.thrown; err != nil { // thrown in before it started
			g.y.thrown = nil
			g.err = err
			return
		}
		g.ret, g.err = body(&g.y)
	})
	return g
}

// Yield hands v to the caller of Next, Send or Throw and suspends the body
// until the generator is resumed. It returns the value passed to Send (the
// zero value for Next: Python's None), or the error passed to Throw, or
// ErrExit when Close asks the body to finish.
func (y *Yielder[Y, S]) Yield(v Y) (S, error) {
	var zero S
	if y.closing {
		panic(unwind{}) // yielded again after ErrExit
	}
	if !y.yield(v) {
		y.closing = true
		return zero, ErrExit
	}
	s, err := y.sent, y.thrown
	y.sent, y.thrown = zero, nil
	if errors.Is(err, ErrExit) {
		y.closing = true
	}
	return s, err
}

// Next resumes the generator (next(g)) and returns the next value it yields.
// Once it has returned, Next returns ErrStop, or first the body's error.
func (g *Generator[Y, S, R]) Next() (Y, error) {
	var zero S
	return g.resume(zero, nil)
}

// Send resumes the generator with v as the result of its pending Yield
// (g.send(v)) and returns the next value it yields.
func (g *Generator[Y, S, R]) Send(v S) (Y, error) {
	if !g.started && !g.done {
		var zero Y
		return zero, ErrNotStarted
	}
	return g.resume(v, nil)
}

// Throw resumes the generator with err as the result of its pending Yield
// (g.throw(err)). If the body returns err, Throw returns it and the generator
// is done; if it handles err and yields again, Throw returns that value.
func (g *Generator[Y, S, R]) Throw(err error) (Y, error) {
	return g.resume(*new(S), err)
}

func (g *Generator[Y, S, R]) resume(s S, thrown error) (Y, error) {
	var zero Y
	switch {
	case g.running:
		return zero, ErrRunning
	case g.done:
		if err := g.err; err != nil { // an error All did not report
			g.err = nil
			return zero, err
		}
		if thrown != nil {
			return zero, thrown
		}
		return zero, ErrStop
	}
	g.started = true
	g.y.sent, g.y.thrown = s, thrown
	g.running = true
	defer func() { g.running = false }() // a panic in the body goes on to the caller
	v, ok := g.next()
	if ok {
		return v, nil
	}
	g.done = true
	if err := g.err; err != nil {
		g.err = nil
		return zero, err
	}
	return zero, ErrStop
}

// Close finishes the generator (g.close()): a body suspended in Yield gets
// ErrExit and should return; its deferred calls run. Close returns nil if the
// body returned (nil or ErrExit), ErrIgnoredExit if it yielded again, or the
// other error it returned. Closing a finished generator does nothing.
func (g *Generator[Y, S, R]) Close() error {
	if g.running {
		return ErrRunning
	}
	if g.done {
		return nil
	}
	g.done = true
	if !g.started {
		g.stop() // the body never runs
		return nil
	}
	g.running = true
	g.stop()
	g.running = false
	err := g.err
	g.err = nil
	if errors.Is(err, ErrExit) {
		return nil
	}
	return err
}

// Value returns the generator's return value, and whether it has returned.
func (g *Generator[Y, S, R]) Value() (R, bool) {
	return g.ret, g.done
}

// All returns an iterator over the values the generator yields, as Python's
// for loop and list() do: it resumes with Next until the generator stops, and
// breaking out of the loop closes it. A body error ends the iteration; it is
// returned by the next call to Next. It returns a single-use iterator.
func (g *Generator[Y, S, R]) All() iter.Seq[Y] {
	return func(yield func(Y) bool) {
		for {
			v, err := g.Next()
			if err != nil {
				if err != ErrStop {
					g.err = err // for the next call to Next
				}
				return
			}
			if !yield(v) {
				g.Close()
				return
			}
		}
	}
}

// YieldFrom delegates to sub until it returns (yield from, PEP 380): values
// sub yields go to the outer generator's caller, values sent and errors
// thrown into the outer generator go to sub, and Close closes sub. It returns
// sub's return value, or the error sub ended with.
func YieldFrom[Y, S, R any](y *Yielder[Y, S], sub *Generator[Y, S, R]) (R, error) {
	var zero R
	v, err := sub.Next()
	for {
		if err != nil {
			if err == ErrStop {
				r, _ := sub.Value()
				return r, nil
			}
			return zero, err
		}
		s, thrown := y.Yield(v)
		switch {
		case errors.Is(thrown, ErrExit):
			if cerr := sub.Close(); cerr != nil {
				return zero, cerr
			}
			return zero, thrown
		case thrown != nil:
			v, err = sub.Throw(thrown)
		default:
			v, err = sub.resume(s, nil)
		}
	}
}
