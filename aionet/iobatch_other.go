//go:build unix && !linux

package aionet

import "github.com/aio-go/aio"

// ioBatch is io_uring's batch of reads and sends, which only Linux has:
// elsewhere the transports read and write at once.
type ioBatch struct{}

func batchOf(*aio.Loop) *ioBatch { return nil }

func (t *fdTransport) readLater() { t.readReady() }

func (t *fdTransport) queue([]byte) bool { return false }

func (t *fdTransport) queued() []byte { return nil }
