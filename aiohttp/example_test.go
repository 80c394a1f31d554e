package aiohttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aiohttp"
	"github.com/aio-go/aio/aionet"
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

// A JSON API: a base URL, a timeout for each request with its body, a JSON
// body out and a JSON answer in.
func ExampleSession_JSON() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var note struct{ Text string }
		json.NewDecoder(r.Body).Decode(&note)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": 7, "text": %q, "path": %q}`, note.Text, r.URL.Path)
	}))
	defer api.Close()

	err := aio.Run(context.Background(), func(ctx context.Context) error {
		session := &aiohttp.Session{BaseURL: api.URL + "/v1/", Timeout: 10 * time.Second}
		defer session.Close()
		resp, err := session.JSON(ctx, http.MethodPost, "notes", map[string]string{"text": "buy milk"})
		if err != nil {
			return err
		}
		var created struct {
			ID         int
			Text, Path string
		}
		if err := resp.JSON(ctx, &created); err != nil {
			return err
		}
		fmt.Printf("%+v\n", created)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: {ID:7 Text:buy milk Path:/v1/notes}
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
		var tasks []func(context.Context) (string, error)
		for i := range 5 {
			tasks = append(tasks, func(ctx context.Context) (string, error) {
				resp, err := session.Get(ctx, fmt.Sprintf("%s/page/%d", site.URL, i))
				if err != nil {
					return "", err
				}
				return resp.Text(ctx)
			})
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

// A server whose handlers await, answering three clients at once on one
// loop; the loop's virtual clock makes the second they wait take no time.
func ExampleServer() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		if aio.Sleep(r.Context(), time.Second) != nil { // frees the loop for the others
			return
		}
		fmt.Fprintf(w, "hello, %s", r.PathValue("name"))
	})
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &aiohttp.Server{Handler: mux}
		aio.Go(ctx, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
		defer srv.Shutdown(ctx)

		session := &aiohttp.Session{}
		defer session.Close()
		start := aio.LoopOf(ctx).Now()
		var texts [3]string
		err = aio.Group(ctx, func(ctx context.Context, tg *aio.TaskGroup) error {
			for i, name := range []string{"alice", "bob", "carol"} {
				tg.Go(func(ctx context.Context) error {
					resp, err := session.Get(ctx, "http://"+ln.Addr().String()+"/hello/"+name)
					if err != nil {
						return err
					}
					texts[i], err = resp.Text(ctx)
					return err
				})
			}
			return nil
		})
		fmt.Println(texts, "in", aio.LoopOf(ctx).Now().Sub(start))
		return err
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})))
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// [hello, alice hello, bob hello, carol] in 1s
}

// A WebSocket echo: Upgrade in a handler, Session.WebSocket on the client.
func ExampleUpgrade() {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := aiohttp.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		for m, err := range ws.Messages(r.Context()) { // ends when the client closes
			if err != nil || ws.Send(r.Context(), m.Type, m.Data) != nil {
				return
			}
		}
	})
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &aiohttp.Server{Handler: echo}
		aio.Go(ctx, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
		defer srv.Shutdown(ctx)

		ws, _, err := (&aiohttp.Session{}).WebSocket(ctx, "ws://"+ln.Addr().String()+"/", nil)
		if err != nil {
			return err
		}
		defer ws.Close(ctx, aiohttp.CloseNormal, "done")
		ws.SendText(ctx, "ping?")
		m, err := ws.Receive(ctx)
		fmt.Println(m.Text(), err)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// ping? <nil>
}
