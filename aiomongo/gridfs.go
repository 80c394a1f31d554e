package aiomongo

import (
	"context"
	"sync"

	"github.com/aio-go/aio"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Bucket is a GridFS bucket: files stored in chunks in two collections
// (Motor's AsyncIOMotorGridFSBucket).
type Bucket struct{ b *mongo.GridFSBucket }

// GridFSBucket returns the database's bucket ("fs" unless opts name
// another). It does no I/O.
func (d *Database) GridFSBucket(opts ...options.Lister[options.BucketOptions]) *Bucket {
	return &Bucket{d.db.GridFSBucket(opts...)}
}

// OpenUploadStream starts a file: write it with UploadStream.Write, which
// suspends the task while a chunk goes to the server, then Close it (Abort
// drops what was written).
func (b *Bucket) OpenUploadStream(ctx context.Context, filename string, opts ...options.Lister[options.GridFSUploadOptions]) (*UploadStream, error) {
	// The driver keeps the context it opens a stream with for the stream's
	// later calls: it gets one that lasts until Close.
	sctx := context.WithoutCancel(ctx)
	us, err := aio.ToGoroutine(ctx, func(context.Context) (*mongo.GridFSUploadStream, error) {
		return b.b.OpenUploadStream(sctx, filename, opts...)
	})
	if err != nil {
		return nil, err
	}
	return &UploadStream{ctx: ctx, us: us}, nil
}

// OpenDownloadStream opens the file whose _id is id for reading with
// DownloadStream.Read, which suspends the task while a chunk comes from the
// server. It returns mongo.ErrFileNotFound if there is no such file.
func (b *Bucket) OpenDownloadStream(ctx context.Context, id any) (*DownloadStream, error) {
	sctx := context.WithoutCancel(ctx) // as OpenUploadStream's
	ds, err := aio.ToGoroutine(ctx, func(context.Context) (*mongo.GridFSDownloadStream, error) {
		return b.b.OpenDownloadStream(sctx, id)
	})
	if err != nil {
		return nil, err
	}
	return &DownloadStream{ctx: ctx, ds: ds}, nil
}

// Delete deletes the file whose _id is id, and its chunks.
func (b *Bucket) Delete(ctx context.Context, id any) error {
	return run(ctx, func(ctx context.Context) error { return b.b.Delete(ctx, id) })
}

// Drop drops the bucket's two collections.
func (b *Bucket) Drop(ctx context.Context) error { return run(ctx, b.b.Drop) }

// Driver returns the driver's bucket.
func (b *Bucket) Driver() *mongo.GridFSBucket { return b.b }

// UploadStream writes a GridFS file (io.WriteCloser). Its methods belong to
// the task that opened it and suspend it while the driver works; a
// cancelled task stops waiting at once, and the call it left finishes on its
// goroutine (a chunk is written whole, or not), so Abort can clean up.
type UploadStream struct {
	ctx context.Context
	mu  sync.Mutex // held while a goroutine uses us (one whose await was cancelled, until the driver returns)
	us  *mongo.GridFSUploadStream
}

// FileID returns the _id the file will have.
func (u *UploadStream) FileID() any { return u.us.FileID }

// Write adds p to the file.
func (u *UploadStream) Write(p []byte) (int, error) {
	return aio.ToGoroutine(u.ctx, func(context.Context) (int, error) {
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.us.Write(p)
	})
}

// Close writes what is left and the file's document: the file exists once
// Close has returned nil.
func (u *UploadStream) Close() error {
	return run(context.WithoutCancel(u.ctx), func(context.Context) error {
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.us.Close()
	})
}

// Abort drops the file: the chunks written so far are deleted.
func (u *UploadStream) Abort() error {
	return run(context.WithoutCancel(u.ctx), func(context.Context) error {
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.us.Abort()
	})
}

// DownloadStream reads a GridFS file (io.ReadCloser). Its methods belong to
// the task that opened it, as UploadStream's.
type DownloadStream struct {
	ctx context.Context
	mu  sync.Mutex
	ds  *mongo.GridFSDownloadStream
}

// Read reads the next bytes of the file; io.EOF at its end.
func (d *DownloadStream) Read(p []byte) (int, error) {
	return aio.ToGoroutine(d.ctx, func(context.Context) (int, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.ds.Read(p)
	})
}

// Close closes the stream.
func (d *DownloadStream) Close() error {
	return run(context.WithoutCancel(d.ctx), func(context.Context) error {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.ds.Close()
	})
}
