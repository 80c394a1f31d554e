package aiohttp

// OpenConns returns the number of connections s has open, busy or idle.
func OpenConns(s *Session) int { return s.open }
