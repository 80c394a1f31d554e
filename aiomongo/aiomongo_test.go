package aiomongo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiomongo"
	"github.com/aio-go/aio/aiomongo/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var uri string // the embedded server's

func TestMain(m *testing.M) {
	srv, err := embedded.Start(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "embedded server:", err)
		os.Exit(1)
	}
	uri = srv.URI()
	// One round trip before any test counts goroutines: the server's accept
	// loop starts on a goroutine of its own, maybe after Start returned.
	if c, err := mongo.Connect(options.Client().ApplyURI(uri)); err == nil {
		err = c.Ping(context.Background(), nil)
		c.Disconnect(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, "embedded server:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// run runs body on a loop with a client of the embedded server and a fresh
// database named after the test (see runClient).
func run(t *testing.T, body func(ctx context.Context, db *aiomongo.Database) error) {
	t.Helper()
	runClient(t, func(ctx context.Context, _ *aiomongo.Client, db *aiomongo.Database) error { return body(ctx, db) })
}

// The lecture's Motor example: insert_one, then async for over find.
func TestInsertAndFind(t *testing.T) {
	run(t, func(ctx context.Context, db *aiomongo.Database) error {
		coll := db.Collection("test_collection")
		res, err := coll.InsertOne(ctx, bson.M{"key": "value"})
		if err != nil {
			return err
		}
		if _, ok := res.InsertedID.(bson.ObjectID); !ok {
			t.Errorf("InsertedID = %#v", res.InsertedID)
		}
		n := 0
		for doc, err := range coll.Find(ctx, bson.M{"key": "value"}).Docs(ctx) {
			if err != nil {
				return err
			}
			if v := doc.Lookup("key").StringValue(); v != "value" {
				t.Errorf("document %s", doc)
			}
			n++
		}
		if n != 1 {
			t.Errorf("found %d documents; want 1", n)
		}
		return nil
	})
}

type item struct {
	N     int    `bson:"n"`
	Group string `bson:"group"`
}

// Tasks insert concurrently; a cursor with small batches walks them all,
// fetching batch after batch, and one that is broken out of closes.
func TestConcurrentTasksAndCursors(t *testing.T) {
	run(t, func(ctx context.Context, db *aiomongo.Database) error {
		coll := db.Collection("items")
		err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for i := range 20 {
				tg.Go(func(ctx context.Context) error {
					_, err := coll.InsertOne(ctx, item{N: i, Group: []string{"odd", "even"}[(i+1)%2]})
					return err
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n, err := coll.CountDocuments(ctx, bson.M{}); n != 20 || err != nil {
			t.Errorf("CountDocuments = %d %v", n, err)
		}
		sum := 0
		opts := options.Find().SetBatchSize(3).SetSort(bson.D{{Key: "n", Value: 1}})
		for doc, err := range coll.Find(ctx, bson.M{"group": "even"}, opts).Docs(ctx) {
			if err != nil {
				return err
			}
			var it item
			if err := bson.Unmarshal(doc, &it); err != nil {
				return err
			}
			sum += it.N
		}
		if sum != 0+2+4+6+8+10+12+14+16+18 {
			t.Errorf("sum of the even items = %d", sum)
		}
		seen := 0
		for _, err := range coll.Find(ctx, bson.M{}, options.Find().SetBatchSize(2)).Docs(ctx) {
			if err != nil {
				return err
			}
			if seen++; seen == 3 {
				break // closes the cursor
			}
		}
		var odd []item
		if err := coll.Find(ctx, bson.M{"group": "odd"}, options.Find().SetSort(bson.D{{Key: "n", Value: -1}})).All(ctx, &odd); err != nil {
			return err
		}
		if len(odd) != 10 || odd[0].N != 19 {
			t.Errorf("All: %v", odd)
		}
		return nil
	})
}

func TestUpdateDeleteAggregate(t *testing.T) {
	run(t, func(ctx context.Context, db *aiomongo.Database) error {
		coll := db.Collection("people")
		if _, err := coll.InsertMany(ctx, []any{
			bson.M{"name": "ann", "age": 31}, bson.M{"name": "bob", "age": 25}, bson.M{"name": "cid", "age": 47},
		}); err != nil {
			return err
		}
		if r, err := coll.UpdateOne(ctx, bson.M{"name": "bob"}, bson.M{"$inc": bson.M{"age": 1}}); err != nil || r.ModifiedCount != 1 {
			t.Errorf("UpdateOne: %+v %v", r, err)
		}
		var bob struct{ Age int }
		if err := coll.FindOne(ctx, bson.M{"name": "bob"}, &bob); err != nil || bob.Age != 26 {
			t.Errorf("FindOne after the update: %+v %v", bob, err)
		}
		if err := coll.FindOne(ctx, bson.M{"name": "nobody"}, &bob); !errors.Is(err, mongo.ErrNoDocuments) {
			t.Errorf("FindOne of nobody: %v", err)
		}
		var out []bson.M
		pipeline := mongo.Pipeline{{{Key: "$group", Value: bson.M{"_id": nil, "total": bson.M{"$sum": "$age"}}}}}
		if err := coll.Aggregate(ctx, pipeline).All(ctx, &out); err != nil || len(out) != 1 || fmt.Sprint(out[0]["total"]) != "104" {
			t.Errorf("Aggregate: %v %v", out, err)
		}
		var before, after struct{ Age int }
		if err := coll.FindOneAndUpdate(ctx, bson.M{"name": "ann"}, bson.M{"$set": bson.M{"age": 32}}, &before); err != nil || before.Age != 31 {
			t.Errorf("FindOneAndUpdate, document before: %+v %v", before, err)
		}
		if err := coll.FindOneAndUpdate(ctx, bson.M{"name": "ann"}, bson.M{"$inc": bson.M{"age": 1}}, &after,
			options.FindOneAndUpdate().SetReturnDocument(options.After)); err != nil || after.Age != 33 {
			t.Errorf("FindOneAndUpdate, document after: %+v %v", after, err)
		}
		var names []string
		if err := coll.Distinct(ctx, "name", bson.M{}, &names); err != nil || len(names) != 3 {
			t.Errorf("Distinct: %v %v", names, err)
		}
		r, err := coll.BulkWrite(ctx, []mongo.WriteModel{
			mongo.NewInsertOneModel().SetDocument(bson.M{"name": "dee", "age": 52}),
			mongo.NewUpdateOneModel().SetFilter(bson.M{"name": "dee"}).SetUpdate(bson.M{"$set": bson.M{"age": 53}}),
		})
		if err != nil || r.InsertedCount != 1 || r.ModifiedCount != 1 {
			t.Errorf("BulkWrite: %+v %v", r, err)
		}
		if n, err := coll.EstimatedDocumentCount(ctx); n != 4 || err != nil {
			t.Errorf("EstimatedDocumentCount = %d %v", n, err)
		}
		var gone struct{ Name string }
		if err := coll.FindOneAndDelete(ctx, bson.M{"name": "dee"}, &gone); err != nil || gone.Name != "dee" {
			t.Errorf("FindOneAndDelete: %+v %v", gone, err)
		}
		if r, err := coll.DeleteMany(ctx, bson.M{"age": bson.M{"$gt": 30}}); err != nil || r.DeletedCount != 2 {
			t.Errorf("DeleteMany: %+v %v", r, err)
		}
		collections, err := db.ListCollectionNames(ctx, bson.M{})
		if err != nil || len(collections) != 1 || collections[0] != "people" {
			t.Errorf("ListCollectionNames = %v %v", collections, err)
		}
		return nil
	})
}

// Cancelling a task cancels its operation; a timeout reaches the driver;
// a server that is not there is an error, not a hang.
func TestCancellationAndErrors(t *testing.T) {
	run(t, func(ctx context.Context, db *aiomongo.Database) error {
		coll := db.Collection("slow")
		// $where with sleep is not in FerretDB: a cancelled context before
		// the call shows that the driver sees the cancellation.
		task := aio.Go(ctx, func(ctx context.Context) error {
			aio.CurrentTask(ctx).Cancel()
			_, err := coll.InsertOne(ctx, bson.M{"x": 1})
			return err
		})
		if _, err := task.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("a cancelled task's insert: %v", err)
		}
		err := aio.Timeout(ctx, time.Nanosecond, func(ctx context.Context) error {
			_, err := coll.CountDocuments(ctx, bson.M{})
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("count under an expired timeout: %v", err)
		}
		return nil
	})
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		client, err := aiomongo.NewClient("mongodb://127.0.0.1:1/", options.Client().SetServerSelectionTimeout(100*time.Millisecond))
		if err != nil {
			return err
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		if err := client.Ping(ctx); err == nil || !strings.Contains(err.Error(), "server selection") {
			t.Errorf("Ping of nothing: %v", err)
		}
		return nil
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aiomongo.NewClient("not a uri"); err == nil {
		t.Error("NewClient of a bad URI: no error")
	}
}
