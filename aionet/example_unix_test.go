//go:build unix

package aionet_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"

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

// A subprocess whose pipes are streams (asyncio's create_subprocess_exec and
// communicate).
func ExampleStartProcess() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		p, err := aionet.StartProcess(ctx, exec.Command("tr", "a-z", "A-Z"), aionet.Stdin|aionet.Stdout)
		if err != nil {
			return err
		}
		out, _, err := p.Communicate(ctx, []byte("shout\n"))
		fmt.Print(string(out))
		return err
	})
	// Output:
	// SHOUT
}

// upper is a Protocol: callbacks on the loop, no task per connection
// (asyncio's Protocol and loop.create_server).
type upper struct{ t aionet.Transport }

func (u *upper) ConnectionMade(t aionet.Transport) { u.t = t }
func (u *upper) DataReceived(data []byte)          { u.t.Write(bytes.ToUpper(data)) }
func (u *upper) EOFReceived() bool                 { return false }
func (u *upper) ConnectionLost(err error)          {}

func ExampleListener_ServeProtocol() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		if err := ln.ServeProtocol(func() aionet.Protocol { return &upper{} }); err != nil {
			return err
		}
		c, err := aionet.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("quiet\n"))
		line, err := c.ReadLine(ctx)
		fmt.Print(string(line))
		return err
	})
	// Output:
	// QUIET
}
