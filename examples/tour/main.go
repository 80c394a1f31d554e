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
	"cmp"
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
// a chapter that drives a loop by hand has onLoop (the tour makes and closes
// the loop, as a notebook has one) or raw instead.
type chapter struct {
	name, title string
	run         func(ctx context.Context) error
	onLoop      func(loop *aio.Loop) error
	raw         func(opts ...aio.Option) error
}

var chapters = []chapter{
	{"generators", "From the very beginning: generators, send, yield from", generators, nil, nil},
	{"generator-coroutine", "A generator-based coroutine driven by the event loop", countdownChapter, nil, nil},
	{"event-loop", "Event loop: print_sum awaits compute", nil, eventLoop, nil},
	{"sleep", "Event loop: sleep is a future completed by call_later", sleepFromFuture, nil, nil},
	{"hello", "Modern asyncio: hello world", hello, nil, nil},
	{"say-after", "Scheduling coroutines: awaited in turn, then as tasks", scheduling, nil, nil},
	{"gather", "asyncio.gather", gather, nil, nil},
	{"taskgroup", "asyncio.TaskGroup", taskGroup, nil, nil},
	{"wait-for", "Waiting & timeouts: wait_for(eternity(), timeout=1)", waitFor, nil, nil},
	{"cancel", "Cancelling coroutines: cleanup that awaits", cancelCleanup, nil, nil},
	{"shield", "Shielding coroutines from cancellation", shield, nil, nil},
	{"as-completed", "as_completed", asCompleted, nil, nil},
	{"async-with", "async with: a Lock held across awaits", asyncWith, nil, nil},
	{"async-for", "async for: an async generator, aiter and anext", asyncFor, nil, nil},
	{"to-thread", "Running synchronous code: asyncio.to_thread", toThread, nil, nil},
	{"io", "Asynchronous I/O: a server and its clients on loopback", loopbackIO, nil, nil},
	{"aiohttp", "aiohttp: a client session fetching pages", fetchPages, nil, nil},
	{"motor", "Motor: MongoDB from tasks (on an embedded server)", motor, nil, nil},
	{"server", "The tables turned: a server that awaits its backends", backendServer, nil, nil},
	{"chat", "WebSockets: a broadcast chat", chat, nil, nil},
	{"timeline", "Debugging asyncio: a timeline picture and a task tree", nil, nil, timeline},
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
		switch {
		case c.raw != nil:
			err = c.raw(opts...)
		case c.onLoop != nil:
			loop := aio.NewLoop(opts...)
			start = loop.Now()
			err = c.onLoop(loop)
			loop.Close()
		default:
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

// ---- From the very beginning: generators (package gen) ----

// cell eager_range
func eagerRange(upTo int) []int {
	var sequence []int
	for index := 0; index < upTo; index++ {
		sequence = append(sequence, index)
	}
	return sequence
}

// end cell eager_range

// cell lazy_range
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

// end cell lazy_range

// cell jumping_range
func jumpingRange(upTo int) *gen.Generator[int, int, struct{}] {
	return gen.New(func(y *gen.Yielder[int, int]) (struct{}, error) {
		index := 0
		for index < upTo {
			jump, err := y.Yield(index)
			if err != nil {
				return struct{}{}, err
			}
			index += cmp.Or(jump, 1) // Next sends the zero value, Python's None
		}
		return struct{}{}, nil
	})
}

// end cell jumping_range

// A generator that is a function of its yielder is made with gen.New(bottom),
// as bottom() makes one in Python.

// cell bottom
func bottom(y *gen.Yielder[int, struct{}]) (int, error) {
	y.Yield(42)
	y.Yield(84)
	return 0, nil
}

// end cell bottom

// cell top
func top(y *gen.Yielder[int, struct{}]) (int, error) {
	value, err := gen.YieldFrom(y, gen.New(bottom))
	fmt.Fprintln(out, "top: bottom returned", value)
	return value, err
}

// end cell top

// value drops the second result of a call (an error, an ok), as the
// lecture's cells do.
func value[T, E any](v T, _ E) T { return v }

func generators(context.Context) error {
	fmt.Fprintln(out, "eager_range(5):", eagerRange(5))
	fmt.Fprintln(out, "list(lazy_range(5)):", slices.Collect(lazyRange(5).All()))
	// cell next-send
	generator := jumpingRange(5)
	fmt.Fprintln(out, "next   :", value(generator.Next()))
	fmt.Fprintln(out, "send  2:", value(generator.Send(2)))
	fmt.Fprintln(out, "next   :", value(generator.Next()))
	fmt.Fprintln(out, "send -1:", value(generator.Send(-1)))
	// end cell next-send
	// cell yield-from
	fmt.Fprintln(out, "list(top()):", slices.Collect(gen.New(top).All()))
	g := gen.New(top)
	fmt.Fprintln(out, "next(generator), next(generator):", value(g.Next()), value(g.Next()))
	if _, err := g.Next(); errors.Is(err, gen.ErrStop) {
		fmt.Fprintln(out, "StopIteration value:", value(g.Value()))
	}
	// end cell yield-from
	return nil
}

// sleepFuture is asyncio.sleep as a generator-based coroutine sees it: a
// future that a timer completes.
func sleepFuture(ctx context.Context, d time.Duration) *aio.Future[struct{}] {
	fut := aio.NewFuture[struct{}](ctx)
	aio.LoopOf(ctx).CallLater(d, func() { fut.SetResult(struct{}{}) })
	return fut
}

// countdownChapter: a generator-based coroutine (@types.coroutine) yields the
// futures it waits for, and the event loop (here, the chapter's task)
// resumes it when each is done. async/await does the same with a task's own
// stack.
func countdownChapter(ctx context.Context) error {
	// cell countdown
	countdown := func(n int) *gen.Generator[*aio.Future[struct{}], struct{}, struct{}] {
		return gen.New(func(y *gen.Yielder[*aio.Future[struct{}], struct{}]) (struct{}, error) {
			for ; n > 0; n-- {
				say(ctx, "Count: %d", n)
				if _, err := y.Yield(sleepFuture(ctx, time.Second)); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
	}
	for fut := range countdown(3).All() { // run_until_complete: resume it when its future is done
		say(ctx, "yielded a future, done? %v", fut.Done())
		if _, err := fut.Await(ctx); err != nil {
			return err
		}
	}
	// end cell countdown
	say(ctx, "countdown finished")
	return nil
}

// ---- Event loop ----

// cell compute
func compute(ctx context.Context, a, b int) (int, error) {
	say(ctx, "Compute...")
	if err := aio.Sleep(ctx, time.Second); err != nil {
		return 0, err
	}
	return a + b, nil
}

// end cell compute

// eventLoop drives a loop by hand, as the lecture's loop.run_until_complete;
// the tour made the loop (asyncio.get_event_loop) and closes it.
func eventLoop(loop *aio.Loop) error {
	// cell print_sum
	printSum := func(ctx context.Context, a, b int) error {
		result, err := compute(ctx, a, b)
		if err != nil {
			return err
		}
		say(ctx, "%d + %d = %d", a, b, result)
		return nil
	}
	return aio.RunOn(loop, func(ctx context.Context) error { return printSum(ctx, 1, 2) })
	// end cell print_sum
}

// cell sleep
// sleep is the lecture's simplified asyncio.sleep: a future that a timer
// callback completes.
func sleep(ctx context.Context, delay time.Duration) error {
	if delay <= 0 {
		return aio.Yield(ctx) // __sleep0: let the other tasks run
	}
	loop := aio.LoopOf(ctx)
	future := aio.NewFuture[struct{}](ctx)
	loop.CallLater(delay, func() { future.SetResult(struct{}{}) })
	_, err := future.Await(ctx)
	return err
}

// end cell sleep

func sleepFromFuture(ctx context.Context) error {
	say(ctx, "sleeping 2 s on a future")
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	say(ctx, "woken by call_later")
	return nil
}

// ---- Modern asyncio ----

// cell hello
func hello(ctx context.Context) error { // asyncio.run(main()) is the tour's aio.Run
	say(ctx, "Hello ...")
	if err := aio.Sleep(ctx, time.Second); err != nil {
		return err
	}
	say(ctx, "... World!")
	return nil
}

// end cell hello

// cell say_after
func sayAfter(ctx context.Context, delay time.Duration, what string) error {
	say(ctx, "wait for %v", delay)
	if err := aio.Sleep(ctx, delay); err != nil {
		return err
	}
	say(ctx, "%s", what)
	return nil
}

// end cell say_after

func scheduling(ctx context.Context) error {
	// cell awaited-in-turn
	say(ctx, "started")
	if err := sayAfter(ctx, time.Second, "hello"); err != nil {
		return err
	}
	if err := sayAfter(ctx, 2*time.Second, "world"); err != nil {
		return err
	}
	say(ctx, "finished")
	// end cell awaited-in-turn
	start = aio.LoopOf(ctx).Now()
	// cell create_task
	task1 := aio.Go(ctx, func(ctx context.Context) error { return sayAfter(ctx, 2*time.Second, "hello") })
	task2 := aio.Go(ctx, func(ctx context.Context) error { return sayAfter(ctx, time.Second, "world") })
	say(ctx, "started")
	if _, err := task1.Await(ctx); err != nil {
		return err
	}
	if _, err := task2.Await(ctx); err != nil {
		return err
	}
	say(ctx, "finished")
	// end cell create_task
	return nil
}

// cell factorial
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

// end cell factorial

func gather(ctx context.Context) error {
	// cell gather
	results, err := aio.Gather(ctx,
		func(ctx context.Context) (int, error) { return factorial(ctx, "A", 2) },
		func(ctx context.Context) (int, error) { return factorial(ctx, "B", 3) },
		func(ctx context.Context) (int, error) { return factorial(ctx, "C", 4) },
	)
	// end cell gather
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
	// cell taskgroup
	err := aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
		aio.SpawnIn(tg, func(ctx context.Context) (int, error) { return factorial(ctx, "A", 2) })
		aio.SpawnIn(tg, func(ctx context.Context) (int, error) { return factorial(ctx, "B", 3) })
		aio.SpawnIn(tg, func(ctx context.Context) (int, error) { return factorial(ctx, "C", 4) })
		say(ctx, "tasks pending to start")
		return nil
	})
	say(ctx, "tasks complete")
	// end cell taskgroup
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
	// cell eternity
	eternity := func(ctx context.Context) error {
		if err := aio.Sleep(ctx, time.Hour); err != nil {
			return err
		}
		say(ctx, "yay!")
		return nil
	}
	if err := aio.Timeout(ctx, time.Second, eternity); errors.Is(err, context.DeadlineExceeded) {
		say(ctx, "timeout!")
	}
	// end cell eternity
	return nil
}

func cancelCleanup(ctx context.Context) error {
	// cell another_eternity
	anotherEternity := func(ctx context.Context) error {
		defer func() {
			say(ctx, "cancelled")
			aio.Sleep(aio.Cleanup(ctx), 5*time.Second) // finally: await asyncio.sleep(5)
		}()
		if err := aio.Sleep(ctx, time.Hour); err != nil {
			return err
		}
		say(ctx, "yay!")
		return nil
	}
	say(ctx, "started")
	if err := aio.Timeout(ctx, time.Second, anotherEternity); errors.Is(err, context.DeadlineExceeded) {
		say(ctx, "timeout!")
	}
	say(ctx, "finished")
	// end cell another_eternity
	return nil
}

func shield(ctx context.Context) error {
	// cell shield
	importantTask := func(ctx context.Context) error {
		say(ctx, "important task started")
		if err := aio.Sleep(ctx, 5*time.Second); err != nil {
			return err
		}
		say(ctx, "important task finished")
		return nil
	}
	say(ctx, "started")
	err := aio.Timeout(ctx, time.Second, func(ctx context.Context) error { return aio.Shield(ctx, importantTask) })
	if errors.Is(err, context.DeadlineExceeded) {
		say(ctx, "timeout!")
	}
	say(ctx, "finished")
	// end cell shield
	// In the notebook the loop keeps running; a program lets the task end.
	return aio.Sleep(ctx, 4*time.Second)
}

func asCompleted(ctx context.Context) error {
	// cell as_completed
	factorial := func(number int) func(context.Context) ([2]int, error) {
		return func(ctx context.Context) ([2]int, error) {
			result := 1
			for i := 2; i <= number; i++ {
				if err := aio.Sleep(ctx, time.Second); err != nil {
					return [2]int{}, err
				}
				result *= i
			}
			return [2]int{number, result}, nil
		}
	}
	for r, err := range aio.AsCompleted(ctx, factorial(4), factorial(3), factorial(5), factorial(2)) {
		if err != nil {
			return err
		}
		say(ctx, "Factorial(%d) = %d", r[0], r[1])
	}
	// end cell as_completed
	return nil
}

// ---- async with ----

func asyncWith(ctx context.Context) error {
	var lock aio.Lock
	balance := 100
	withdraw := func(ctx context.Context, who string, amount int) error {
		// cell lock
		if err := lock.Lock(ctx); err != nil { // async with lock:
			return err
		}
		defer lock.Unlock()
		// end cell lock
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

// cell ticker
func ticker(ctx context.Context, upto int) iter.Seq2[int, error] {
	return aio.Generate(func(yield func(int) bool) error {
		for i := range upto {
			if err := aio.Sleep(ctx, time.Second); err != nil {
				return err
			}
			if !yield(i) {
				return nil
			}
		}
		return nil
	})
}

// end cell ticker

func asyncFor(ctx context.Context) error {
	// cell async-for
	for i, err := range ticker(ctx, 3) {
		if err != nil {
			return err
		}
		say(ctx, "%d", i)
	}
	// end cell async-for
	// cell aiter-anext
	anext, stop := iter.Pull2(ticker(ctx, 2)) // aiter(ticker(2))
	defer stop()
	say(ctx, "anext: %v", fmt.Sprint(anext()))
	say(ctx, "anext: %v", fmt.Sprint(anext()))
	say(ctx, "anext: %v (StopAsyncIteration)", fmt.Sprint(anext()))
	// end cell aiter-anext
	return nil
}

// ---- Running synchronous code ----

// blockFor is how long blockingIO blocks (shortened by the tour's test).
var blockFor = time.Second

var outMu sync.Mutex

// cell blocking_io
func blockingIO(context.Context) (struct{}, error) {
	shout("start blocking IO")
	time.Sleep(blockFor) // blocks its goroutine, not the loop
	shout("finished blocking IO")
	return struct{}{}, nil
}

// end cell blocking_io

// shout prints a line from any goroutine.
func shout(s string) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintln(out, "        "+s)
}

func toThread(ctx context.Context) error {
	// cell to_thread
	say(ctx, "=== WITHOUT ToThread: sequential ===")
	start := time.Now()
	blockingIO(ctx)
	blockingIO(ctx)
	blockingIO(ctx)
	sequential := time.Since(start)
	say(ctx, "=== WITH ToThread: parallel ===")
	start = time.Now()
	thread := func(ctx context.Context) (struct{}, error) { return aio.ToThread(ctx, blockingIO) }
	if _, err := aio.Gather(ctx, thread, thread, thread); err != nil {
		return err
	}
	parallel := time.Since(start)
	say(ctx, "sequential took %.1f blocking calls, parallel %.1f", sequential.Seconds()/blockFor.Seconds(), parallel.Seconds()/blockFor.Seconds())
	// end cell to_thread
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

	// cell aiohttp
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
	// end cell aiohttp

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
	noID := options.Find().SetProjection(bson.M{"_id": 0}) // the _id differs at every run: not printed
	// cell motor
	client, err := aiomongo.NewClient(uri) // client = AsyncIOMotorClient('localhost', 27017)
	if err != nil {
		return err
	}
	defer client.Disconnect(aio.Cleanup(ctx))
	if _, err := client.Database("test_database").Collection("test_collection").InsertOne(ctx, bson.M{"key": "value"}); err != nil {
		return err
	}
	for doc, err := range client.Database("test_database").Collection("test_collection").Find(ctx, bson.M{"key": "value"}, noID).Docs(ctx) {
		if err != nil {
			return err
		}
		say(ctx, "%s", doc)
	}
	// end cell motor
	coll := client.Database("test_database").Collection("test_collection")
	defer coll.Drop(aio.Cleanup(ctx))

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
	defer client.Disconnect(aio.Cleanup(ctx))
	users := client.Database("tour").Collection("users")
	defer users.Drop(aio.Cleanup(ctx))
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
		ws, _, err := session.WebSocket(ctx, site+"/chat/"+name, nil)
		if err != nil {
			return err
		}
		defer ws.Close(aio.Cleanup(ctx), aiohttp.CloseNormal, "bye")
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
	fmt.Fprintf(out, "        wrote the timeline picture (-svg): a row per task, its steps, and its waits coloured by what they wait for\n")
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
