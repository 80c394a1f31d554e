//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package poll

// New returns the fallback poller: this system has no poller the package
// knows.
func New() (Poller, error) { return NewFallback(), nil }
