package aionet_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/textproto"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

// A server and a client on loopback, in one loop: each connection is served
// by a task of its own, and neither side blocks the other.
func ExampleStartServer() {
	err := aio.Run(context.Background(), func(ctx context.Context) error {
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			for {
				line, err := s.ReadLine(ctx)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				s.Write(append([]byte("echo: "), line...))
			}
		})
		if err != nil {
			return err
		}
		defer srv.Close()

		c, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		for _, msg := range []string{"hello", "world"} {
			c.Write([]byte(msg + "\n"))
			reply, err := c.ReadLine(ctx)
			if err != nil {
				return err
			}
			fmt.Print(string(reply))
		}
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// echo: hello
	// echo: world
	// err: <nil>
}

// Datagrams: ReadFrom suspends the task until one comes.
func ExampleListenPacket() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		srv, err := aionet.ListenPacket(ctx, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Close()
		c, err := aionet.DialPacket(ctx, "udp", srv.LocalAddr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write(ctx, []byte("ping"))
		buf := make([]byte, 1500)
		n, from, err := srv.ReadFrom(ctx, buf)
		if err != nil {
			return err
		}
		fmt.Printf("%s from the client: %v\n", buf[:n], from.String() == c.LocalAddr().String())
		return nil
	})
	// Output: ping from the client: true
}

// Conn gives standard library code a net.Conn whose reads and writes suspend
// the task (tls.Server(s.Conn(), cfg) works the same way): here net/textproto
// reads a header block.
func ExampleStream_Conn() {
	aio.Run(context.Background(), func(ctx context.Context) error {
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			header, err := textproto.NewReader(bufio.NewReader(s.Conn())).ReadMIMEHeader()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(s.Conn(), "hello, %s\n", header.Get("Name"))
			return err
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		c, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("Name: aio\r\n\r\n"))
		reply, err := c.ReadLine(ctx)
		fmt.Print(string(reply), err)
		return nil
	})
	// Output: hello, aio
	// <nil>
}
