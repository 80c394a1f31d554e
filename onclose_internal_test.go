package aio

import "testing"

// A callback unregistered by its stop leaves nothing behind: a server that
// registers one per connection must not grow for as long as it runs.
func TestOnCloseStopLeavesNothing(t *testing.T) {
	l := NewLoop()
	var ran []int
	kept := l.OnClose(func() { ran = append(ran, 1) })
	for range 1000 {
		stop := l.OnClose(func() { t.Error("a stopped callback ran") })
		if !stop() || stop() {
			t.Fatal("stop: want true, then false")
		}
	}
	l.OnClose(func() { ran = append(ran, 2) })
	n := 0
	for h := l.closeHead; h != nil; h = h.next {
		n++
	}
	if n != 2 {
		t.Errorf("%d callbacks registered after 1,000 came and went; want 2", n)
	}
	l.Close()
	if len(ran) != 2 || ran[0] != 1 || ran[1] != 2 {
		t.Errorf("callbacks ran as %v; want [1 2]", ran)
	}
	if kept() {
		t.Error("stop after the callback ran reported true")
	}
}
