package aiomongo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/aio-go/aio"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Cursor reads the results of a query (Motor's AsyncIOMotorCursor): range
// over Docs (async for), or take them All (to_list). The documents of the
// batch in hand are read on the loop; fetching the next batch goes to a
// goroutine. A cursor belongs to one task at a time.
type Cursor struct {
	open  func(context.Context) (*mongo.Cursor, error)
	plain bool // the driver's default registry and BSON options: All decodes with decodeDoc

	// mu is held by the goroutines that use cur (fetching a batch, closing);
	// one whose await was cancelled keeps it until the driver returns.
	// fetching counts them: at 0, the loop reads the batch in hand, whose
	// documents left are left (counted once per batch: the driver's count
	// walks the batch).
	mu       sync.Mutex
	fetching atomic.Int32
	left     int
	cur      *mongo.Cursor
	err      error
	// last is the rest of the server's last batch, read here instead of
	// through the driver (see takeLastBatch); nil until then. triedLast
	// says takeLastBatch has looked at that batch, once.
	last      []byte
	triedLast bool
}

// cursorOp runs fn on a goroutine holding mu, counted in fetching.
func cursorOp[T any](ctx context.Context, c *Cursor, fn func(ctx context.Context) (T, error)) (T, error) {
	c.fetching.Add(1)
	return aio.ToGoroutine(ctx, func(ctx context.Context) (T, error) {
		c.mu.Lock()
		defer c.fetching.Add(-1)
		defer c.mu.Unlock()
		return fn(ctx)
	})
}

var errCursorDone = errors.New("aiomongo: cursor was read to its end or closed")

// start opens the query on a goroutine, once.
func (c *Cursor) start(ctx context.Context) error {
	if c.cur != nil || c.err != nil {
		return c.err
	}
	cur, err := cursorOp(ctx, c, func(ctx context.Context) (*mongo.Cursor, error) {
		cur, err := c.open(ctx)
		if err == nil {
			c.left = cur.RemainingBatchLength()
		}
		return cur, err
	})
	if err != nil {
		c.err = err
		return err
	}
	c.cur = cur
	return nil
}

// next moves to the next document: on the loop while the batch in hand
// lasts, on a goroutine to fetch the next one.
func (c *Cursor) next(ctx context.Context) (bson.Raw, error) {
	if c.fetching.Load() == 0 {
		if c.last != nil {
			if c.left == 0 {
				return nil, errCursorDone
			}
			c.left--
			return nextInBatch(&c.last), nil
		}
		// The batch in hand is read without I/O: the task's context, which
		// the driver would ask for its deadline at each document, is for
		// fetching the next one.
		if c.left > 0 && c.cur.Next(context.Background()) {
			c.left--
			c.takeLastBatch()
			return current(c.cur), nil
		}
		if c.left == 0 && c.cur.ID() == 0 { // the last batch is read: the server has no more
			if err := c.cur.Err(); err != nil {
				return nil, err
			}
			return nil, errCursorDone
		}
	}
	doc, err := cursorOp(ctx, c, func(ctx context.Context) (bson.Raw, error) {
		if c.cur.Next(ctx) {
			c.left = c.cur.RemainingBatchLength()
			return current(c.cur), nil
		}
		if err := c.cur.Err(); err != nil {
			return nil, err
		}
		return nil, errCursorDone
	})
	if err == nil && c.fetching.Load() == 0 {
		c.takeLastBatch()
	}
	return doc, err
}

// current is the driver's current document, without the capacity past its
// end (the rest of the reply, where the batch's next documents are): an
// append to it by the caller cannot write over them.
func current(cur *mongo.Cursor) bson.Raw {
	d := cur.Current
	return d[:len(d):len(d)]
}

// takeLastBatch takes over the reading of the batch in hand if it is the
// server's last (the cursor's id is 0: no getMore will follow), so that its
// documents come without the driver's allocation per document (its
// iterator returns each as a new *bsoncore.Value). The document just read,
// Current, lies in the reply the batch came in, as the driver parses it
// in place: the batch's other documents follow it, up to the array's end.
// Only a batch that reads as such (the number of documents left, each an
// embedded document under the next index, then the array's end) is taken
// over; anything else stays with the driver.
func (c *Cursor) takeLastBatch() {
	if c.triedLast || c.left == 0 || c.cur.ID() != 0 {
		return
	}
	c.triedLast = true // a batch it refuses is not looked through again at each document
	cur := c.cur.Current
	rest := cur[len(cur):cap(cur)]
	if arrayRest(rest, c.left) {
		c.last = rest
	}
}

// arrayRest reports whether b starts with n documents of a BSON array, at
// consecutive indexes, each with a length that fits and ending as a
// document does, followed by the array's end: what the driver's iterator
// would read there without an error.
func arrayRest(b []byte, n int) bool {
	want := -1
	for range n {
		key, doc, rest, ok := arrayElem(b)
		if !ok || b[0] != byte(bsoncore.TypeEmbeddedDocument) || doc[len(doc)-1] != 0x00 {
			return false
		}
		idx, ok := index(key)
		if !ok || want < 0 && idx == 0 || want >= 0 && idx != want { // the first follows the one in hand
			return false
		}
		want = idx + 1
		b = rest
	}
	return len(b) > 0 && b[0] == 0x00
}

// arrayElem splits the element at the start of b, whose value has a length
// prefix (a document or an array), into its key, its value and the rest.
func arrayElem(b []byte) (key, doc, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, nil, false
	}
	k := bytes.IndexByte(b[1:], 0x00)
	if k < 0 || len(b) < 1+k+1+4 {
		return nil, nil, nil, false
	}
	v := b[1+k+1:]
	size := int(int32(binary.LittleEndian.Uint32(v)))
	if size < 5 || size > len(v) {
		return nil, nil, nil, false
	}
	return b[1 : 1+k], v[:size:size], v[size:], true
}

// index reads an array key: a decimal number without a leading zero.
func index(key []byte) (int, bool) {
	if len(key) == 0 || len(key) > 9 || len(key) > 1 && key[0] == '0' {
		return 0, false
	}
	n := 0
	for _, c := range key {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// nextInBatch returns the next document of a batch checked by arrayRest.
func nextInBatch(b *[]byte) bson.Raw {
	_, doc, rest, _ := arrayElem(*b)
	*b = rest
	return bson.Raw(doc)
}

// Docs returns the documents one by one, each valid until the next (copy
// it, or Unmarshal it, to keep it). The iteration ends at the last document
// or at the first error, which it yields; breaking out of it closes the
// cursor. A Cursor is read once.
func (c *Cursor) Docs(ctx context.Context) iter.Seq2[bson.Raw, error] {
	return func(yield func(bson.Raw, error) bool) {
		if err := c.start(ctx); err != nil {
			yield(nil, err)
			return
		}
		defer c.Close(context.WithoutCancel(ctx))
		for {
			doc, err := c.next(ctx)
			if err == errCursorDone {
				return
			}
			if !yield(doc, err) || err != nil {
				return
			}
		}
	}
}

// All decodes every remaining document into results, a pointer to a slice,
// and closes the cursor (Motor's to_list(None)). As the driver's All, it
// decodes into the slice's elements from the first, appends past its
// length, and sets results only once every document is decoded.
func (c *Cursor) All(ctx context.Context, results any) error {
	if !c.plain {
		if err := c.start(ctx); err != nil {
			return err
		}
		_, err := cursorOp(ctx, c, func(ctx context.Context) (struct{}, error) { return struct{}{}, c.cur.All(ctx, results) })
		return err
	}
	// The driver's default registry and BSON options: the documents come
	// from Docs, each decoded through a reused reader (decodeDoc), where the
	// driver's All allocates 4 KiB per document.
	rv := reflect.ValueOf(results)
	if rv.Kind() != reflect.Pointer {
		return fmt.Errorf("results argument must be a pointer to a slice, but was a %s", rv.Kind())
	}
	sv := rv.Elem()
	if sv.Kind() == reflect.Interface {
		sv = sv.Elem()
	}
	if sv.Kind() != reflect.Slice {
		return fmt.Errorf("results argument must be a pointer to a slice, but was a pointer to %s", sv.Kind())
	}
	elem := sv.Type().Elem()
	n := 0
	for doc, err := range c.Docs(ctx) {
		if err != nil {
			return err
		}
		if n == sv.Len() {
			sv = reflect.Append(sv, reflect.Zero(elem))
			sv = sv.Slice(0, sv.Cap())
		}
		if err := decodeDoc(doc, sv.Index(n).Addr().Interface()); err != nil {
			return err
		}
		n++
	}
	rv.Elem().Set(sv.Slice(0, n))
	return nil
}

// Close closes the cursor, telling the server if it holds more results.
// It waits for a fetch still running on a goroutine for an await that was
// cancelled.
func (c *Cursor) Close(ctx context.Context) error {
	if c.cur == nil {
		if c.err == nil {
			c.err = errCursorDone
		}
		return nil
	}
	if c.fetching.Load() == 0 && c.cur.ID() == 0 { // exhausted: closing it tells the server nothing
		return c.cur.Close(ctx)
	}
	_, err := cursorOp(ctx, c, func(ctx context.Context) (struct{}, error) { return struct{}{}, c.cur.Close(ctx) })
	return err
}
