package aiomongo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiomongo"
	"github.com/aio-go/aio/aiotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// runClient runs body on a loop with a client of the embedded server and a
// fresh database named after the test. Once the client is disconnected and
// the loop closed, no goroutine of the client, the loop or its threads is
// left.
func runClient(t *testing.T, body func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error) {
	t.Helper()
	defer aiotest.CheckLeaks(t)()
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		client, err := aiomongo.NewClient(uri)
		if err != nil {
			return err
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		db := client.Database(strings.ReplaceAll(t.Name(), "/", "_"))
		defer db.Drop(context.WithoutCancel(ctx))
		return body(ctx, client, db)
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
}

// fill inserts n documents, doc(0) to doc(n-1), into coll.
func fill(ctx context.Context, coll *aiomongo.Collection, n int, doc func(i int) any) error {
	docs := make([]any, n)
	for i := range docs {
		docs[i] = doc(i)
	}
	_, err := coll.InsertMany(ctx, docs)
	return err
}

// TestTransactionCallbackIsATask: the callback of WithTransaction runs in
// the calling task, awaits aio.Sleep and another collection, and its
// operations carry the session's transaction. FerretDB has no transactions:
// its refusal of the first operation in one comes back as the error.
func TestTransactionCallbackIsATask(t *testing.T) {
	runClient(t, func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error {
		sess, err := client.StartSession(ctx)
		if err != nil {
			return err
		}
		defer sess.End(context.WithoutCancel(ctx))
		other := db.Collection("other")
		if _, err := other.InsertOne(ctx, bson.M{"n": 1}); err != nil {
			return err
		}
		calls := 0
		err = sess.WithTransaction(ctx, func(ctx context.Context) error {
			calls++
			if aio.CurrentTask(ctx) == nil {
				t.Error("the callback does not run in a task")
			}
			if err := aio.Sleep(ctx, time.Millisecond); err != nil {
				return err
			}
			if mongo.SessionFromContext(ctx) == nil {
				t.Error("the callback's context carries no session")
			}
			_, err := db.Collection("orders").InsertOne(ctx, bson.M{"item": "book"})
			return err
		})
		if calls != 1 || err == nil || !strings.Contains(err.Error(), "startTransaction") {
			t.Errorf("WithTransaction on FerretDB: %d calls, %v; want its refusal of startTransaction", calls, err)
		}
		// An error of the callback aborts and comes back as is.
		errMine := errors.New("changed my mind")
		if err := sess.WithTransaction(ctx, func(ctx context.Context) error { return errMine }); err != errMine {
			t.Errorf("callback's error: %v", err)
		}
		return nil
	})
}

// TestWatchClearError: FerretDB has no change streams; Watch yields its
// error at the first step and ends.
func TestWatchClearError(t *testing.T) {
	runClient(t, func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error {
		n := 0
		for doc, err := range db.Collection("c").Watch(ctx, mongo.Pipeline{}) {
			n++
			if doc != nil || err == nil || !strings.Contains(err.Error(), "changeStream") {
				t.Errorf("Watch: %v, %v", doc, err)
			}
		}
		if n != 1 {
			t.Errorf("Watch yielded %d times; want 1", n)
		}
		return nil
	})
}

// TestIndexesAndFindOptions: indexes are created, listed and dropped; find
// takes the driver's options (sort, projection, skip, limit, batch size).
func TestIndexesAndFindOptions(t *testing.T) {
	runClient(t, func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error {
		coll := db.Collection("c")
		if err := insertN(ctx, coll, 10, func(i int) bson.M { return bson.M{"n": i, "sq": i * i, "tag": "x"} }); err != nil {
			return err
		}
		names, err := coll.CreateIndexes(ctx, []mongo.IndexModel{{Keys: bson.D{{Key: "n", Value: 1}}}, {Keys: bson.D{{Key: "sq", Value: -1}}}})
		if err != nil || len(names) != 2 {
			return errors.Join(err, errors.New("CreateIndexes"))
		}
		specs, err := coll.ListIndexes(ctx)
		if err != nil {
			return err
		}
		if len(specs) != 3 { // _id's and ours
			t.Errorf("indexes %v", specs)
		}
		if err := coll.DropIndex(ctx, names[0]); err != nil {
			return err
		}
		if specs, _ := coll.ListIndexes(ctx); len(specs) != 2 {
			t.Errorf("after DropIndex: %v", specs)
		}
		opts := options.Find().SetSort(bson.D{{Key: "n", Value: -1}}).SetProjection(bson.M{"_id": 0, "n": 1}).
			SetSkip(1).SetLimit(3).SetBatchSize(2)
		var got []bson.M
		if err := coll.Find(ctx, bson.M{}, opts).All(ctx, &got); err != nil {
			return err
		}
		if len(got) != 3 || got[0]["n"] != int32(8) || got[2]["n"] != int32(6) || got[0]["sq"] != nil {
			t.Errorf("find with options: %v", got)
		}
		return nil
	})
}

// TestGridFSRoundTrip: 10 MiB up and down through streams that suspend the
// task, while another task keeps running on the loop.
func TestGridFSRoundTrip(t *testing.T) {
	runClient(t, func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error {
		data := make([]byte, 10<<20)
		rand.NewChaCha8([32]byte{1}).Read(data)
		bucket := db.GridFSBucket()
		ticks := 0
		ticker := aio.Go(ctx, func(ctx context.Context) error {
			for {
				if err := aio.Sleep(ctx, time.Millisecond); err != nil {
					return nil
				}
				ticks++
			}
		})
		up, err := bucket.OpenUploadStream(ctx, "blob.bin")
		if err != nil {
			return err
		}
		if _, err := io.Copy(up, bytes.NewReader(data)); err != nil {
			up.Abort()
			return err
		}
		if err := up.Close(); err != nil {
			return err
		}
		down, err := bucket.OpenDownloadStream(ctx, up.FileID())
		if err != nil {
			return err
		}
		got, err := io.ReadAll(down)
		down.Close()
		ticker.Cancel()
		if err != nil {
			return err
		}
		if !bytes.Equal(got, data) {
			t.Errorf("downloaded %d bytes, not the %d uploaded", len(got), len(data))
		}
		if ticks == 0 {
			t.Error("the loop did not run another task meanwhile")
		}
		if err := bucket.Delete(ctx, up.FileID()); err != nil {
			return err
		}
		if _, err := bucket.OpenDownloadStream(ctx, up.FileID()); !errors.Is(err, mongo.ErrFileNotFound) {
			t.Errorf("after Delete: %v", err)
		}
		return nil
	})
}

// TestCancelMidCursor: a task cancelled while its cursor fetches a batch
// stops at once; the cursor is closed and nothing is left running (run's
// leak check).
func TestCancelMidCursor(t *testing.T) {
	runClient(t, func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error {
		coll := db.Collection("c")
		if err := insertN(ctx, coll, 50, func(i int) bson.M { return bson.M{"n": i} }); err != nil {
			return err
		}
		read := 0
		reader := aio.Go(ctx, func(ctx context.Context) error {
			for _, err := range coll.Find(ctx, bson.M{}, options.Find().SetBatchSize(5)).Docs(ctx) {
				if err != nil {
					return err
				}
				if read++; read == 7 {
					aio.CurrentTask(ctx).Cancel() // the next fetch is cancelled
				}
			}
			return nil
		})
		if _, err := reader.Await(ctx); !errors.Is(err, context.Canceled) || read > 10 {
			t.Errorf("cancelled reader: %v after %d documents", err, read)
		}
		return nil
	})
}

// insertN inserts the documents doc(0) … doc(n-1) into coll.
func insertN(ctx context.Context, coll *aiomongo.Collection, n int, doc func(i int) bson.M) error {
	docs := make([]any, n)
	for i := range docs {
		docs[i] = doc(i)
	}
	_, err := coll.InsertMany(ctx, docs)
	return err
}

// TestClientOptionsKept: a dialer of the user's dials the connections (the
// client's own buffered one does otherwise), and BSON options of the user's
// decode FindOne's document (here JSON tags), not the default decoder.
func TestClientOptionsKept(t *testing.T) {
	defer aiotest.CheckLeaks(t)()
	dialer := &countingDialer{}
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		client, err := aiomongo.NewClient(uri, options.Client().
			SetDialer(dialer).
			SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true}))
		if err != nil {
			return err
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		db := client.Database(t.Name())
		defer db.Drop(context.WithoutCancel(ctx)) // the embedded server keeps a file per database
		coll := db.Collection("c")
		if _, err := coll.InsertOne(ctx, bson.M{"_id": 1, "json_name": "x"}); err != nil {
			return err
		}
		var v struct {
			Name string `json:"json_name"`
		}
		if err := coll.FindOne(ctx, bson.M{"_id": 1}, &v); err != nil {
			return err
		}
		if v.Name != "x" {
			t.Errorf("FindOne with UseJSONStructTags decoded %+v, want Name x", v)
		}
		return nil
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
	if dialer.n.Load() == 0 {
		t.Error("the user's dialer dialed nothing")
	}
}

type countingDialer struct {
	net.Dialer
	n atomic.Int32
}

func (d *countingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.n.Add(1)
	return d.Dialer.DialContext(ctx, network, address)
}

// TestAllAsDriver: Cursor.All fills a slice as the driver's All does, over
// several batches: into the elements it has from the first, appending past
// them, the result cut to the documents read, through a pointer to an
// interface holding a slice too; a bad argument is an error, as the
// driver's.
func TestAllAsDriver(t *testing.T) {
	type item struct {
		N    int    `bson:"n"`
		Kept string `bson:"kept,omitempty"`
	}
	runClient(t, func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error {
		coll := db.Collection("c")
		for n := range 7 {
			if _, err := coll.InsertOne(ctx, bson.M{"n": n}); err != nil {
				return err
			}
		}
		raw := coll.Driver()
		opts := func() *options.FindOptionsBuilder { return options.Find().SetSort(bson.M{"n": 1}).SetBatchSize(2) }
		for _, start := range [][]item{nil, {{N: -1, Kept: "a"}, {N: -2, Kept: "b"}}, make([]item, 10)} {
			got := slices.Clone(start)
			if err := coll.Find(ctx, bson.M{}, opts()).All(ctx, &got); err != nil {
				return err
			}
			want := slices.Clone(start)
			cur, err := aio.ToGoroutine(ctx, func(ctx context.Context) (*mongo.Cursor, error) { return raw.Find(ctx, bson.M{}, opts()) })
			if err != nil {
				return err
			}
			if _, err := aio.ToGoroutine(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, cur.All(ctx, &want) }); err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) || len(got) != 7 {
				t.Errorf("All from %v: %v, the driver's %v", start, got, want)
			}
		}
		var boxed any = []bson.M{}
		if err := coll.Find(ctx, bson.M{"n": bson.M{"$lt": 3}}, opts()).All(ctx, &boxed); err != nil {
			return err
		}
		if got, ok := boxed.([]bson.M); !ok || len(got) != 3 {
			t.Errorf("All through an interface: %#v", boxed)
		}
		var notSlice int
		for _, bad := range []any{[]item{}, &notSlice} {
			if err := coll.Find(ctx, bson.M{}).All(ctx, bad); err == nil || !strings.Contains(err.Error(), "pointer to a slice") {
				t.Errorf("All(%T): %v", bad, err)
			}
		}
		return nil
	})
}

// TestDocsAsDriver: Docs yields the documents the driver's cursor yields, in
// its order, whether the last batch is the first or comes after getMores,
// and with a break inside the last batch, though the caller appends to each
// document it gets; All agrees.
func TestDocsAsDriver(t *testing.T) {
	const n = 300
	runClient(t, func(ctx context.Context, client *aiomongo.Client, db *aiomongo.Database) error {
		coll := db.Collection("c")
		if err := fill(ctx, coll, n, func(i int) any { return bson.M{"n": i, "pad": strings.Repeat("x", i%37)} }); err != nil {
			return err
		}
		raw := coll.Driver()
		for _, tc := range []struct {
			name  string
			opts  func() *options.FindOptionsBuilder
			limit int // documents read before a break; 0: all
		}{
			{"batches of 120", func() *options.FindOptionsBuilder { return options.Find().SetSort(bson.M{"n": 1}).SetBatchSize(120) }, 0},
			{"one batch", func() *options.FindOptionsBuilder { return options.Find().SetSort(bson.M{"n": -1}).SetLimit(50) }, 0},
			{"default batches", func() *options.FindOptionsBuilder { return options.Find().SetSort(bson.M{"n": 1}) }, 0},
			{"break in the last batch", func() *options.FindOptionsBuilder { return options.Find().SetSort(bson.M{"n": 1}) }, 150},
		} {
			var got []bson.Raw
			for doc, err := range coll.Find(ctx, bson.M{}, tc.opts()).Docs(ctx) {
				if err != nil {
					return err
				}
				got = append(got, slices.Clone(doc))
				_ = append(doc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // writes over nothing it does not own
				if len(got) == tc.limit {
					break
				}
			}
			want, err := aio.ToGoroutine(ctx, func(ctx context.Context) ([]bson.Raw, error) {
				cur, err := raw.Find(ctx, bson.M{}, tc.opts())
				if err != nil {
					return nil, err
				}
				defer cur.Close(ctx)
				var want []bson.Raw
				for (tc.limit == 0 || len(want) < tc.limit) && cur.Next(ctx) {
					want = append(want, slices.Clone(cur.Current))
				}
				return want, cur.Err()
			})
			if err != nil {
				return err
			}
			if len(got) != len(want) || len(want) == 0 {
				t.Errorf("%s: %d documents, the driver's cursor %d", tc.name, len(got), len(want))
				continue
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("%s: document %d is %s, the driver's %s", tc.name, i, got[i], want[i])
					break
				}
			}
			var all, allWant []bson.M
			if err := coll.Find(ctx, bson.M{}, tc.opts()).All(ctx, &all); err != nil {
				return err
			}
			for _, d := range want {
				var m bson.M
				if err := bson.Unmarshal(d, &m); err != nil {
					return err
				}
				allWant = append(allWant, m)
			}
			if tc.limit == 0 && !reflect.DeepEqual(all, allWant) {
				t.Errorf("%s: All gives %d documents unlike the driver's cursor", tc.name, len(all))
			}
		}
		return nil
	})
}

// TestPoolCounterEvents: each pool event moves its figure, and a nil event
// or one of another kind moves none.
func TestPoolCounterEvents(t *testing.T) {
	var p aiomongo.PoolCounter
	for _, typ := range []string{event.ConnectionCreated, event.ConnectionCreated, event.ConnectionCheckOutStarted,
		event.ConnectionCheckOutStarted, event.ConnectionCheckedOut, event.ConnectionCheckOutFailed,
		event.ConnectionCheckedIn, event.ConnectionClosed, event.ConnectionReady} {
		p.Event(&event.PoolEvent{Type: typ})
	}
	p.Event(nil)
	if got, want := p.Stats(), (aiomongo.PoolStats{Open: 1, InUse: 0, Waiting: 0}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}
