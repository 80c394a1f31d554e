//go:build unix

package aio_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/aio-go/aio"
)

// socketPairs returns n connected pairs of non-blocking Unix sockets, closed
// at the end of the test.
func socketPairs(t *testing.T, n int) [][2]int {
	t.Helper()
	pairs := make([][2]int, n)
	for i := range pairs {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			syscall.SetNonblock(fd, true)
			t.Cleanup(func() { syscall.Close(fd) })
		}
		pairs[i] = [2]int{fds[0], fds[1]}
	}
	return pairs
}

func TestReaderRunsUntilRemoved(t *testing.T) {
	defer noLeaks(t)()
	p := socketPairs(t, 1)[0]
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		l := aio.LoopOf(ctx)
		done := aio.NewFuture[string](ctx)
		var got []byte
		err := l.AddReader(uintptr(p[0]), func() {
			var b [1]byte
			if n, _ := syscall.Read(p[0], b[:]); n == 1 {
				got = append(got, b[0])
			}
			if len(got) == 3 {
				l.RemoveReader(uintptr(p[0]))
				done.SetResult(string(got))
			}
		})
		if err != nil {
			return err
		}
		syscall.Write(p[1], []byte("abc")) // one byte per callback: level-triggered
		s, err := done.Await(ctx)
		if s != "abc" || err != nil {
			return fmt.Errorf("read %q, %v", s, err)
		}
		if l.RemoveReader(uintptr(p[0])) {
			return fmt.Errorf("RemoveReader of a removed reader reported true")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
