package aio

import (
	"runtime"
	"sync"
	"testing"
)

// blockRunner is a call that waits for release.
type blockRunner struct {
	started *sync.WaitGroup
	release chan struct{}
}

func (r blockRunner) run() {
	r.started.Done()
	<-r.release
}

// TestPoolReapsIdleGoroutines: the reaper keeps the goroutines that were
// busy at once since its last run and retires the others, once they wait.
func TestPoolReapsIdleGoroutines(t *testing.T) {
	var p threadPool
	defer p.stop()
	var started sync.WaitGroup
	release := make(chan struct{})
	started.Add(3)
	for range 3 {
		p.start(blockRunner{&started, release})
	}
	started.Wait()
	if a, b := p.alive.Load(), p.peak.Load(); a != 3 || b != 3 {
		t.Fatalf("alive %d, peak %d; want 3 and 3", a, b)
	}
	close(release)
	for p.busy.Load() > 0 {
		runtime.Gosched()
	}
	p.reap() // all three were needed since the last run: none goes
	if a := p.alive.Load(); a != 3 {
		t.Fatalf("after a period with three busy: alive %d, want 3", a)
	}
	if pk := p.peak.Load(); pk != 0 {
		t.Fatalf("peak after reap %d, want 0 (none busy)", pk)
	}
	// A period with none busy: all three go (each once it waits for work).
	for i := 0; p.alive.Load() > 0; i++ {
		if i == 1e6 {
			t.Fatalf("alive %d after a period with none busy", p.alive.Load())
		}
		p.reap()
		runtime.Gosched()
	}
	p.reap() // the retired may have ended after the run that retired them
	p.reapMu.Lock()
	armed := p.armed
	p.reapMu.Unlock()
	if armed {
		t.Error("the reaper is still armed with no goroutine left")
	}
	// The next call starts a goroutine and arms the reaper again.
	started.Add(1)
	release = make(chan struct{})
	p.start(blockRunner{&started, release})
	started.Wait()
	close(release)
	p.reapMu.Lock()
	armed = p.armed
	p.reapMu.Unlock()
	if !armed || p.alive.Load() != 1 {
		t.Errorf("after a new call: armed %v, alive %d", armed, p.alive.Load())
	}
}
