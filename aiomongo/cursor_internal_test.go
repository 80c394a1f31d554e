package aiomongo

import (
	"bytes"
	"strconv"
	"testing"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// TestArrayRest: arrayRest takes the documents of a reply's batch that
// follow the one in hand, as the driver parses replies in place, and
// refuses whatever is not exactly such a batch.
func TestArrayRest(t *testing.T) {
	// reply builds a getMore reply whose batch holds n documents, with
	// elem(i) for the i-th element, and returns the first document (the one
	// the driver hands out first, its capacity reaching the reply's end).
	reply := func(n int, elem func(i int, doc bsoncore.Document) []byte) []byte {
		var arr []byte
		idx, arr := bsoncore.ReserveLength(arr)
		for i := range n {
			doc := bsoncore.NewDocumentBuilder().AppendInt32("_id", int32(i)).AppendString("pad", string(bytes.Repeat([]byte{'x'}, i))).Build()
			arr = append(arr, elem(i, doc)...)
		}
		arr = append(arr, 0)
		arr = bsoncore.UpdateLength(arr, idx, int32(len(arr)))
		r := bsoncore.NewDocumentBuilder().
			AppendDocument("cursor", bsoncore.NewDocumentBuilder().AppendArray("nextBatch", arr).AppendInt64("id", 0).AppendString("ns", "db.c").Build()).
			AppendDouble("ok", 1).Build()
		r = append([]byte(nil), r...) // no room past the reply, as the driver reads it
		batch := bsoncore.Document(r).Lookup("cursor", "nextBatch").Array()
		first, _, _ := bsoncore.ReadElement(batch[4:])
		return first.Value().Data
	}
	plain := func(i int, doc bsoncore.Document) []byte {
		return bsoncore.AppendDocumentElement(nil, strconv.Itoa(i), doc)
	}
	// longer makes the length of document k say n bytes more than it has.
	longer := func(k int, n byte) func(i int, doc bsoncore.Document) []byte {
		return func(i int, doc bsoncore.Document) []byte {
			e := plain(i, doc)
			if i == k {
				e[len(e)-len(doc)] += n
			}
			return e
		}
	}
	for _, tc := range []struct {
		name string
		n    int // documents in the batch
		left int // the driver's count of those after the first
		elem func(i int, doc bsoncore.Document) []byte
		ok   bool
	}{
		{"batch", 5, 4, plain, true},
		{"one left", 2, 1, plain, true},
		{"more than counted", 5, 3, plain, false},
		{"fewer than counted", 5, 5, plain, false},
		{"index skipped", 5, 4, func(i int, doc bsoncore.Document) []byte { return plain(i+i/3, doc) }, false},
		{"key not an index", 5, 4, func(i int, doc bsoncore.Document) []byte {
			if i == 2 {
				return bsoncore.AppendDocumentElement(nil, "x", doc)
			}
			return plain(i, doc)
		}, false},
		{"not a document", 5, 4, func(i int, doc bsoncore.Document) []byte {
			if i == 3 {
				return bsoncore.AppendStringElement(nil, "3", "doc")
			}
			return plain(i, doc)
		}, false},
		{"document past the reply", 5, 4, longer(4, 100), false},
		{"document into the array's end", 5, 4, longer(4, 1), false},
		{"document into the reply's tail", 5, 4, longer(4, 3), false},
		{"document into the next", 5, 4, longer(2, 2), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := reply(tc.n, tc.elem)
			rest := cur[len(cur):cap(cur)]
			if got := arrayRest(rest, tc.left); got != tc.ok {
				t.Fatalf("arrayRest = %v, want %v", got, tc.ok)
			}
			if !tc.ok {
				return
			}
			for i := 1; i <= tc.left; i++ {
				doc := nextInBatch(&rest)
				if id := doc.Lookup("_id").Int32(); id != int32(i) {
					t.Fatalf("document %d has _id %d", i, id)
				}
			}
			if rest[0] != 0 {
				t.Errorf("after the batch: %x, want the array's end", rest[:1])
			}
		})
	}
	if arrayRest(nil, 1) {
		t.Error("arrayRest took an empty rest (a document copied out of its reply)")
	}
}
