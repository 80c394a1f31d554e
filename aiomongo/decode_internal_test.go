package aiomongo

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

type decoded struct {
	ID   int            `bson:"_id"`
	Name string         `bson:"name"`
	Blob []byte         `bson:"blob"`
	Sub  bson.Raw       `bson:"sub"`
	When time.Time      `bson:"when"`
	Rest map[string]any `bson:"rest"`
}

// TestDecodeResultAsDriver: decodeResult gives what the driver's Decode
// gives, for structs, maps and raw fields, and the same errors; what it
// decoded does not change when the reused reader decodes the next document.
func TestDecodeResultAsDriver(t *testing.T) {
	when := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	docs := []bson.D{
		{{Key: "_id", Value: 1}, {Key: "name", Value: "a"}, {Key: "blob", Value: []byte("0123456789")}, {Key: "sub", Value: bson.D{{Key: "x", Value: 1}}}, {Key: "when", Value: when}, {Key: "rest", Value: bson.M{"k": "v"}}},
		{{Key: "_id", Value: 2}, {Key: "name", Value: "bb"}, {Key: "blob", Value: []byte("abcdefghij")}, {Key: "sub", Value: bson.D{{Key: "y", Value: "z"}}}},
	}
	for _, target := range []func() any{
		func() any { return new(decoded) },
		func() any { return new(bson.M) },
		func() any { return new(bson.D) },
		func() any { return new(bson.Raw) },
	} {
		var kept []any
		for _, d := range docs {
			want, got := target(), target()
			if err := mongo.NewSingleResultFromDocument(d, nil, nil).Decode(want); err != nil {
				t.Fatal(err)
			}
			if err := decodeResult(mongo.NewSingleResultFromDocument(d, nil, nil), got, true); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%T: decodeResult = %+v, the driver's Decode = %+v", got, got, want)
			}
			kept = append(kept, got)
		}
		first := target()
		decodeResult(mongo.NewSingleResultFromDocument(docs[0], nil, nil), first, true)
		if !reflect.DeepEqual(kept[0], first) {
			t.Errorf("%T: the first document changed after the second was decoded: %+v, was %+v", first, kept[0], first)
		}
	}
	var v decoded
	if err := decodeResult(mongo.NewSingleResultFromDocument(bson.D{}, mongo.ErrNoDocuments, nil), &v, true); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("error = %v, want ErrNoDocuments", err)
	}
	if err := decodeResult(mongo.NewSingleResultFromDocument(docs[0], nil, nil), v, true); err == nil {
		t.Error("decoding into a non-pointer: no error")
	}
}
