package goid

import (
	"sync"
	"testing"
)

// TestG: the same goroutine gets the same answer, other live goroutines
// other answers.
func TestG(t *testing.T) {
	me := G()
	if me == 0 || G() != me {
		t.Fatalf("G() = %#x, then %#x", me, G())
	}
	const n = 50
	var mu sync.Mutex
	seen := map[uintptr]bool{me: true}
	var looked, done sync.WaitGroup
	ready := make(chan struct{})
	for range n {
		looked.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			g := G()
			mu.Lock()
			if seen[g] {
				t.Errorf("two live goroutines share %#x", g)
			}
			seen[g] = true
			mu.Unlock()
			looked.Done()
			<-ready // stay alive until all have looked
		}()
	}
	looked.Wait()
	close(ready)
	done.Wait()
}

// TestNum: Num reads the number runtime.Stack prints, for the caller and for
// another live goroutine.
func TestNum(t *testing.T) {
	if got, want := Num(G()), stackNum(); got != want {
		t.Fatalf("Num(G()) = %d, runtime.Stack says %d", got, want)
	}
	gs, want := make(chan uintptr), make(chan uint64)
	release := make(chan struct{})
	go func() { gs <- G(); want <- stackNum(); <-release }()
	g := <-gs
	if got, w := Num(g), <-want; got != w {
		t.Fatalf("Num(other) = %d, runtime.Stack says %d", got, w)
	}
	close(release)
}
