// Package embedded runs a MongoDB-compatible server inside the process
// (FerretDB, storing its data in SQLite files in a temporary directory), so
// that demos and tests of aiomongo need no server installed by hand. It is
// no production database: FerretDB implements most, not all, of MongoDB's
// commands (no change streams, for one).
package embedded

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is a running embedded server.
type Server struct {
	uri    string
	dir    string
	cancel context.CancelFunc
	done   chan error
}

// Start starts a server listening on a free loopback port, with an empty
// store. Close stops it and deletes its data. Logs go to logger; nil
// discards them.
func Start(logger *slog.Logger) (*Server, error) {
	dir, err := os.MkdirTemp("", "aiomongo-embedded-")
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- f.Run(ctx) }()
	s.uri = f.MongoDBURI() // waits until it listens
	if s.uri == "" || !strings.HasPrefix(s.uri, "mongodb://") {
		s.Close()
		return nil, errors.New("embedded: the server did not start")
	}
	return s, nil
}

// URI returns the server's connection string, mongodb://127.0.0.1:PORT/.
func (s *Server) URI() string { return s.uri }

// Close stops the server, waits until it has, and deletes its data.
func (s *Server) Close() error {
	s.cancel()
	err := <-s.done
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}
