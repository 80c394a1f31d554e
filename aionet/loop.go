package aionet

import (
	"context"
	"net"

	"github.com/aio-go/aio"
)

// loopOf returns the loop of ctx, or aio.ErrNoTask.
func loopOf(ctx context.Context) (*aio.Loop, error) {
	if l := aio.LoopOf(ctx); l != nil {
		return l, nil
	}
	return nil, aio.ErrNoTask
}

// reportUnclosed reports, in debug mode, a resource that its owner left open
// until the loop closed it (asyncio's "unclosed transport" warning).
func reportUnclosed(l *aio.Loop, what string, local, remote net.Addr) {
	if !l.Debug() {
		return
	}
	msg := "aionet: " + what + " on " + addrText(local)
	if remote != nil {
		msg += " to " + addrText(remote)
	}
	l.CallExceptionHandler(aio.ExceptionContext{Message: msg + " was not closed before its loop closed"})
}

func addrText(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}
