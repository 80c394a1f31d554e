package aiomongo_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiomongo"
	"github.com/aio-go/aio/aiotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// slowProxy forwards connections to addr, holding each reply back by delay:
// a server whose every operation takes at least that long. stop closes it
// and waits for its goroutines.
func slowProxy(t *testing.T, addr string, delay time.Duration) (proxy string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						time.Sleep(delay)
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), func() { ln.Close(); wg.Wait() }
}

// TestConcurrencyIsThePoolsNotTheLoops: 1,000 tasks each run a query against
// a server that takes 20 ms per reply; as many run at once as the driver's
// pool has connections (32 here), where the loop's thread pool let 6 through
// (min(32, GOMAXPROCS+4) on two cores) and the queries took 6 times longer.
func TestConcurrencyIsThePoolsNotTheLoops(t *testing.T) {
	const poolSize, tasks = 32, 1000
	defer aiotest.CheckLeaks(t)()
	proxy, stop := slowProxy(t, strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/"), 20*time.Millisecond)
	defer stop()
	var inFlight, most atomic.Int32
	monitor := &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if e.CommandName == "find" {
				n := inFlight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
			}
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			if e.CommandName == "find" {
				inFlight.Add(-1)
			}
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			if e.CommandName == "find" {
				inFlight.Add(-1)
			}
		},
	}
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		var pool aiomongo.PoolCounter
		client, err := aiomongo.NewClient("mongodb://"+proxy+"/?directConnection=true",
			options.Client().SetMaxPoolSize(poolSize).SetMonitor(monitor).SetPoolMonitor(&event.PoolMonitor{Event: pool.Event}))
		if err != nil {
			return err
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		db := client.Database("pool")
		defer db.Drop(context.WithoutCancel(ctx)) // FerretDB keeps a goroutine per database
		coll := db.Collection("c")
		if _, err := coll.InsertOne(ctx, bson.M{"_id": 1}); err != nil {
			return err
		}
		var seen aiomongo.PoolStats // the most of each figure, sampled while the queries run
		err = aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
			for range tasks {
				g.Go(func(ctx context.Context) error {
					var doc bson.M
					return coll.FindOne(ctx, bson.M{"_id": 1}, &doc)
				})
			}
			for inFlight.Load() > 0 || pool.Stats().Waiting > 0 || seen.InUse == 0 {
				st := pool.Stats()
				seen = aiomongo.PoolStats{Open: max(seen.Open, st.Open),
					InUse: max(seen.InUse, st.InUse), Waiting: max(seen.Waiting, st.Waiting)}
				if err := aio.Sleep(ctx, time.Millisecond); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if seen.InUse != poolSize || seen.Open != poolSize || seen.Waiting < tasks-2*poolSize {
			t.Errorf("Stats at their most: %+v; want %d in use and open, most of the %d tasks waiting", seen, poolSize, tasks)
		}
		if st := pool.Stats(); st.InUse != 0 || st.Waiting != 0 || st.Open != poolSize {
			t.Errorf("Stats after: %+v; want nothing in flight, %d open", st, poolSize)
		}
		return nil
	}, aio.WithInterrupt(false))
	if err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m < poolSize {
		t.Errorf("at most %d queries in flight at once; the pool has %d connections", m, poolSize)
	}
}
