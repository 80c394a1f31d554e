//go:build !race

package aiomongo_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiomongo"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestAllSparesTheReader: Cursor.All decodes without the 4 KiB reader the
// driver's All allocates per document. The embedded server runs in this
// process and allocates for both queries alike, so the test compares the
// two: ours must allocate at least 2 KiB less per document.
func TestAllSparesTheReader(t *testing.T) {
	const n = 200
	runClient(t, func(ctx context.Context, _ *aiomongo.Client, db *aiomongo.Database) error {
		coll := db.Collection("c")
		if err := fill(ctx, coll, n, func(i int) any { return bson.M{"n": i} }); err != nil {
			return err
		}
		perDoc := func(all func(*[]bson.M) error) (uint64, error) {
			var got []bson.M
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := all(&got)
			runtime.ReadMemStats(&after)
			if err == nil && len(got) != n {
				t.Errorf("%d documents, want %d", len(got), n)
			}
			return (after.TotalAlloc - before.TotalAlloc) / n, err
		}
		ours, err := perDoc(func(got *[]bson.M) error { return coll.Find(ctx, bson.M{}).All(ctx, got) })
		if err != nil {
			return err
		}
		driver, err := perDoc(func(got *[]bson.M) error {
			_, err := aio.ToGoroutine(ctx, func(ctx context.Context) (struct{}, error) {
				cur, err := coll.Driver().Find(ctx, bson.M{})
				if err != nil {
					return struct{}{}, err
				}
				return struct{}{}, cur.All(ctx, got)
			})
			return err
		})
		if err != nil {
			return err
		}
		if ours+2048 > driver {
			t.Errorf("All allocates %d bytes per document, the driver's All %d", ours, driver)
		}
		return nil
	})
}

// TestDocsSparesTheIterator: the last batch of a cursor is read without the
// driver's allocation per document (its iterator returns each as a new
// *bsoncore.Value): Docs over 1,000 documents in one batch makes at least
// 500 allocations fewer than the driver's own loop over the same query (the
// embedded server, in this process, allocates alike for both).
func TestDocsSparesTheIterator(t *testing.T) {
	const n = 1000
	runClient(t, func(ctx context.Context, _ *aiomongo.Client, db *aiomongo.Database) error {
		coll := db.Collection("c")
		if err := fill(ctx, coll, n, func(i int) any { return bson.M{"n": i} }); err != nil {
			return err
		}
		mallocs := func(read func() (int, error)) (uint64, error) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := read()
			runtime.ReadMemStats(&after)
			if err == nil && got != n {
				t.Errorf("%d documents, want %d", got, n)
			}
			return after.Mallocs - before.Mallocs, err
		}
		ours, err := mallocs(func() (int, error) {
			got := 0
			for _, err := range coll.Find(ctx, bson.M{}, options.Find().SetBatchSize(n+1)).Docs(ctx) {
				if err != nil {
					return got, err
				}
				got++
			}
			return got, nil
		})
		if err != nil {
			return err
		}
		driver, err := mallocs(func() (int, error) {
			return aio.ToGoroutine(ctx, func(ctx context.Context) (int, error) {
				cur, err := coll.Driver().Find(ctx, bson.M{}, options.Find().SetBatchSize(n+1))
				if err != nil {
					return 0, err
				}
				defer cur.Close(ctx)
				got := 0
				for cur.Next(ctx) {
					got++
				}
				return got, cur.Err()
			})
		})
		if err != nil {
			return err
		}
		if ours+500 > driver {
			t.Errorf("Docs made %d allocations for %d documents, the driver's loop %d", ours, n, driver)
		}
		return nil
	})
}
