package aio

import "testing"

// The ready ring keeps FIFO order while it grows and shrinks, and gives a
// burst's memory back once the loop is quiet again.
func TestRingShrinksAfterBurst(t *testing.T) {
	var r ring
	h := make([]Handle, 3)
	next, want := 0, 0
	push := func(n int) {
		for range n {
			r.push(readyItem{h: &h[next%3]})
			next++
		}
	}
	popAll := func() { // one pass
		r.settle()
		for r.size > 0 {
			if it := r.pop(); it.h != &h[want%3] {
				t.Fatalf("item %d out of order", want)
			}
			want++
		}
	}
	push(100_000)
	popAll()
	big := len(r.buf)
	if big < 100_000 {
		t.Fatalf("ring of %d for 100,000 items", big)
	}
	for range ringQuiet - 1 { // a few quiet passes between bursts keep the room
		push(3)
		popAll()
	}
	if len(r.buf) != big {
		t.Errorf("%d quiet passes shrank the ring from %d to %d slots", ringQuiet-1, big, len(r.buf))
	}
	for range 10 * ringQuiet { // a loop gone quiet gives it back
		push(3)
		popAll()
	}
	if len(r.buf) != ringKeep {
		t.Errorf("after the burst and many quiet passes the ring holds %d slots; want %d", len(r.buf), ringKeep)
	}
	push(5000) // steady passes of 5,000 keep their room
	popAll()
	steady := len(r.buf)
	for range 5 {
		push(5000)
		popAll()
	}
	if len(r.buf) != steady {
		t.Errorf("steady passes of 5,000 resized the ring from %d to %d", steady, len(r.buf))
	}
}
