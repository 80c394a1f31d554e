//go:build unix && !linux

package aionet

import "github.com/aio-go/aio"

// sendBatch is io_uring's batch of sends, which only Linux has: elsewhere
// the transports write at once.
type sendBatch struct{}

func sendBatchOf(*aio.Loop) *sendBatch { return nil }

func (t *fdTransport) queue([]byte) bool { return false }

func (t *fdTransport) queued() []byte { return nil }
