package aiohttp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
)

// The lecture's example: a session, a GET, the start of the page.
func Example() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html itemscope="" itemtype="http://schema.org/WebPage" lang="en">`)
	}))
	defer site.Close()

	err := aio.Run(context.Background(), func(ctx context.Context) error {
		session := &aiohttp.Session{}
		defer session.Close()
		resp, err := session.Get(ctx, site.URL)
		if err != nil {
			return err
		}
		text, err := resp.Text(ctx)
		if err != nil {
			return err
		}
		fmt.Println(resp.Status)
		fmt.Println(text[:70], "...")
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 200 OK
	// <!doctype html><html itemscope="" itemtype="http://schema.org/WebPage" ...
}

// Many requests at once, from as many tasks, over at most two connections
// to the host.
func ExampleSession_limits() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.URL.Path)
	}))
	defer site.Close()

	err := aio.Run(context.Background(), func(ctx context.Context) error {
		session := &aiohttp.Session{LimitPerHost: 2}
		defer session.Close()
		var tasks []aio.Awaitable[string]
		for i := range 5 {
			tasks = append(tasks, aio.Spawn(ctx, func(ctx context.Context) (string, error) {
				resp, err := session.Get(ctx, fmt.Sprintf("%s/page/%d", site.URL, i))
				if err != nil {
					return "", err
				}
				return resp.Text(ctx)
			}))
		}
		pages, err := aio.Gather(ctx, tasks...)
		fmt.Println(pages)
		return err
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// [/page/0 /page/1 /page/2 /page/3 /page/4]
}
