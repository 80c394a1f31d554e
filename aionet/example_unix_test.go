//go:build unix

package aionet_test

import (
	"context"
	"fmt"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// Sockets driven by hand, as with asyncio's loop.sock_* coroutines: Accept,
// Connect, Recv and Send suspend the task, not the loop.
func ExampleNewSocket() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		ln, err := aionet.NewSocket(ctx, "tcp4")
		if err != nil {
			return err
		}
		defer ln.Close()
		if err := ln.Bind(ctx, "127.0.0.1:0"); err != nil {
			return err
		}
		if err := ln.Listen(0); err != nil {
			return err
		}
		server := aio.Go(ctx, func(ctx context.Context) error {
			c, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			buf := make([]byte, 100)
			n, err := c.Recv(ctx, buf)
			if err != nil {
				return err
			}
			_, err = c.Send(ctx, append([]byte("got "), buf[:n]...))
			return err
		})

		c, err := aionet.NewSocket(ctx, "tcp4")
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Connect(ctx, ln.LocalAddr().String()); err != nil {
			return err
		}
		c.Send(ctx, []byte("hello"))
		buf := make([]byte, 100)
		n, err := c.Recv(ctx, buf)
		fmt.Println(string(buf[:n]), err)
		_, err = server.Await(ctx)
		return err
	})
	// Output: got hello <nil>
}
