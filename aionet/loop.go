package aionet

import (
	"context"

	"github.com/aio-go/aio"
)

// loopOf returns the loop of ctx, or aio.ErrNoTask.
func loopOf(ctx context.Context) (*aio.Loop, error) {
	if l := aio.LoopOf(ctx); l != nil {
		return l, nil
	}
	return nil, aio.ErrNoTask
}
