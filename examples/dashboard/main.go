// Command dashboard runs a small service on aio and serves aiodebug's live
// dashboard beside it, to see what the page shows:
//
//	go run ./examples/dashboard            # then open http://127.0.0.1:8079/debug/aio
//
// Two loops run crawlers that fetch from a slow backend, a queue of jobs and
// its workers; every few seconds one job blocks its loop for 300 ms, which
// the watchdog reports and the page lists under stalls.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiodebug"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8079", "where to serve the dashboard")
	flag.Parse()
	mux := http.NewServeMux()
	mux.Handle("/debug/aio", aiodebug.Handler())
	go func() { log.Fatal(http.ListenAndServe(*addr, mux)) }()
	fmt.Fprintf(os.Stderr, "dashboard: http://%s/debug/aio\n", *addr)
	if err := workload(context.Background(), 5*time.Second); err != nil {
		log.Fatal(err)
	}
}

// workload runs the service's two loops until ctx ends, one of them with
// a job that blocks it every stallEvery (0: never).
func workload(ctx context.Context, stallEvery time.Duration, opts ...aio.Option) error {
	rec := aiodebug.NewRecorder()
	return aio.RunLoops(ctx, 2, func(ctx context.Context, loops []*aio.Loop, i int) error {
		jobs := aio.NewQueue[int](10)
		return aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for c := range 3 {
				tg.Go(func(ctx context.Context) error { return crawl(ctx, c) }, aio.WithName(fmt.Sprintf("crawler %d.%d", i, c)))
			}
			for w := range 2 {
				tg.Go(func(ctx context.Context) error {
					for job, err := range jobs.All(ctx) {
						if err != nil {
							return err
						}
						if err := aio.Sleep(ctx, time.Duration(50+job%7*30)*time.Millisecond); err != nil {
							return err
						}
					}
					return nil
				}, aio.WithName(fmt.Sprintf("worker %d.%d", i, w)))
			}
			tg.Go(func(ctx context.Context) error {
				for n := 0; ; n++ {
					if err := jobs.Put(ctx, n); err != nil {
						return err
					}
					if err := aio.Sleep(ctx, 40*time.Millisecond); err != nil {
						return err
					}
				}
			}, aio.WithName(fmt.Sprintf("producer %d", i)))
			if i == 0 && stallEvery > 0 {
				tg.Go(func(ctx context.Context) error {
					for {
						if err := aio.Sleep(ctx, stallEvery); err != nil {
							return err
						}
						time.Sleep(300 * time.Millisecond) // a blocking call that should have been awaited
					}
				}, aio.WithName("careless job"))
			}
			return nil
		})
	}, append([]aio.Option{rec.Option(), aio.WithInterrupt(false)}, opts...)...)
}

// crawl fetches pages from a slow backend, one after another, with a
// timeout each.
func crawl(ctx context.Context, c int) error {
	for page := 0; ; page++ {
		err := aio.Timeout(ctx, 400*time.Millisecond, func(ctx context.Context) error {
			return aio.Sleep(ctx, time.Duration(100+(page*37+c*53)%500)*time.Millisecond) // the backend's answer
		})
		if err != nil && ctx.Err() != nil {
			return err
		}
	}
}
