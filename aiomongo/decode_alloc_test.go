//go:build !race

package aiomongo

import (
	"runtime"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestDecodeResultSparesTheReader: decoding a small document allocates
// less than the 4 KiB reader the driver's Decode allocates for each.
func TestDecodeResultSparesTheReader(t *testing.T) {
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: 7}, {Key: "name", Value: "a name"}})
	var v decoded
	bytesPer := func(f func()) uint64 {
		f() // the pool's reader, once
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 100
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	driver := bytesPer(func() { mongo.NewSingleResultFromDocument(bson.Raw(doc), nil, nil).Decode(&v) })
	ours := bytesPer(func() { decodeResult(mongo.NewSingleResultFromDocument(bson.Raw(doc), nil, nil), &v, true) })
	if ours >= 4096 || ours >= driver {
		t.Errorf("decodeResult allocates %d bytes per document, the driver's Decode %d", ours, driver)
	}
}
