//go:build unix

// Command mongo measures MongoDB clients from one process, for
// bench/mongo/run.sh: aiomongo on an aio loop against the official driver
// used from goroutines, with the embedded server in a process of its own.
//
//	mongo server                 # starts the embedded server, prints its URI, serves until stdin closes
//	mongo fakeserver             # a wire-protocol server answering from memory (see fakeServer)
//	mongo client -impl aio|driver -op insert|findone|cursor -c 32 -d 2s URI
//
// A client prints one JSON line: operations, their rate, and the client
// process's CPU time per operation (user + system, from getrusage).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiomongo"
	"github.com/aio-go/aio/aiomongo/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: mongo server | mongo client [flags] URI")
	}
	switch os.Args[1] {
	case "server":
		srv, err := embedded.Start(nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(srv.URI())
		bufio.NewReader(os.Stdin).ReadString('\n') // until stdin closes
		srv.Close()
	case "fakeserver":
		fakeServer("127.0.0.1:0")
	case "client":
		client(os.Args[2:])
	default:
		log.Fatalf("unknown mode %q", os.Args[1])
	}
}

// The collections: "docs" holds 1,000 small documents with _id 0..999, for
// findone and cursor; insert writes to "ins".
const ndocs = 1000

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	impl := fs.String("impl", "aio", "aio, driver, or hop (the driver with a hand-off each way per call)")
	op := fs.String("op", "findone", "insert, findone or cursor")
	conc := fs.Int("c", 1, "concurrent tasks or goroutines")
	dur := fs.Duration("d", 2*time.Second, "measured window")
	warm := fs.Duration("warmup", 500*time.Millisecond, "unmeasured load first")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the whole run here")
	memprof := fs.String("memprofile", "", "write an allocation profile of the measured window here")
	reqCtx := fs.Bool("reqctx", false, "driver: each operation gets a cancellable context, as a request's in a server (aio's always are)")
	fs.Parse(args)
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	uri := fs.Arg(0)
	setup(uri)
	var ops atomic.Int64
	var measuring atomic.Bool
	var cpu0 time.Duration
	var t0 time.Time
	var mem0, mem1 runtime.MemStats
	window := func(stop func()) {
		time.Sleep(*warm)
		runtime.ReadMemStats(&mem0)
		cpu0, t0 = cpuTime(), time.Now()
		ops.Store(0)
		measuring.Store(true)
		time.Sleep(*dur)
		measuring.Store(false)
		stop()
	}
	var n int64
	var cpu, wall time.Duration
	finish := func() {
		n, cpu, wall = ops.Load(), cpuTime()-cpu0, time.Since(t0)
		runtime.ReadMemStats(&mem1)
		if *memprof != "" {
			f, err := os.Create(*memprof)
			if err != nil {
				log.Fatal(err)
			}
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	switch *impl {
	case "aio":
		err := aio.Run(context.Background(), func(ctx context.Context) error {
			c, err := aiomongo.NewClient(uri)
			if err != nil {
				return err
			}
			defer c.Disconnect(context.WithoutCancel(ctx))
			db := c.Database("bench")
			docs, ins := db.Collection("docs"), db.Collection("ins")
			stopped := make(chan struct{})
			go window(func() { close(stopped) })
			return aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
				for w := range *conc {
					g.Go(func(ctx context.Context) error {
						for i := w; ; i += *conc {
							select {
							case <-stopped:
								return nil
							default:
							}
							if err := aioOp(ctx, *op, docs, ins, i); err != nil {
								return err
							}
							if measuring.Load() {
								ops.Add(1)
							}
						}
					})
				}
				_, _, err := aio.Recv(ctx, stopped)
				finish()
				return err
			})
		}, aio.WithInterrupt(false))
		if err != nil {
			log.Fatal(err)
		}
	case "driver", "hop":
		c, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			log.Fatal(err)
		}
		ctx := context.Background()
		defer c.Disconnect(ctx)
		db := c.Database("bench")
		docs, ins := db.Collection("docs"), db.Collection("ins")
		call := func(i int) error { // the driver's call, from the calling goroutine
			octx, cancel := ctx, context.CancelFunc(func() {})
			if *reqCtx {
				octx, cancel = context.WithCancel(ctx)
			}
			defer cancel()
			return driverOp(octx, *op, docs, ins, i)
		}
		if *impl == "hop" {
			// Each call handed to another goroutine and its result handed
			// back, as aio does, without a loop: what two hand-offs per
			// operation cost in Go's scheduler.
			calls := make(chan func())
			defer close(calls)
			for range *conc {
				go func() {
					for fn := range calls {
						fn()
					}
				}()
			}
			direct := call
			call = func(i int) error {
				done := make(chan error, 1)
				calls <- func() { done <- direct(i) }
				return <-done
			}
		}
		stopped := make(chan struct{})
		var wg sync.WaitGroup
		for w := range *conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; ; i += *conc {
					select {
					case <-stopped:
						return
					default:
					}
					if err := call(i); err != nil {
						log.Fatal(err)
					}
					if measuring.Load() {
						ops.Add(1)
					}
				}
			}()
		}
		window(func() { finish(); close(stopped) })
		wg.Wait()
	default:
		log.Fatalf("unknown -impl %q", *impl)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": *impl, "op": *op, "c": *conc, "ops": n,
		"ops_per_s":      float64(n) / wall.Seconds(),
		"cpu_us_per_op":  float64(cpu.Microseconds()) / float64(max(n, 1)),
		"alloc_b_per_op": float64(mem1.TotalAlloc-mem0.TotalAlloc) / float64(max(n, 1)),
		"allocs_per_op":  float64(mem1.Mallocs-mem0.Mallocs) / float64(max(n, 1)),
	})
}

type doc struct {
	ID  int    `bson:"_id"`
	N   int    `bson:"n"`
	Pad string `bson:"pad"`
}

const pad = "0123456789abcdef0123456789abcdef"

func aioOp(ctx context.Context, op string, docs, ins *aiomongo.Collection, i int) error {
	switch op {
	case "insert":
		_, err := ins.InsertOne(ctx, bson.M{"n": i, "pad": pad})
		return err
	case "findone":
		var d doc
		return docs.FindOne(ctx, bson.M{"_id": i % ndocs}, &d)
	case "cursor":
		n := 0
		for _, err := range docs.Find(ctx, bson.M{}).Docs(ctx) {
			if err != nil {
				return err
			}
			n++
		}
		if n != ndocs {
			return fmt.Errorf("cursor read %d documents", n)
		}
		return nil
	}
	return fmt.Errorf("unknown -op %q", op)
}

func driverOp(ctx context.Context, op string, docs, ins *mongo.Collection, i int) error {
	switch op {
	case "insert":
		_, err := ins.InsertOne(ctx, bson.M{"n": i, "pad": pad})
		return err
	case "findone":
		var d doc
		return docs.FindOne(ctx, bson.M{"_id": i % ndocs}).Decode(&d)
	case "cursor":
		cur, err := docs.Find(ctx, bson.M{})
		if err != nil {
			return err
		}
		defer cur.Close(ctx)
		n := 0
		for cur.Next(ctx) {
			n++
		}
		if n != ndocs {
			return fmt.Errorf("cursor read %d documents: %v", n, cur.Err())
		}
		return cur.Err()
	}
	return fmt.Errorf("unknown -op %q", op)
}

// setup fills "docs" once (a server started fresh has none) and empties
// "ins".
func setup(uri string) {
	ctx := context.Background()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Disconnect(ctx)
	db := c.Database("bench")
	if n, err := db.Collection("docs").CountDocuments(ctx, bson.M{}); err != nil {
		log.Fatal(err)
	} else if n != ndocs {
		db.Collection("docs").Drop(ctx)
		all := make([]any, ndocs)
		for i := range all {
			all[i] = doc{ID: i, N: i, Pad: pad}
		}
		if _, err := db.Collection("docs").InsertMany(ctx, all); err != nil {
			log.Fatal(err)
		}
	}
	db.Collection("ins").Drop(ctx)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
