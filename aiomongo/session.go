package aiomongo

import (
	"context"
	"errors"
	"time"

	"github.com/aio-go/aio"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Session is a logical session of the server (Motor's
// AsyncIOMotorClientSession): causally consistent reads, and transactions.
// It belongs to the task that started it, as the driver's belongs to one
// goroutine at a time.
type Session struct{ s *mongo.Session }

// StartSession starts a session. End ends it.
func (c *Client) StartSession(ctx context.Context, opts ...options.Lister[options.SessionOptions]) (*Session, error) {
	s, err := aio.ToGoroutine(ctx, func(context.Context) (*mongo.Session, error) { return c.c.StartSession(opts...) })
	if err != nil {
		return nil, err
	}
	return &Session{s}, nil
}

// End ends the session, aborting a transaction it has open.
func (s *Session) End(ctx context.Context) {
	_ = run(ctx, func(ctx context.Context) error { s.s.EndSession(ctx); return nil })
}

// Context returns ctx carrying the session: the operations of this package
// (and the driver's) given it run in the session.
func (s *Session) Context(ctx context.Context) context.Context {
	return mongo.NewSessionContext(ctx, s.s)
}

// WithTransaction runs fn in a transaction and commits it (Motor's
// with_transaction), retrying fn and the commit on the errors the server
// labels transient for up to two minutes, as the driver's does. fn runs in
// the calling task, so it can await anything: other collections, aio.Sleep,
// an HTTP backend. Its ctx carries the session, and the operations made with
// it are part of the transaction; fn must not commit or abort it itself. If
// fn returns an error, the transaction is aborted and WithTransaction
// returns that error.
//
// The retry loop is the one the drivers' specification gives ("convenient
// transaction API"), run on the loop: the driver's own runs its callback on
// the goroutine that calls it, where a task's awaits are not allowed.
func (s *Session) WithTransaction(ctx context.Context, fn func(ctx context.Context) error, opts ...options.Lister[options.TransactionOptions]) error {
	l := aio.LoopOf(ctx)
	if l == nil {
		return aio.ErrNoTask
	}
	deadline := l.Now().Add(transactionRetryLimit)
	retry := func(err error, label string) bool { return hasLabel(err, label) && l.Now().Before(deadline) }
	sctx := s.Context(ctx)
	for {
		if err := s.s.StartTransaction(opts...); err != nil {
			return err
		}
		if err := fn(sctx); err != nil {
			_ = run(context.WithoutCancel(sctx), s.s.AbortTransaction)
			if retry(err, "TransientTransactionError") {
				continue
			}
			return err
		}
		for {
			err := run(sctx, s.s.CommitTransaction)
			switch {
			case err == nil:
				return nil
			case !isMaxTimeExpired(err) && retry(err, "UnknownTransactionCommitResult"):
				continue
			case retry(err, "TransientTransactionError"):
			default:
				return err
			}
			break // retry the whole transaction
		}
	}
}

// transactionRetryLimit is how long WithTransaction retries, as the
// drivers' specification has it.
const transactionRetryLimit = 120 * time.Second

func hasLabel(err error, label string) bool {
	var le mongo.LabeledError
	return errors.As(err, &le) && le.HasErrorLabel(label)
}

func isMaxTimeExpired(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(50) // MaxTimeMSExpired
}
