//go:build !race

package aiomongo_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiomongo"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestAllSparesTheReader: Cursor.All decodes without the 4 KiB reader the
// driver's All allocates per document. The embedded server runs in this
// process and allocates for both queries alike, so the test compares the
// two: ours must allocate at least 2 KiB less per document.
func TestAllSparesTheReader(t *testing.T) {
	const n = 200
	runClient(t, func(ctx context.Context, _ *aiomongo.Client, db *aiomongo.Database) error {
		coll := db.Collection("c")
		docs := make([]any, n)
		for i := range docs {
			docs[i] = bson.M{"n": i}
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
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
