// Command tour runs the examples of the asyncio lecture
// (../shared/seed/asyncio-lecture.txt) with aio, chapter by chapter.
//
//	go run ./examples/tour            # every chapter, on a virtual clock
//	go run ./examples/tour -real      # on the real clock (takes about a minute)
//	go run ./examples/tour -chapter gather
//	go run ./examples/tour -chapter aiohttp -url https://www.google.com/
//	go run ./examples/tour -chapter motor -mongo mongodb://localhost:27017/
//
// Each line is stamped with the time elapsed on the loop's clock, in place of
// the lecture's time.strftime('%X').
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiodebug"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aiomongo"
	"github.com/aio-go/aio/aiomongo/embedded"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/gen"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// chapter is one section of the lecture. run is main's body under aio.Run;
// a chapter that drives a loop by hand has raw instead.
type chapter struct {
	name, title string
	run         func(ctx context.Context) error
	raw         func(opts ...aio.Option) error
}

var chapters = []chapter{
	{"generators", "From the very beginning: generators, send, yield from", nil, generators},
	{"generator-coroutine", "A generator-based coroutine driven by the event loop", countdownChapter, nil},
	{"event-loop", "Event loop: print_sum awaits compute", nil, eventLoop},
	{"sleep", "Event loop: sleep is a future completed by call_later", sleepFromFuture, nil},
	{"hello", "Modern asyncio: hello world", hello, nil},
	{"say-after", "Scheduling coroutines: awaited in turn, then as tasks", sayAfter, nil},
	{"gather", "asyncio.gather", gather, nil},
	{"taskgroup", "asyncio.TaskGroup", taskGroup, nil},
	{"wait-for", "Waiting & timeouts: wait_for(eternity(), timeout=1)", waitFor, nil},
	{"cancel", "Cancelling coroutines: cleanup that awaits", cancelCleanup, nil},
	{"shield", "Shielding coroutines from cancellation", shield, nil},
	{"as-completed", "as_completed", asCompleted, nil},
	{"async-with", "async with: a Lock held across awaits", asyncWith, nil},
	{"async-for", "async for: an async generator, aiter and anext", asyncFor, nil},
	{"to-thread", "Running synchronous code: asyncio.to_thread", toThread, nil},
	{"io", "Asynchronous I/O: a server and its clients on loopback", loopbackIO, nil},
	{"aiohttp", "aiohttp: a client session fetching pages", fetchPages, nil},
	{"motor", "Motor: MongoDB from tasks (on an embedded server)", motor, nil},
	{"server", "The tables turned: a server that awaits its backends", backendServer, nil},
	{"chat", "WebSockets: a broadcast chat", chat, nil},
	{"timeline", "Debugging asyncio: a timeline picture and a task tree", nil, timeline},
}

var (
	out   io.Writer = os.Stdout
	start time.Time // the current chapter's start on the loop's clock
)

func main() {
	real := flag.Bool("real", false, "run on the real clock instead of a virtual one")
	only := flag.String("chapter", "", "run only this chapter (see -list)")
	list := flag.Bool("list", false, "list the chapters")
	flag.StringVar(&pageURL, "url", "", "the page the aiohttp chapter fetches first (default: one served on loopback)")
	flag.StringVar(&mongoURI, "mongo", "", "the MongoDB the motor chapter uses, mongodb://... (default: an embedded server)")
	flag.StringVar(&svgPath, "svg", svgPath, "where the timeline chapter writes its picture")
	flag.Parse()
	if *list {
		for _, c := range chapters {
			fmt.Printf("%-13s %s\n", c.name, c.title)
		}
		return
	}
	if err := tour(*only, *real); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// tour runs the chapters (or only one) and prints to out.
func tour(only string, real bool) error {
	ran := false
	for _, c := range chapters {
		if only != "" && only != c.name {
			continue
		}
		ran = true
		fmt.Fprintf(out, "\n== %s ==\n", c.title)
		var opts []aio.Option
		if !real {
			opts = append(opts, aio.WithClock(aio.NewVirtualClock(time.Time{})))
		}
		var err error
		if c.raw != nil {
			err = c.raw(opts...)
		} else {
			err = aio.Run(context.Background(), func(ctx context.Context) error {
				start = aio.LoopOf(ctx).Now()
				return c.run(ctx)
			}, opts...)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	if !ran {
		return fmt.Errorf("no chapter %q (see -list)", only)
	}
	return nil
}

// say prints a line stamped with the loop time elapsed in this chapter.
func say(ctx context.Context, format string, args ...any) {
	d := aio.LoopOf(ctx).Now().Sub(start).Round(time.Millisecond)
	fmt.Fprintf(out, "[%5s] %s\n", d, fmt.Sprintf(format, args...))
}

// compute is the lecture's `async def compute(a, b)`: in Go, a function that
// takes a context. Awaiting it is calling it.
func compute(ctx context.Context, a, b int) (int, error) {
	say(ctx, "Compute...")
	if err := aio.Sleep(ctx, time.Second); err != nil {
		return 0, err
	}
	return a + b, nil
}

func eventLoop(opts ...aio.Option) error {
	// loop.run_until_complete(print_sum(1, 2)), on a loop driven by hand.
	loop := aio.NewLoop(opts...)
	defer loop.Close()
	start = loop.Now()
	printSum := aio.Go(loop.Context(), func(ctx context.Context) error {
		result, err := compute(ctx, 1, 2) // await compute(a, b)
		if err != nil {
			return err
		}
		say(ctx, "%d + %d = %d", 1, 2, result)
		return nil
	})
	if err := loop.RunUntilComplete(printSum); err != nil {
		return err
	}
	return printSum.Err()
}

// sleep is the lecture's simplified asyncio.sleep: a future that a timer
// callback completes.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return aio.Yield(ctx) // __sleep0: let the other tasks run
	}
	loop := aio.LoopOf(ctx)
	future := aio.NewFuture[struct{}](ctx)
	loop.CallLater(d, func() { future.SetResult(struct{}{}) })
	_, err := future.Await(ctx)
	return err
}

func sleepFromFuture(ctx context.Context) error {
	say(ctx, "sleeping 2 s on a future")
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	say(ctx, "woken by call_later")
	return nil
}

func hello(ctx context.Context) error {
	say(ctx, "Hello ...")
	if err := aio.Sleep(ctx, time.Second); err != nil {
		return err
	}
	say(ctx, "... World!")
	return nil
}

func sayAfterFn(ctx context.Context, d time.Duration, what string) error {
	say(ctx, "wait for %v", d)
	if err := aio.Sleep(ctx, d); err != nil {
		return err
	}
	say(ctx, "%s", what)
	return nil
}

func sayAfter(ctx context.Context) error {
	say(ctx, "started (awaited in turn)")
	if err := sayAfterFn(ctx, time.Second, "hello"); err != nil {
		return err
	}
	if err := sayAfterFn(ctx, 2*time.Second, "world"); err != nil {
		return err
	}
	say(ctx, "finished: 3 s")

	t0 := aio.LoopOf(ctx).Now()
	task1 := aio.Go(ctx, func(ctx context.Context) error { return sayAfterFn(ctx, 2*time.Second, "hello") })
	task2 := aio.Go(ctx, func(ctx context.Context) error { return sayAfterFn(ctx, time.Second, "world") })
	say(ctx, "started (as two tasks)")
	if _, err := task1.Await(ctx); err != nil {
		return err
	}
	if _, err := task2.Await(ctx); err != nil {
		return err
	}
	say(ctx, "finished: %v", aio.LoopOf(ctx).Now().Sub(t0))
	return nil
}

func factorial(ctx context.Context, name string, number int) (int, error) {
	result := 1
	for i := 2; i <= number; i++ {
		say(ctx, "Task %s: Compute factorial(%d)...", name, i)
		if err := aio.Sleep(ctx, time.Second); err != nil {
			return 0, err
		}
		result *= i
	}
	say(ctx, "Task %s: factorial(%d) = %d", name, number, result)
	return result, nil
}

func gather(ctx context.Context) error {
	results, err := aio.Gather(ctx,
		func(ctx context.Context) (int, error) { return factorial(ctx, "A", 2) },
		func(ctx context.Context) (int, error) { return factorial(ctx, "B", 3) },
		func(ctx context.Context) (int, error) { return factorial(ctx, "C", 4) },
	)
	say(ctx, "gather: %v %v", results, err)
	// return_exceptions=True: every result and error, in order.
	all, _ := aio.GatherAll(ctx,
		func(ctx context.Context) (int, error) { return factorial(ctx, "D", 2) },
		func(context.Context) (int, error) { return 0, errors.New("no factorial for you") },
	)
	say(ctx, "gather(return_exceptions=True): %+v", all)
	return err
}

func taskGroup(ctx context.Context) error {
	err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
		for _, c := range []struct {
			name string
			n    int
		}{{"A", 2}, {"B", 3}, {"C", 4}} {
			tg.Go(func(ctx context.Context) error {
				_, err := factorial(ctx, c.name, c.n)
				return err
			})
		}
		say(ctx, "tasks pending to start")
		return nil
	})
	say(ctx, "tasks complete")
	if err != nil {
		return err
	}
	// The first failure cancels the others; every error comes back.
	err = aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
		tg.Go(func(ctx context.Context) error {
			if err := aio.Sleep(ctx, time.Hour); err != nil {
				say(ctx, "sibling cancelled: %v", err)
				return err
			}
			return nil
		})
		tg.Go(func(ctx context.Context) error {
			aio.Sleep(ctx, time.Second)
			return errors.New("division by zero")
		})
		return nil
	})
	say(ctx, "group failed with: %v", err)
	return nil
}

func waitFor(ctx context.Context) error {
	eternity := func(ctx context.Context) (struct{}, error) {
		if err := aio.Sleep(ctx, time.Hour); err != nil {
			return struct{}{}, err
		}
		say(ctx, "yay!")
		return struct{}{}, nil
	}
	if _, err := aio.WaitFor(ctx, time.Second, eternity); errors.Is(err, context.DeadlineExceeded) {
		say(ctx, "timeout!")
	}
	return nil
}

func cancelCleanup(ctx context.Context) error {
	anotherEternity := func(ctx context.Context) (_ struct{}, err error) {
		defer func() {
			say(ctx, "cancelled")
			// ctx is cancelled now; cleanup awaits with a context that is not.
			if e := aio.Sleep(context.WithoutCancel(ctx), 5*time.Second); e != nil {
				err = e
			}
		}()
		if err := aio.Sleep(ctx, time.Hour); err != nil {
			return struct{}{}, err
		}
		say(ctx, "yay!")
		return struct{}{}, nil
	}
	say(ctx, "started")
	if _, err := aio.WaitFor(ctx, time.Second, anotherEternity); errors.Is(err, context.DeadlineExceeded) {
		say(ctx, "timeout!")
	}
	say(ctx, "finished: 1 s of timeout plus 5 s of cleanup")
	return nil
}

func shield(ctx context.Context) error {
	var important *aio.Task[struct{}]
	importantTask := func(ctx context.Context) (struct{}, error) {
		important = aio.CurrentTask(ctx).(*aio.Task[struct{}])
		say(ctx, "important task started")
		if err := aio.Sleep(ctx, 5*time.Second); err != nil {
			return struct{}{}, err
		}
		say(ctx, "important task finished")
		return struct{}{}, nil
	}
	say(ctx, "started")
	_, err := aio.WaitFor(ctx, time.Second, func(ctx context.Context) (struct{}, error) {
		return aio.Shield(ctx, importantTask)
	})
	if errors.Is(err, context.DeadlineExceeded) {
		say(ctx, "timeout!")
	}
	say(ctx, "finished")
	// In the notebook the loop keeps running; a program waits for the task.
	_, err = important.Await(ctx)
	return err
}

func asCompleted(ctx context.Context) error {
	type pair struct{ number, result int }
	fact := func(number int) func(context.Context) (pair, error) {
		return func(ctx context.Context) (pair, error) {
			result := 1
			for i := 2; i <= number; i++ {
				if err := aio.Sleep(ctx, time.Second); err != nil {
					return pair{}, err
				}
				result *= i
			}
			return pair{number, result}, nil
		}
	}
	for p, err := range aio.AsCompleted(ctx, fact(4), fact(3), fact(5), fact(2)) {
		if err != nil {
			return err
		}
		say(ctx, "Factorial(%d) = %d", p.number, p.result)
	}
	return nil
}

// ---- From the very beginning: generators (package gen) ----

func eagerRange(upTo int) []int {
	var sequence []int
	for index := 0; index < upTo; index++ {
		sequence = append(sequence, index)
	}
	return sequence
}

func lazyRange(upTo int) *gen.Generator[int, struct{}, struct{}] {
	return gen.New(func(y *gen.Yielder[int, struct{}]) (struct{}, error) {
		for index := 0; index < upTo; index++ {
			if _, err := y.Yield(index); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
}

// jumpingRange: Next sends the zero value, Python's None, a jump of 1.
func jumpingRange(upTo int) *gen.Generator[int, int, struct{}] {
	return gen.New(func(y *gen.Yielder[int, int]) (struct{}, error) {
		index := 0
		for index < upTo {
			jump, err := y.Yield(index)
			if err != nil {
				return struct{}{}, err
			}
			if jump == 0 {
				jump = 1
			}
			index += jump
		}
		return struct{}{}, nil
	})
}

func bottom() *gen.Generator[int, struct{}, int] {
	return gen.New(func(y *gen.Yielder[int, struct{}]) (int, error) {
		y.Yield(42)
		y.Yield(84)
		return 0, nil
	})
}

func top() *gen.Generator[int, struct{}, int] {
	return gen.New(func(y *gen.Yielder[int, struct{}]) (int, error) {
		value, err := gen.YieldFrom(y, bottom())
		fmt.Fprintln(out, "top: bottom returned", value)
		return value, err
	})
}

func generators(...aio.Option) error {
	fmt.Fprintln(out, "eager_range(5):", eagerRange(5))
	fmt.Fprintln(out, "list(lazy_range(5)):", slices.Collect(lazyRange(5).All()))
	g := jumpingRange(5)
	v, _ := g.Next()
	fmt.Fprintln(out, "next   :", v)
	v, _ = g.Send(2)
	fmt.Fprintln(out, "send  2:", v)
	v, _ = g.Next()
	fmt.Fprintln(out, "next   :", v)
	v, _ = g.Send(-1)
	fmt.Fprintln(out, "send -1:", v)
	fmt.Fprintln(out, "list(top()):", slices.Collect(top().All()))
	t := top()
	a, _ := t.Next()
	b, _ := t.Next()
	fmt.Fprintln(out, "next(generator), next(generator):", a, b)
	if _, err := t.Next(); errors.Is(err, gen.ErrStop) {
		value, _ := t.Value()
		fmt.Fprintln(out, "StopIteration value:", value)
	}
	return nil
}

// countdownChapter: a generator-based coroutine (@types.coroutine) yields the
// futures it waits for; the event loop (here, a task) resumes it when each
// is done. async/await does the same with a task's own stack.
func countdownChapter(ctx context.Context) error {
	countdown := func(n int) *gen.Generator[*aio.Future[struct{}], struct{}, struct{}] {
		return gen.New(func(y *gen.Yielder[*aio.Future[struct{}], struct{}]) (struct{}, error) {
			for n > 0 {
				say(ctx, "Count: %d", n)
				fut := aio.NewFuture[struct{}](ctx) // asyncio.sleep(1), by hand
				aio.LoopOf(ctx).CallLater(time.Second, func() { fut.SetResult(struct{}{}) })
				if _, err := y.Yield(fut); err != nil {
					return struct{}{}, err
				}
				n--
			}
			return struct{}{}, nil
		})
	}
	// loop.run_until_complete(countdown(3)): resume the coroutine each time
	// the future it yielded is done.
	coro := countdown(3)
	for fut := range coro.All() {
		say(ctx, "yielded a future, done? %v", fut.Done())
		if _, err := fut.Await(ctx); err != nil {
			return err
		}
	}
	say(ctx, "countdown finished")
	return nil
}

// ---- async with ----

func asyncWith(ctx context.Context) error {
	var lock aio.Lock
	balance := 100
	withdraw := func(ctx context.Context, who string, amount int) error {
		if err := lock.Lock(ctx); err != nil { // async with lock:
			return err
		}
		defer lock.Unlock()
		seen := balance
		if err := aio.Sleep(ctx, time.Second); err != nil { // an await inside the critical section
			return err
		}
		balance = seen - amount
		say(ctx, "%s withdrew %d, balance %d", who, amount, balance)
		return nil
	}
	err := aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
		g.Go(func(ctx context.Context) error { return withdraw(ctx, "alice", 30) })
		g.Go(func(ctx context.Context) error { return withdraw(ctx, "bob", 50) })
		return nil
	})
	say(ctx, "final balance %d (without the lock it would be 50)", balance)
	return err
}

// ---- async for ----

// ticker is the lecture's async generator: an iterator whose body awaits.
func ticker(ctx context.Context, upto int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range upto {
			if err := aio.Sleep(ctx, time.Second); err != nil {
				yield(0, err)
				return
			}
			if !yield(i, nil) {
				return
			}
		}
	}
}

func asyncFor(ctx context.Context) error {
	for i, err := range ticker(ctx, 3) { // async for i in ticker(3)
		if err != nil {
			return err
		}
		say(ctx, "%d", i)
	}
	next, stop := iter.Pull2(ticker(ctx, 2)) // aiter(ticker(2))
	defer stop()
	for range 3 {
		i, err, ok := next() // await anext(async_iter)
		if !ok {
			say(ctx, "StopAsyncIteration")
			break
		}
		say(ctx, "anext: %d %v", i, err)
	}
	return nil
}

// ---- Running synchronous code ----

// blockFor is how long blockingIO blocks (shortened by the tour's test).
var blockFor = time.Second

var outMu sync.Mutex

func blockingIO(context.Context) (struct{}, error) {
	outMu.Lock()
	fmt.Fprintln(out, "        start blocking IO")
	outMu.Unlock()
	time.Sleep(blockFor) // blocks its goroutine, not the loop
	outMu.Lock()
	fmt.Fprintln(out, "        finished blocking IO")
	outMu.Unlock()
	return struct{}{}, nil
}

func toThread(ctx context.Context) error {
	say(ctx, "=== WITHOUT ToThread: sequential ===")
	start := time.Now()
	for range 3 {
		blockingIO(ctx)
	}
	sequential := time.Since(start)
	say(ctx, "=== WITH ToThread: parallel ===")
	start = time.Now()
	thread := func(ctx context.Context) (struct{}, error) { return aio.ToThread(ctx, blockingIO) }
	if _, err := aio.Gather(ctx, thread, thread, thread); err != nil {
		return err
	}
	parallel := time.Since(start)
	say(ctx, "sequential took %.1f blocking calls, parallel %.1f", sequential.Seconds()/blockFor.Seconds(), parallel.Seconds()/blockFor.Seconds())
	return nil
}

// ---- Asynchronous I/O ----

// loopbackIO: a server whose handler waits on the network (and sleeps, as a
// slow database would) while the loop serves the other connections.
func loopbackIO(ctx context.Context) error {
	srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
		for {
			line, err := s.ReadLine(ctx) // waits for the client without blocking the loop
			if err != nil {
				return nil // the client is done
			}
			if err := aio.Sleep(ctx, time.Second); err != nil { // a slow backend
				return err
			}
			s.Write([]byte("echo: " + string(line)))
			if err := s.Drain(ctx); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	say(ctx, "server listening")
	replies := make([]string, 3)
	err = aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
		for i, name := range []string{"alice", "bob", "carol"} {
			g.Go(func(ctx context.Context) error {
				c, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
				if err != nil {
					return err
				}
				defer c.Close()
				c.Write([]byte("hello from " + name + "\n"))
				reply, err := c.ReadLine(ctx)
				replies[i] = string(reply)
				return err
			})
		}
		return nil
	})
	for _, r := range replies {
		fmt.Fprint(out, "        ", r)
	}
	say(ctx, "three requests of 1 s each, served together")
	return err
}

// pageURL is the page the aiohttp chapter fetches first; empty: its own.
var pageURL string

// fetchPages is the lecture's aiohttp example: a session, a GET, the start
// of the text. The pages come from an aiohttp.Server on the same loop, each
// taking a second to answer; three fetched together take one second.
func fetchPages(ctx context.Context) error {
	site, stop, err := serve(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := aio.Sleep(r.Context(), time.Second); err != nil { // a slow site
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html lang=\"en\"><head><title>page %s</title></head><body>...</body></html>", r.URL.Path)
	}))
	if err != nil {
		return err
	}
	defer stop()
	first := pageURL
	if first == "" {
		first = site + "/"
	}

	session := &aiohttp.Session{} // async with aiohttp.ClientSession() as session:
	defer session.Close()
	resp, err := session.Get(ctx, first) //     async with session.get(url) as resp:
	if err != nil {
		return err
	}
	text, err := resp.Text(ctx) //             text = await resp.text()
	if err != nil {
		return err
	}
	say(ctx, "%s %s ...", resp.Status, text[:min(70, len(text))])

	title := func(n int) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			resp, err := session.Get(ctx, fmt.Sprintf("%s/%d", site, n))
			if err != nil {
				return "", err
			}
			text, err := resp.Text(ctx)
			return text[strings.Index(text, "<title>")+7 : strings.Index(text, "</title>")], err
		}
	}
	titles, err := aio.Gather(ctx, title(1), title(2), title(3))
	if err != nil {
		return err
	}
	say(ctx, "fetched %q together: three pages of 1 s each", titles)
	return nil
}

// mongoURI is the server the motor chapter uses; empty: an embedded one.
var mongoURI string

// motor is the lecture's Motor example: insert_one, then async for over
// find. The driver's calls run on the loop's threads, as Motor runs
// PyMongo's; the tasks await them. Without -mongo, an embedded server
// (FerretDB on SQLite, in the process) stands in for MongoDB.
func motor(ctx context.Context) error {
	uri := mongoURI
	if uri == "" {
		srv, err := embedded.Start(nil)
		if err != nil {
			return err
		}
		defer srv.Close()
		uri = srv.URI()
	}
	client, err := aiomongo.NewClient(uri) // client = AsyncIOMotorClient('localhost', 27017)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	coll := client.Database("test_database").Collection("test_collection")
	defer coll.Drop(context.WithoutCancel(ctx))

	// await client.test_database.test_collection.insert_one({'key': 'value'})
	if _, err := coll.InsertOne(ctx, bson.M{"key": "value"}); err != nil {
		return err
	}
	// async for document in ....find({'key': 'value'}): print(document)
	noID := options.Find().SetProjection(bson.M{"_id": 0}) // the _id differs at every run
	for doc, err := range coll.Find(ctx, bson.M{"key": "value"}, noID).Docs(ctx) {
		if err != nil {
			return err
		}
		say(ctx, "%s", doc)
	}

	// Ten tasks insert at once; the loop serves them all while the driver works.
	err = aio.Group(ctx, func(ctx context.Context, g *aio.TaskGroup) error {
		for i := range 10 {
			g.Go(func(ctx context.Context) error {
				_, err := coll.InsertOne(ctx, bson.M{"key": "many", "n": i})
				return err
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	n, err := coll.CountDocuments(ctx, bson.M{"key": "many"})
	say(ctx, "ten tasks inserted %d documents", n)
	return err
}

// serve serves h with an aiohttp.Server on loopback, from a task of the loop
// of ctx, and returns its base URL and how to stop it.
func serve(ctx context.Context, h http.Handler) (url string, stop func(), err error) {
	ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &aiohttp.Server{Handler: h}
	aio.Go(ctx, func(ctx context.Context) error { srv.Serve(ctx, ln); return nil })
	return "http://" + ln.Addr().String(), func() { srv.Shutdown(ctx) }, nil
}

// backendServer turns the lecture around: what asyncio is for is a server
// that answers many clients while it awaits its backends. Each request to
// /profile/{name} fetches from a slow HTTP service (1 s) and queries MongoDB
// at once, then answers with both; three clients asking together are
// answered in one second, on one loop, with no lock.
func backendServer(ctx context.Context) error {
	// The slow backend: another server on the same loop.
	backend, stopBackend, err := serve(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if aio.Sleep(r.Context(), time.Second) == nil {
			fmt.Fprintf(w, "%d points", len(r.URL.Query().Get("name"))*100)
		}
	}))
	if err != nil {
		return err
	}
	defer stopBackend()
	db, err := embedded.Start(nil)
	if err != nil {
		return err
	}
	defer db.Close()
	client, err := aiomongo.NewClient(db.URI())
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	users := client.Database("tour").Collection("users")
	defer users.Drop(context.WithoutCancel(ctx))
	for _, name := range []string{"alice", "bob", "carol"} {
		if _, err := users.InsertOne(ctx, bson.M{"name": name, "city": strings.ToUpper(name[:1]) + "-town"}); err != nil {
			return err
		}
	}
	session := &aiohttp.Session{}
	defer session.Close()
	served := 0 // shared by every request's task: one loop, no mutex

	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile/{name}", func(w http.ResponseWriter, r *http.Request) {
		ctx, name := r.Context(), r.PathValue("name")
		score := aio.Spawn(ctx, func(ctx context.Context) (string, error) {
			resp, err := session.Get(ctx, backend+"/score?name="+name)
			if err != nil {
				return "", err
			}
			return resp.Text(ctx)
		})
		user := aio.Spawn(ctx, func(ctx context.Context) (bson.M, error) {
			var u bson.M
			err := users.FindOne(ctx, bson.M{"name": name}, &u)
			return u, err
		})
		s, err := score.Await(ctx) // both run already: the waits overlap
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		u, err := user.Await(ctx)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		served++
		fmt.Fprintf(w, "%s from %s: %s", name, u["city"], s)
	})
	site, stop, err := serve(ctx, mux)
	if err != nil {
		return err
	}
	defer stop()

	say(ctx, "serving %s", "/profile/{name}")
	texts, err := aio.Gather(ctx,
		fetchText(session, site+"/profile/alice"),
		fetchText(session, site+"/profile/bob"),
		fetchText(session, site+"/profile/carol"))
	if err != nil {
		return err
	}
	for _, text := range texts {
		say(ctx, "%s", text)
	}
	say(ctx, "%d requests served together, each awaiting the backend and MongoDB", served)
	return nil
}

// fetchText returns a call that GETs url and returns its text.
func fetchText(s *aiohttp.Session, url string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		resp, err := s.Get(ctx, url)
		if err != nil {
			return "", err
		}
		return resp.Text(ctx)
	}
}

// chat is a WebSocket broadcast chat: every message a client sends reaches
// every client. The set of members is a plain map, shared by the tasks of
// the loop with no lock.
func chat(ctx context.Context) error {
	members := map[*aiohttp.WebSocket]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("/chat/{name}", func(w http.ResponseWriter, r *http.Request) {
		ws, err := aiohttp.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ctx, name := r.Context(), r.PathValue("name")
		members[ws] = name
		defer delete(members, ws)
		for m, err := range ws.Messages(ctx) {
			if err != nil {
				return
			}
			for other := range members {
				other.SendText(ctx, name+": "+m.Text())
			}
		}
	})
	site, stop, err := serve(ctx, mux)
	if err != nil {
		return err
	}
	defer stop()
	session := &aiohttp.Session{}
	defer session.Close()
	names := []string{"alice", "bob", "carol"}
	clients := make([]*aiohttp.WebSocket, len(names))
	for i, name := range names {
		ws, _, err := session.WebSocket(ctx, "ws"+strings.TrimPrefix(site, "http")+"/chat/"+name, nil)
		if err != nil {
			return err
		}
		defer ws.Close(context.WithoutCancel(ctx), aiohttp.CloseNormal, "bye")
		clients[i] = ws
	}
	// Each handler joined members before its client saw the handshake's
	// answer: no await between the two.
	for i, ws := range clients {
		if err := ws.SendText(ctx, "hello from "+names[i]); err != nil {
			return err
		}
		for j, ws := range clients { // everyone hears it
			m, err := ws.Receive(ctx)
			if err != nil {
				return err
			}
			say(ctx, "%-5s got %q", names[j], m.Text())
		}
	}
	return nil
}

// ---- Debugging ----

// svgPath is where the timeline chapter writes its picture: the temporary
// folder unless -svg says otherwise, so that the tour leaves nothing in the
// repository.
var svgPath = filepath.Join(os.TempDir(), "aio-timeline.svg")

// timeline runs the gather example with a recorder and debug mode, prints
// the task tree while the factorials run, and draws the timeline.
func timeline(opts ...aio.Option) error {
	rec := aiodebug.NewRecorder()
	opts = append(opts, rec.Option(), aio.WithDebug(true, 0))
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		start = aio.LoopOf(ctx).Now()
		fact := func(name string, n int) *aio.Task[int] {
			return aio.Spawn(ctx, func(ctx context.Context) (int, error) {
				result := 1
				for i := 2; i <= n; i++ {
					if err := aio.Sleep(ctx, time.Second); err != nil {
						return 0, err
					}
					result *= i
				}
				return result, nil
			}, aio.WithName("factorial "+name))
		}
		tasks := []*aio.Task[int]{fact("A", 2), fact("B", 3), fact("C", 4)}
		if err := aio.Sleep(ctx, 1500*time.Millisecond); err != nil {
			return err
		}
		say(ctx, "the tasks, as aiodebug.Write shows them:")
		snap := aio.Snapshot(ctx, time.Second)
		for _, l := range snap {
			for _, t := range l.Tasks {
				printTree(t, "        ")
			}
		}
		_, _, err := aio.Wait(ctx, aio.AllCompleted, 0, tasks...)
		return err
	}, opts...)
	if err != nil {
		return err
	}
	f, err := os.Create(svgPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := rec.WriteSVG(f); err != nil {
		return err
	}
	fmt.Fprintf(out, "        wrote the timeline picture (-svg): one row per task, a mark for each step\n")
	return nil
}

// printTree prints a task and its children (names and states only: the
// file:line of each await point is in aiodebug.Write's full dump).
func printTree(t *aio.TaskInfo, indent string) {
	fmt.Fprintf(out, "%s%s [%s", indent, t.Name, t.State)
	if t.Awaits != "" {
		fmt.Fprintf(out, ", awaits %s", t.Awaits)
	}
	fmt.Fprintf(out, ", %d steps]\n", t.Steps)
	for _, c := range t.Children {
		printTree(c, indent+"    ")
	}
}
