// Command idle-conns measures the memory a server spends per idle
// connection: it serves N connections (made by a child process, so that both
// ends do not count against one descriptor limit), each of which has sent one
// short message, and prints the growth of the server's RSS divided by N as
// one JSON line.
//
//	idle-conns aio-streams|aio-protocol|go-bufio [N]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
)

func main() {
	if len(os.Args) >= 4 && os.Args[1] == "-client" {
		client(os.Args[2], atoi(os.Args[3]))
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: idle-conns aio-streams|aio-protocol|go-bufio [N]")
		os.Exit(2)
	}
	n := 10000
	if len(os.Args) > 2 {
		n = atoi(os.Args[2])
	}
	var r map[string]any
	var err error
	switch os.Args[1] {
	case "go-bufio":
		r, err = goServer(n)
	case "aio-streams", "aio-protocol":
		err = aio.Run(context.Background(), func(ctx context.Context) (err error) {
			r, err = aioServer(ctx, n, os.Args[1] == "aio-protocol")
			return err
		})
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle-conns:", err)
		os.Exit(1)
	}
	r["mode"], r["conns"] = os.Args[1], n
	json.NewEncoder(os.Stdout).Encode(r)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// client opens n connections, sends a line on each, and keeps them open
// until its standard input closes.
func client(addr string, n int) {
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(1)
		}
		c.Write([]byte("hello\n"))
		conns = append(conns, c)
	}
	fmt.Println("connected")
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// startClient runs the client process against addr.
func startClient(addr string, n int) (*exec.Cmd, func(), error) {
	cmd := exec.Command(os.Args[0], "-client", addr, strconv.Itoa(n))
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	go bufio.NewReader(out).ReadString('\n')
	return cmd, func() { in.Close(); cmd.Wait() }, nil
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	pages, _ := strconv.ParseInt(strings.Fields(string(b))[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func result(before, after int64, n int) map[string]any {
	return map[string]any{"bytes_per_conn": float64(after-before) / float64(n), "base_rss_mib": float64(before) / (1 << 20)}
}

// goServer is the peer: a goroutine per connection reading with a bufio.Reader.
func goServer(n int) (map[string]any, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	runtime.GC()
	before := rss()
	got := make(chan struct{}, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				r := bufio.NewReader(c)
				for {
					if _, err := r.ReadString('\n'); err != nil {
						c.Close()
						return
					}
					got <- struct{}{}
				}
			}()
		}
	}()
	_, stop, err := startClient(ln.Addr().String(), n)
	if err != nil {
		return nil, err
	}
	defer stop()
	for range n {
		<-got
	}
	time.Sleep(100 * time.Millisecond) // let every reader park again
	runtime.GC()
	return result(before, rss(), n), nil
}

// lineProtocol counts the lines it receives: the callback version.
type lineProtocol struct {
	got *int
	ev  *aio.Event
	n   int
}

func (p *lineProtocol) ConnectionMade(aionet.Transport) {}
func (p *lineProtocol) DataReceived([]byte) {
	if *p.got++; *p.got == p.n {
		p.ev.Set()
	}
}
func (p *lineProtocol) EOFReceived() bool    { return false }
func (p *lineProtocol) ConnectionLost(error) {}

func aioServer(ctx context.Context, n int, protocol bool) (map[string]any, error) {
	ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	runtime.GC()
	before := rss()
	got := 0
	var all aio.Event
	if protocol {
		if err := ln.ServeProtocol(func() aionet.Protocol { return &lineProtocol{got: &got, ev: &all, n: n} }); err != nil {
			return nil, err
		}
	} else {
		srv := aionet.Serve(ctx, ln, func(ctx context.Context, s *aionet.Stream) error {
			for {
				if _, err := s.ReadLine(ctx); err != nil {
					return nil
				}
				if got++; got == n {
					all.Set()
				}
			}
		})
		defer srv.CloseClients()
	}
	stop, err := aio.ToThread(ctx, func(context.Context) (func(), error) {
		_, stop, err := startClient(ln.Addr().String(), n)
		return stop, err
	})
	if err != nil {
		return nil, err
	}
	defer aio.ToThread(ctx, func(context.Context) (struct{}, error) { stop(); return struct{}{}, nil })
	if err := all.Wait(ctx); err != nil {
		return nil, err
	}
	runtime.GC()
	return result(before, rss(), n), nil
}
