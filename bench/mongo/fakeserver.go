//go:build unix

package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// fakeServer answers the MongoDB wire protocol from memory, as fast as it
// can: the commands the benchmark's clients send (hello, find and getMore
// over 1,000 synthetic documents, insert) and ok to anything else. The
// embedded FerretDB answers a find in milliseconds, so that a client's CPU
// per operation would be mostly its runtime's idle costs; this server makes
// the client the bottleneck, as a real mongod on its own core does.
func fakeServer(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("mongodb://%s/\n", ln.Addr())
	os.Stdout.Sync()
	docs := make([]bson.Raw, ndocs)
	for i := range docs {
		docs[i], _ = bson.Marshal(doc{ID: i, N: i, Pad: pad})
	}
	// The answers to the cursor's find and getMore are the same every time:
	// made once, they cost the server a copy, not an encoding of 1,000
	// documents (which made the server, not the clients, the bottleneck of
	// a cursor at 32 tasks).
	fixed := map[string][]byte{
		"find":    answer(command("find", "docs"), docs, 0),
		"getMore": answer(command("getMore", "docs"), docs, 0),
	}
	var conns atomic.Int32
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serveFake(c, docs, fixed, conns.Add(1))
	}
}

// command is the command document {name: coll}.
func command(name, coll string) bson.Raw {
	b, _ := bson.Marshal(bson.D{{Key: name, Value: coll}})
	return b
}

const (
	opReply = 1
	opQuery = 2004
	opMsg   = 2013
)

func serveFake(c net.Conn, docs []bson.Raw, fixed map[string][]byte, id int32) {
	defer c.Close()
	var hdr [16]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		size := int(binary.LittleEndian.Uint32(hdr[0:]))
		reqID := binary.LittleEndian.Uint32(hdr[4:])
		op := binary.LittleEndian.Uint32(hdr[12:])
		if cap(buf) < size-16 {
			buf = make([]byte, size-16)
		}
		body := buf[:size-16]
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		var cmd bson.Raw
		switch op {
		case opMsg: // flags, then a kind-0 section first
			cmd = bson.Raw(body[5:])
			cmd = cmd[:binary.LittleEndian.Uint32(cmd)]
		case opQuery: // flags, collection name, skip, return, query
			p := 4
			for body[p] != 0 {
				p++
			}
			cmd = bson.Raw(body[p+9:])
			cmd = cmd[:binary.LittleEndian.Uint32(cmd)]
		default:
			return
		}
		reply, ok := fixed[firstKey(cmd)]
		if !ok || cmd.Lookup("filter", "_id").Type != 0 {
			reply = answer(cmd, docs, id)
		}
		var out []byte
		if op == opMsg {
			out = binary.LittleEndian.AppendUint32(make([]byte, 16, 21+len(reply)), 0)
			out = append(out, 0)
		} else {
			out = make([]byte, 16, 36+len(reply))
			out = binary.LittleEndian.AppendUint32(out, 0)
			out = binary.LittleEndian.AppendUint64(out, 0)
			out = binary.LittleEndian.AppendUint32(out, 0)
			out = binary.LittleEndian.AppendUint32(out, 1)
		}
		out = append(out, reply...)
		binary.LittleEndian.PutUint32(out[0:], uint32(len(out)))
		binary.LittleEndian.PutUint32(out[4:], reqID+1<<30)
		binary.LittleEndian.PutUint32(out[8:], reqID)
		if op == opMsg {
			binary.LittleEndian.PutUint32(out[12:], opMsg)
		} else {
			binary.LittleEndian.PutUint32(out[12:], opReply)
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// firstBatch is how many documents a find returns before getMore, as
// mongod's default.
const firstBatch = 101

// firstKey is a command's name: its document's first key.
func firstKey(cmd bson.Raw) string {
	e, err := cmd.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}

func answer(cmd bson.Raw, docs []bson.Raw, id int32) []byte {
	name := firstKey(cmd)
	var r bson.D
	switch name {
	case "hello", "isMaster", "ismaster":
		r = bson.D{{Key: "ismaster", Value: true}, {Key: "isWritablePrimary", Value: true}, {Key: "helloOk", Value: true},
			{Key: "maxBsonObjectSize", Value: 16 << 20}, {Key: "maxMessageSizeBytes", Value: 48000000}, {Key: "maxWriteBatchSize", Value: 100000},
			{Key: "localTime", Value: time.Now()}, {Key: "logicalSessionTimeoutMinutes", Value: 30}, {Key: "connectionId", Value: id},
			{Key: "minWireVersion", Value: 0}, {Key: "maxWireVersion", Value: 17}, {Key: "readOnly", Value: false}}
	case "find":
		batch := docs[:firstBatch]
		cursor := int64(1)
		if f, ok := cmd.Lookup("filter").DocumentOK(); ok {
			if v, err := f.LookupErr("_id"); err == nil {
				k, _ := v.AsInt64OK()
				batch, cursor = docs[k%ndocs:k%ndocs+1], 0
			}
		}
		r = bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: batch}, {Key: "id", Value: cursor}, {Key: "ns", Value: "bench.docs"}}}}
	case "getMore":
		r = bson.D{{Key: "cursor", Value: bson.D{{Key: "nextBatch", Value: docs[firstBatch:]}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: "bench.docs"}}}}
	case "insert":
		r = bson.D{{Key: "n", Value: 1}}
	case "count":
		r = bson.D{{Key: "n", Value: ndocs}}
	case "aggregate": // CountDocuments
		r = bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: bson.A{bson.D{{Key: "n", Value: ndocs}}}}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: "bench.docs"}}}}
	}
	r = append(r, bson.E{Key: "ok", Value: 1.0})
	b, _ := bson.Marshal(r)
	return b
}
