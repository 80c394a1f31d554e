package aiomongo

import (
	"context"
	"iter"
	"sync"

	"github.com/aio-go/aio"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection is a collection of documents (Motor's
// AsyncIOMotorCollection). Its methods are the driver's, each awaited by the
// calling task; documents, filters and updates are anything the driver takes
// (bson.M, bson.D, structs with bson tags).
type Collection struct {
	c     *mongo.Collection
	plain bool // the driver's default registry and BSON options
}

// InsertOne inserts doc and returns its _id in the result.
func (c *Collection) InsertOne(ctx context.Context, doc any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.InsertOneResult, error) { return c.c.InsertOne(ctx, doc, opts...) })
}

// InsertMany inserts docs, a slice.
func (c *Collection) InsertMany(ctx context.Context, docs any, opts ...options.Lister[options.InsertManyOptions]) (*mongo.InsertManyResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.InsertManyResult, error) { return c.c.InsertMany(ctx, docs, opts...) })
}

// FindOne decodes into v the first document that matches filter. It
// returns mongo.ErrNoDocuments if none does.
func (c *Collection) FindOne(ctx context.Context, filter, v any, opts ...options.Lister[options.FindOneOptions]) error {
	return run(ctx, func(ctx context.Context) error { return decodeResult(c.c.FindOne(ctx, filter, opts...), v, c.plain) })
}

// Find returns a cursor over the documents that match filter (Motor's
// find). It does no I/O until the cursor is read.
func (c *Collection) Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) *Cursor {
	return &Cursor{open: func(ctx context.Context) (*mongo.Cursor, error) { return c.c.Find(ctx, filter, opts...) }, plain: c.plain}
}

// Aggregate returns a cursor over the results of an aggregation pipeline.
// It does no I/O until the cursor is read.
func (c *Collection) Aggregate(ctx context.Context, pipeline any, opts ...options.Lister[options.AggregateOptions]) *Cursor {
	return &Cursor{open: func(ctx context.Context) (*mongo.Cursor, error) { return c.c.Aggregate(ctx, pipeline, opts...) }, plain: c.plain}
}

// FindOneAndUpdate applies update to the first document that matches
// filter and decodes into v that document, as it was before the update or,
// with options.FindOneAndUpdate().SetReturnDocument(options.After), after.
// It returns mongo.ErrNoDocuments if none matches.
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter, update, v any, opts ...options.Lister[options.FindOneAndUpdateOptions]) error {
	return run(ctx, func(ctx context.Context) error {
		return decodeResult(c.c.FindOneAndUpdate(ctx, filter, update, opts...), v, c.plain)
	})
}

// FindOneAndDelete deletes the first document that matches filter and
// decodes it into v. It returns mongo.ErrNoDocuments if none matches.
func (c *Collection) FindOneAndDelete(ctx context.Context, filter, v any, opts ...options.Lister[options.FindOneAndDeleteOptions]) error {
	return run(ctx, func(ctx context.Context) error {
		return decodeResult(c.c.FindOneAndDelete(ctx, filter, opts...), v, c.plain)
	})
}

// Distinct decodes into v, a pointer to a slice, the distinct values of
// field among the documents that match filter.
func (c *Collection) Distinct(ctx context.Context, field string, filter, v any, opts ...options.Lister[options.DistinctOptions]) error {
	return run(ctx, func(ctx context.Context) error { return c.c.Distinct(ctx, field, filter, opts...).Decode(v) })
}

// BulkWrite sends many inserts, updates and deletes in one command.
func (c *Collection) BulkWrite(ctx context.Context, models []mongo.WriteModel, opts ...options.Lister[options.BulkWriteOptions]) (*mongo.BulkWriteResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.BulkWriteResult, error) { return c.c.BulkWrite(ctx, models, opts...) })
}

// EstimatedDocumentCount returns the collection's document count from its
// metadata, without a scan.
func (c *Collection) EstimatedDocumentCount(ctx context.Context, opts ...options.Lister[options.EstimatedDocumentCountOptions]) (int64, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (int64, error) { return c.c.EstimatedDocumentCount(ctx, opts...) })
}

// UpdateOne applies update to the first document that matches filter.
func (c *Collection) UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return c.c.UpdateOne(ctx, filter, update, opts...)
	})
}

// UpdateMany applies update to every document that matches filter.
func (c *Collection) UpdateMany(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateManyOptions]) (*mongo.UpdateResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return c.c.UpdateMany(ctx, filter, update, opts...)
	})
}

// ReplaceOne replaces the first document that matches filter.
func (c *Collection) ReplaceOne(ctx context.Context, filter, replacement any, opts ...options.Lister[options.ReplaceOptions]) (*mongo.UpdateResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return c.c.ReplaceOne(ctx, filter, replacement, opts...)
	})
}

// DeleteOne deletes the first document that matches filter.
func (c *Collection) DeleteOne(ctx context.Context, filter any, opts ...options.Lister[options.DeleteOneOptions]) (*mongo.DeleteResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.DeleteResult, error) { return c.c.DeleteOne(ctx, filter, opts...) })
}

// DeleteMany deletes every document that matches filter.
func (c *Collection) DeleteMany(ctx context.Context, filter any, opts ...options.Lister[options.DeleteManyOptions]) (*mongo.DeleteResult, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.DeleteResult, error) { return c.c.DeleteMany(ctx, filter, opts...) })
}

// CountDocuments counts the documents that match filter.
func (c *Collection) CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (int64, error) { return c.c.CountDocuments(ctx, filter, opts...) })
}

// CreateIndex creates an index and returns its name.
func (c *Collection) CreateIndex(ctx context.Context, model mongo.IndexModel, opts ...options.Lister[options.CreateIndexesOptions]) (string, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) (string, error) { return c.c.Indexes().CreateOne(ctx, model, opts...) })
}

// Drop drops the collection.
func (c *Collection) Drop(ctx context.Context) error {
	return run(ctx, func(ctx context.Context) error { return c.c.Drop(ctx) })
}

// Driver returns the driver's collection.
func (c *Collection) Driver() *mongo.Collection { return c.c }

// ListIndexes returns the specifications of the collection's indexes.
func (c *Collection) ListIndexes(ctx context.Context, opts ...options.Lister[options.ListIndexesOptions]) ([]mongo.IndexSpecification, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) ([]mongo.IndexSpecification, error) {
		return c.c.Indexes().ListSpecifications(ctx, opts...)
	})
}

// CreateIndexes creates several indexes in one command and returns their
// names.
func (c *Collection) CreateIndexes(ctx context.Context, models []mongo.IndexModel, opts ...options.Lister[options.CreateIndexesOptions]) ([]string, error) {
	return aio.ToGoroutine(ctx, func(ctx context.Context) ([]string, error) { return c.c.Indexes().CreateMany(ctx, models, opts...) })
}

// DropIndex drops the index of that name.
func (c *Collection) DropIndex(ctx context.Context, name string, opts ...options.Lister[options.DropIndexesOptions]) error {
	return run(ctx, func(ctx context.Context) error { return c.c.Indexes().DropOne(ctx, name, opts...) })
}

// Watch returns the changes to the collection as they happen (Motor's
// watch), each a change event document valid until the next. The
// iteration waits for the next change for as long as the task lets it (a
// timeout or a cancellation ends it with the cause), ends at the first error,
// which it yields, and closes the stream when the loop is broken out of.
// A server without change streams (a standalone mongod, FerretDB) answers
// the first step with its error.
func (c *Collection) Watch(ctx context.Context, pipeline any, opts ...options.Lister[options.ChangeStreamOptions]) iter.Seq2[bson.Raw, error] {
	return func(yield func(bson.Raw, error) bool) {
		cs, err := aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.ChangeStream, error) {
			return c.c.Watch(ctx, pipeline, opts...)
		})
		if err != nil {
			yield(nil, err)
			return
		}
		// mu is held by whatever uses cs: a goroutine waiting for the next
		// change (one whose await was cancelled holds it until Next
		// returns), or the one closing it.
		var mu sync.Mutex
		defer run(context.WithoutCancel(ctx), func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return cs.Close(ctx)
		})
		for {
			doc, err := aio.ToGoroutine(ctx, func(ctx context.Context) (bson.Raw, error) {
				mu.Lock()
				defer mu.Unlock()
				if cs.Next(ctx) {
					return cs.Current, nil
				}
				if err := cs.Err(); err != nil {
					return nil, err
				}
				return nil, ctx.Err()
			})
			if !yield(doc, err) || err != nil {
				return
			}
		}
	}
}
