package aiohttp

import "context"

// OpenConns returns the number of connections s has open, busy or idle.
func OpenConns(s *Session) int { return s.open }

// SendUnchecked sends a message as Send does, without its checks: a peer
// that breaks the protocol.
func (ws *WebSocket) SendUnchecked(ctx context.Context, kind MessageType, data []byte) error {
	return ws.write(ctx, func() error { return ws.c.WriteMessage(int(kind), data) })
}
