package aio

import (
	"testing"
	"unsafe"
)

func TestSizes(t *testing.T) {
	t.Logf("Task[struct{}]=%d task=%d fut=%d node=%d waiter=%d worker=%d", unsafe.Sizeof(Task[struct{}]{}), unsafe.Sizeof(task{}), unsafe.Sizeof(fut{}), unsafe.Sizeof(node{}), unsafe.Sizeof(waiter{}), unsafe.Sizeof(worker{}))
	if cancelCtxKey == nil {
		t.Fatal("the probe did not learn context's cancelCtxKey; nodes fall back to making their stdlib context at once")
	}
}
