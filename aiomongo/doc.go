// Package aiomongo is a MongoDB client for tasks (Motor's
// AsyncIOMotorClient). It runs each of the official Go driver's operations on
// a goroutine of its own (aio.ToGoroutine) and suspends the calling task
// until it reports: a task waiting for the database frees the loop for the
// others, and the driver keeps its own connection pool, server monitoring,
// retries, sessions and BSON handling (go.mongodb.org/mongo-driver/v2), none
// of it rewritten. As many operations are in flight as the driver's pool
// lets through (maxPoolSize, 100 by default): Motor ran PyMongo on a thread
// pool, and a pool of loop threads (aio.ToThread, min(32, GOMAXPROCS+4))
// would hold a server's requests back behind a handful of them. A goroutine
// per operation costs a few kilobytes and a microsecond; the driver's own
// dialer over aio's sockets would save that but put the driver's blocking
// protocol code on the loop, and its monitoring goroutines would still run.
// What the hand-off costs is won back below the driver's calls: the client
// dials its connections with a read buffer (a reply in one read system call,
// not two) and, on Unix, writes a request from the read that waits for its
// reply (no read that finds nothing first), decodes a single document without the 4 KiB reader the driver
// allocates for each, and reads the server's last batch of a cursor in the
// reply it came in, without the driver's allocation per document.
//
//	client, err := aiomongo.NewClient("mongodb://localhost:27017")
//	coll := client.Database("test_database").Collection("test_collection")
//	_, err = coll.InsertOne(ctx, bson.M{"key": "value"})
//	for doc, err := range coll.Find(ctx, bson.M{"key": "value"}).Docs(ctx) {
//		fmt.Println(doc)
//	}
//
// Every method that talks to the server takes a context and may be called
// from any task; cancelling the task cancels the driver's operation too (it
// is given a context cancelled with the await). A cursor walks the batch it
// holds on the loop itself and goes to a goroutine only to fetch the next one.
// What this package does not wrap is one call away: Driver returns the
// driver's own client, database or collection, whose methods a task runs
// with aio.ToGoroutine.
//
// Sessions and transactions (Client.StartSession, Session.WithTransaction)
// run the transaction's callback in the calling task, so it may await other
// aio code; change streams (Collection.Watch) are an iter.Seq2; GridFS files
// (Database.GridFSBucket) are written and read through an io.Writer and an
// io.Reader that suspend the task.
//
// Package embedded starts a MongoDB-compatible server in the process, for
// demos and tests. This module holds the heavy dependencies so that users of
// aio's core never download them.
//
// The package owns the bridge between the driver's blocking calls and the
// loop's tasks, and nothing else: connection pooling, server selection,
// retries and BSON stay the driver's, and must not be redone here.
package aiomongo
