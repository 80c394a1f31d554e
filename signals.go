package aio

import (
	"os"
	"os/signal"
)

// signals is a loop's signal handling: one goroutine receives the signals
// and hands them to the loop.
type signals struct {
	handlers map[os.Signal]func()
	ch       chan os.Signal
	done     chan struct{}
}

// AddSignalHandler runs fn on the loop whenever the process receives sig
// (asyncio's loop.add_signal_handler), instead of the signal's default
// action. It replaces a handler already set for sig.
func (l *Loop) AddSignalHandler(sig os.Signal, fn func()) error {
	if l.closing || l.closed {
		return ErrClosed
	}
	s := &l.signals
	if s.handlers == nil {
		s.handlers = make(map[os.Signal]func())
		s.ch = make(chan os.Signal, 8)
		s.done = make(chan struct{})
		go func(ch chan os.Signal, done chan struct{}) {
			for {
				select {
				case sig := <-ch:
					l.CallSoonThreadsafe(func() {
						if fn := l.signals.handlers[sig]; fn != nil {
							fn()
						}
					})
				case <-done:
					return
				}
			}
		}(s.ch, s.done)
	}
	s.handlers[sig] = fn
	signal.Notify(s.ch, sig)
	return nil
}

// RemoveSignalHandler removes the handler of sig, whose default action
// applies again; it reports whether there was one.
func (l *Loop) RemoveSignalHandler(sig os.Signal) bool {
	s := &l.signals
	if _, ok := s.handlers[sig]; !ok {
		return false
	}
	delete(s.handlers, sig)
	signal.Reset(sig)
	return true
}

// closeSignals stops the signal goroutine when the loop closes.
func (l *Loop) closeSignals() {
	s := &l.signals
	if s.handlers == nil {
		return
	}
	signal.Stop(s.ch)
	for sig := range s.handlers {
		signal.Reset(sig)
	}
	close(s.done)
	s.handlers = nil
}
