package aiomongo

import (
	"context"
	"sync/atomic"

	"github.com/aio-go/aio"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Client is a connection pool to a MongoDB deployment (Motor's
// AsyncIOMotorClient). It may be shared by the tasks of any number of loops.
type Client struct {
	c     *mongo.Client
	stats *clientStats
	plain bool // the driver's default registry and BSON options
}

// NewClient makes a client for uri (mongodb:// or mongodb+srv://), with
// opts applied after the URI. It does no I/O: the driver connects in the
// background, and the first operation waits for a server (Ping checks one
// is there). A pool monitor given in opts still gets every event; a dialer
// given in opts dials the connections instead of the client's own, which
// reads through a buffer.
func NewClient(uri string, opts ...*options.ClientOptions) (*Client, error) {
	st := &clientStats{}
	var pool *event.PoolMonitor
	var dialer options.ContextDialer = &bufferedDialer{}
	plain := true
	for _, o := range opts { // the last one set wins, as the driver merges them
		if o == nil {
			continue
		}
		if o.PoolMonitor != nil {
			pool = o.PoolMonitor
		}
		if o.Dialer != nil {
			dialer = o.Dialer
		}
		if o.Registry != nil || o.BSONOptions != nil {
			plain = false
		}
	}
	all := append([]*options.ClientOptions{options.Client().ApplyURI(uri).SetDialer(dialer)}, opts...)
	all = append(all, options.Client().SetPoolMonitor(st.poolMonitor(pool)))
	c, err := mongo.Connect(all...)
	if err != nil {
		return nil, err
	}
	return &Client{c, st, plain}, nil
}

// ClientStats are a client's connections and the operations waiting for one,
// as of a moment, for a dashboard, an exporter or a test.
type ClientStats struct {
	Open    int64 // connections open to the servers
	InUse   int64 // connections checked out by an operation
	Waiting int64 // operations waiting for a connection: the pool is at its MaxPoolSize
}

// Stats returns the client's figures now, from the driver's pool events (an
// operation holds a connection while its command is on the wire). Any
// goroutine may call it.
func (c *Client) Stats() ClientStats {
	return ClientStats{
		Open:    c.stats.open.Load(),
		InUse:   c.stats.inUse.Load(),
		Waiting: c.stats.waiting.Load(),
	}
}

// clientStats counts the driver's events, from its goroutines.
type clientStats struct{ open, inUse, waiting atomic.Int64 }

func (st *clientStats) poolMonitor(user *event.PoolMonitor) *event.PoolMonitor {
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		switch e.Type {
		case event.ConnectionCreated:
			st.open.Add(1)
		case event.ConnectionClosed:
			st.open.Add(-1)
		case event.ConnectionCheckOutStarted:
			st.waiting.Add(1)
		case event.ConnectionCheckOutFailed:
			st.waiting.Add(-1)
		case event.ConnectionCheckedOut:
			st.waiting.Add(-1)
			st.inUse.Add(1)
		case event.ConnectionCheckedIn:
			st.inUse.Add(-1)
		}
		if user != nil && user.Event != nil {
			user.Event(e)
		}
	}}
}

// Ping waits until a server answers (the primary's, by default).
func (c *Client) Ping(ctx context.Context) error {
	return run(ctx, func(ctx context.Context) error { return c.c.Ping(ctx, readpref.Primary()) })
}

// ListDatabaseNames returns the names of the databases that match filter.
func (c *Client) ListDatabaseNames(ctx context.Context, filter any) ([]string, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) ([]string, error) { return c.c.ListDatabaseNames(ctx, filter) })
}

// Disconnect closes the client's connections and stops its monitoring.
func (c *Client) Disconnect(ctx context.Context) error {
	return run(ctx, c.c.Disconnect)
}

// Database returns the database of that name (no I/O).
func (c *Client) Database(name string) *Database {
	return &Database{c.c.Database(name), c.plain}
}

// Driver returns the driver's client.
func (c *Client) Driver() *mongo.Client { return c.c }

// Database is a database of a deployment (Motor's AsyncIOMotorDatabase).
type Database struct {
	db    *mongo.Database
	plain bool // the driver's default registry and BSON options
}

// Collection returns the collection of that name (no I/O).
func (d *Database) Collection(name string) *Collection {
	return &Collection{d.db.Collection(name), d.plain}
}

// RunCommand runs a database command and returns the server's reply.
func (d *Database) RunCommand(ctx context.Context, cmd any) (bson.Raw, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (bson.Raw, error) { return d.db.RunCommand(ctx, cmd).Raw() })
}

// ListCollectionNames returns the names of the collections that match
// filter.
func (d *Database) ListCollectionNames(ctx context.Context, filter any) ([]string, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) ([]string, error) { return d.db.ListCollectionNames(ctx, filter) })
}

// Drop drops the database.
func (d *Database) Drop(ctx context.Context) error { return run(ctx, d.db.Drop) }

// Driver returns the driver's database.
func (d *Database) Driver() *mongo.Database { return d.db }

// run runs fn on a goroutine of its own (aio.ToGoroutine).
func run(ctx context.Context, fn func(context.Context) error) error {
	_, err := aio.ToGoroutine(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}
