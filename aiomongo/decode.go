package aiomongo

import (
	"bufio"
	"bytes"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// decodeResult decodes sr's document into v, as sr.Decode(v) does. The
// driver's decoding (SingleResult.Decode, Cursor.All) reads each document
// through a bufio.Reader of its own, 4 KiB allocated per document and
// garbage right after (a third of the bytes a find_one allocates); with the
// driver's default registry and BSON options (plain), the same decoder reads
// through a reused one. The decoder copies what it keeps out of the reader,
// so reusing it is safe. With a registry or BSON options of the user's,
// sr.Decode decodes.
func decodeResult(sr *mongo.SingleResult, v any, plain bool) error {
	if !plain {
		return sr.Decode(v)
	}
	raw, err := sr.Raw()
	if err != nil {
		return err
	}
	return decodeDoc(raw, v)
}

// decodeDoc decodes doc into v with the driver's default registry and BSON
// options, through a reused reader.
func decodeDoc(doc bson.Raw, v any) error {
	r := docReaders.Get().(*docReader)
	r.src.Reset(doc)
	r.buf.Reset(&r.src)
	// NewDocumentReader wraps its argument in bufio.NewReader, which
	// returns a *bufio.Reader of the default size as it is.
	err := bson.NewDecoder(bson.NewDocumentReader(&r.buf)).Decode(v)
	r.src.Reset(nil)
	r.buf.Reset(nil)
	docReaders.Put(r)
	return err
}

// docReader is a document's bytes behind a bufio.Reader of the default
// size, the reader a bson.Decoder over a stream uses.
type docReader struct {
	src bytes.Reader
	buf bufio.Reader
}

var docReaders = sync.Pool{New: func() any {
	r := new(docReader)
	r.buf.Reset(&r.src) // the default size, as bufio.NewReader's
	return r
}}
