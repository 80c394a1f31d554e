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
	plain bool // the driver's default registry and BSON options
}

// NewClient makes a client for uri (mongodb:// or mongodb+srv://), with
// opts applied after the URI. It does no I/O: the driver connects in the
// background, and the first operation waits for a server (Ping checks one
// is there). A dialer given in opts dials the connections instead of the
// client's own, which reads through a buffer. To count the client's
// connections, give it a PoolCounter's Event as its pool monitor.
func NewClient(uri string, opts ...*options.ClientOptions) (*Client, error) {
	var dialer options.ContextDialer = &bufferedDialer{}
	plain := true
	for _, o := range opts { // the last one set wins, as the driver merges them
		if o == nil {
			continue
		}
		if o.Dialer != nil {
			dialer = o.Dialer
		}
		if o.Registry != nil || o.BSONOptions != nil {
			plain = false
		}
	}
	all := append([]*options.ClientOptions{options.Client().ApplyURI(uri).SetDialer(dialer)}, opts...)
	c, err := mongo.Connect(all...)
	if err != nil {
		return nil, err
	}
	return &Client{c, plain}, nil
}

// PoolCounter counts a client's connections from the driver's pool events,
// for a dashboard, an exporter or a test:
//
//	var pool aiomongo.PoolCounter
//	client, err := aiomongo.NewClient(uri, options.Client().SetPoolMonitor(&event.PoolMonitor{Event: pool.Event}))
//	…
//	fmt.Println(pool.Stats().InUse)
//
// The driver builds an event each time an operation checks a connection out
// and in (a few per cent of a short operation's CPU), so a client counts
// only when given one. The zero value is ready; any goroutine may use it.
type PoolCounter struct{ open, inUse, waiting atomic.Int64 }

// PoolStats are a client's connections and the operations waiting for one,
// as of a moment.
type PoolStats struct {
	Open    int64 // connections open to the servers
	InUse   int64 // connections checked out by an operation
	Waiting int64 // operations waiting for a connection: the pool is at its MaxPoolSize
}

// Event counts e: a PoolMonitor's Event function, which a monitor of the
// user's own may call too. A nil event counts for nothing.
func (p *PoolCounter) Event(e *event.PoolEvent) {
	if e == nil {
		return
	}
	switch e.Type {
	case event.ConnectionCreated:
		p.open.Add(1)
	case event.ConnectionClosed:
		p.open.Add(-1)
	case event.ConnectionCheckOutStarted:
		p.waiting.Add(1)
	case event.ConnectionCheckOutFailed:
		p.waiting.Add(-1)
	case event.ConnectionCheckedOut:
		p.waiting.Add(-1)
		p.inUse.Add(1)
	case event.ConnectionCheckedIn:
		p.inUse.Add(-1)
	}
}

// Stats returns the figures now (an operation holds a connection while its
// command is on the wire).
func (p *PoolCounter) Stats() PoolStats {
	return PoolStats{Open: p.open.Load(), InUse: p.inUse.Load(), Waiting: p.waiting.Load()}
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
