package aionet_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aio-go/aio"
	"github.com/aio-go/aio/aionet"
	"github.com/aio-go/aio/aiotest"
)

// run runs main on a fresh loop and checks that no descriptor and no
// goroutine is left once it is closed.
func run(t *testing.T, main func(ctx context.Context) error, opts ...aio.Option) {
	t.Helper()
	defer aiotest.CheckLeaks(t)()
	if err := aio.Run(context.Background(), main, opts...); err != nil {
		t.Fatal(err)
	}
}

// runGuarded is run for a test whose failure would be a loop that never
// goes idle: main runs on a goroutine of its own, and the test fails if it
// has not returned within a minute.
// serveAndDial starts handler as a server on loopback and dials it; done
// closes the client's stream and the server.
func serveAndDial(ctx context.Context, handler func(context.Context, *aionet.Stream) error) (s *aionet.Stream, srv *aionet.Server, done func(), err error) {
	srv, err = aionet.StartServer(ctx, "tcp", "127.0.0.1:0", handler)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err = aionet.Dial(ctx, "tcp", srv.Addr().String())
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	return s, srv, func() { s.Close(); srv.Close() }, nil
}

func runGuarded(t *testing.T, why string, main func(ctx context.Context) error, opts ...aio.Option) {
	t.Helper()
	defer aiotest.CheckLeaks(t)()
	done := make(chan error, 1)
	go func() { done <- aio.Run(context.Background(), main, opts...) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal(why)
	}
}

// echo is a connection handler that sends back what it reads.
func echo(ctx context.Context, s *aionet.Stream) error {
	buf := make([]byte, 32*1024)
	for {
		n, err := s.Read(ctx, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := s.Write(buf[:n]); err != nil {
			return err
		}
		if err := s.Drain(ctx); err != nil {
			return err
		}
	}
}

func TestEchoSizes(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6", "unix"} {
		t.Run(network, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				addr := "127.0.0.1:0"
				switch network {
				case "tcp6":
					addr = "[::1]:0"
				case "unix":
					addr = t.TempDir() + "/echo.sock"
				}
				srv, err := aionet.StartServer(ctx, network, addr, echo)
				if err != nil {
					if network == "tcp6" {
						t.Skip("no IPv6 loopback:", err)
					}
					return err
				}
				defer srv.Close()
				c, err := aionet.Dial(ctx, network, srv.Addr().String())
				if err != nil {
					return err
				}
				defer c.Close()
				for _, size := range []int{1, 100, 4096, 65536, 1 << 20, 3<<20 + 7} {
					msg := make([]byte, size)
					rand.Read(msg)
					// Write and read concurrently: a large message fills both
					// socket buffers before the echo comes back.
					w := aio.Go(ctx, func(ctx context.Context) error {
						if _, err := c.Write(msg); err != nil {
							return err
						}
						return c.Drain(ctx)
					})
					got, err := c.ReadExactly(ctx, size)
					if err != nil {
						return fmt.Errorf("size %d: %w", size, err)
					}
					if !bytes.Equal(got, msg) {
						return fmt.Errorf("size %d: echo differs", size)
					}
					if _, err := w.Await(ctx); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
}

// serveChunks starts a server that writes the chunks with a pause between
// them, so that the client's reads meet them at their boundaries.
func serveChunks(ctx context.Context, chunks ...string) (*aionet.Server, error) {
	return aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
		for _, c := range chunks {
			s.Write([]byte(c))
			s.Drain(ctx)
			aio.Sleep(ctx, 5*time.Millisecond)
		}
		return s.CloseWrite()
	})
}

func TestReaderBoundaries(t *testing.T) {
	run(t, func(ctx context.Context) error {
		srv, err := serveChunks(ctx, "hel", "lo\nwor", "ld\n", "xx--", "-yy", "abcdef", "tail")
		if err != nil {
			return err
		}
		defer srv.Close()
		c, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		for _, want := range []string{"hello\n", "world\n"} {
			line, err := c.ReadLine(ctx)
			if string(line) != want || err != nil {
				t.Errorf("ReadLine = %q %v; want %q", line, err, want)
			}
		}
		if b, err := c.ReadUntil(ctx, []byte("---")); string(b) != "xx---" || err != nil {
			t.Errorf("ReadUntil(---) = %q %v", b, err)
		}
		if b, err := c.ReadExactly(ctx, -1); err == nil || b != nil {
			t.Errorf("ReadExactly(-1) = %q %v; want an error", b, err)
		}
		if b, err := c.ReadExactly(ctx, 4); string(b) != "yyab" || err != nil {
			t.Errorf("ReadExactly(4) = %q %v", b, err)
		}
		b, err := c.ReadExactly(ctx, 100)
		var ire *aionet.IncompleteReadError
		if !errors.As(err, &ire) || string(ire.Partial) != "cdeftail" || string(b) != "cdeftail" || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadExactly past the end = %q %v", b, err)
		}
		if _, err := c.ReadLine(ctx); err != io.EOF {
			t.Errorf("ReadLine at EOF = %v", err)
		}
		if n, err := c.Read(ctx, make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("Read at EOF = %d %v", n, err)
		}
		return nil
	})
}

func TestReaderLimit(t *testing.T) {
	run(t, func(ctx context.Context) error {
		long := strings.Repeat("x", 300)
		srv, err := serveChunks(ctx, long, "\nshort\n")
		if err != nil {
			return err
		}
		defer srv.Close()
		c, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetLimit(100)
		_, err = c.ReadLine(ctx)
		var le *aionet.LimitError
		if !errors.As(err, &le) || le.Limit != 100 {
			t.Fatalf("ReadLine over the limit = %v", err)
		}
		// The data stays: read it another way.
		b, err := c.ReadExactly(ctx, 301)
		if string(b) != long+"\n" || err != nil {
			t.Errorf("after the overrun: %q %v", b, err)
		}
		if line, err := c.ReadLine(ctx); string(line) != "short\n" || err != nil {
			t.Errorf("next line = %q %v", line, err)
		}
		return nil
	})
}

func TestHalfCloseAndReset(t *testing.T) {
	run(t, func(ctx context.Context) error {
		// Half-close: the client stops writing; the server reads to EOF and
		// then answers.
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			var all []byte
			buf := make([]byte, 1024)
			for {
				n, err := s.Read(ctx, buf)
				all = append(all, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
			}
			s.Write([]byte(fmt.Sprintf("got %d bytes", len(all))))
			return s.Drain(ctx)
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		c, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		c.Write([]byte("half a conversation"))
		c.CloseWrite()
		var answer bytes.Buffer
		buf := make([]byte, 100)
		for {
			n, err := c.Read(ctx, buf)
			answer.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if answer.String() != "got 19 bytes" {
			t.Errorf("answer %q", answer.String())
		}
		c.Close()
		// Reset: the server closes with unread data, the kernel resets.
		rst, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			aio.Sleep(ctx, 20*time.Millisecond) // let the data arrive, unread
			s.Transport().Abort()
			return nil
		})
		if err != nil {
			return err
		}
		defer rst.Close()
		c, err = aionet.Dial(ctx, "tcp", rst.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write(bytes.Repeat([]byte("x"), 1000))
		_, err = c.Read(ctx, buf)
		if !errors.Is(err, syscall.ECONNRESET) && err != io.EOF {
			t.Errorf("read after a reset = %v; want ECONNRESET", err)
		}
		return nil
	})
}

func TestSlowReaderBoundsMemory(t *testing.T) {
	run(t, func(ctx context.Context) error {
		release := &aio.Event{}
		var received int
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			if err := release.Wait(ctx); err != nil { // does not read for a while
				return err
			}
			buf := make([]byte, 64*1024)
			for {
				n, err := s.Read(ctx, buf)
				received += n
				if err != nil {
					return nil
				}
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
		chunk := make([]byte, 16*1024)
		most := 0
		stalled := false
		for sent := 0; sent < 32<<20; sent += len(chunk) {
			c.Write(chunk)
			most = max(most, c.Transport().WriteBufferSize())
			err := aio.Timeout(ctx, 50*time.Millisecond, c.Drain)
			if errors.Is(err, context.DeadlineExceeded) {
				stalled = true // the peer does not read: Drain waits
				release.Set()
				if err := c.Drain(ctx); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
		}
		c.CloseWrite()
		srv.Close()
		if !stalled {
			t.Error("Drain never waited for the slow reader")
		}
		if most > aionet.DefaultHighWater+len(chunk) {
			t.Errorf("write buffer reached %d bytes; the high-water mark is %d", most, aionet.DefaultHighWater)
		}
		c.Close()
		return c.WaitClosed(ctx)
	})
}

func TestConnectErrors(t *testing.T) {
	run(t, func(ctx context.Context) error {
		// A port nobody listens on.
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = aionet.Dial(ctx, "tcp", addr)
		var oe *net.OpError
		if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &oe) || oe.Op != "dial" || !strings.Contains(err.Error(), addr) {
			t.Errorf("dial to a closed port = %v", err)
		}
		for _, c := range []struct{ network, op string }{{"udp", "dial"}, {"ip", "dial"}} {
			if _, err := aionet.Dial(ctx, c.network, addr); !errors.As(err, new(net.UnknownNetworkError)) {
				t.Errorf("Dial(%q) = %v; want an unknown-network error", c.network, err)
			}
		}
		if _, err := aionet.Listen(ctx, "udp", "127.0.0.1:0"); !errors.As(err, new(net.UnknownNetworkError)) {
			t.Errorf("Listen(udp) = %v", err)
		}
		if _, err := aionet.ListenPacket(ctx, "tcp", "127.0.0.1:0"); !errors.As(err, new(net.UnknownNetworkError)) {
			t.Errorf("ListenPacket(tcp) = %v", err)
		}
		if _, err := aionet.Dial(ctx, "tcp", "no-port"); err == nil {
			t.Error("dial to a bad address succeeded")
		}
		if _, err := aionet.Dial(context.Background(), "tcp", addr); !errors.Is(err, aio.ErrNoTask) {
			t.Errorf("dial outside a task = %v", err)
		}
		return nil
	})
}

func TestConnectTimeoutVirtualClock(t *testing.T) {
	clk := aio.NewVirtualClock(time.Time{})
	run(t, func(ctx context.Context) error {
		// A non-routable address: the SYN goes nowhere.
		err := aio.Timeout(ctx, 30*time.Second, func(ctx context.Context) error {
			c, err := aionet.Dial(ctx, "tcp", "10.255.255.1:81")
			if err == nil {
				c.Close()
			}
			return err
		})
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Skip("this network does not drop SYNs to 10.255.255.1:", err)
		}
		if !errors.Is(err, context.DeadlineExceeded) || clk.Since() != 30*time.Second {
			t.Errorf("connect timeout = %v after %v", err, clk.Since())
		}
		return nil
	}, aio.WithClock(clk))
}

func TestManyConnections(t *testing.T) {
	// 10,000 connections need 20,000 descriptors in one process, more than
	// this machine allows: the clients run in a child process, plain Go.
	run(t, func(ctx context.Context) error {
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", echo)
		if err != nil {
			return err
		}
		defer srv.Close()
		out, err := aio.ToThread(ctx, func(ctx context.Context) ([]byte, error) {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestManyConnectionsClient$", "-test.v")
			cmd.Env = append(os.Environ(), "AIONET_CLIENT_ADDR="+srv.Addr().String())
			return cmd.CombinedOutput()
		})
		if err != nil || !bytes.Contains(out, []byte("connections: 10000 ok")) {
			t.Errorf("clients: %v\n%s", err, out)
		}
		return nil
	})
}

// TestManyConnectionsClient is the child process of TestManyConnections: it
// opens 10,000 connections, keeps them all open, and makes each do a round
// trip.
func TestManyConnectionsClient(t *testing.T) {
	addr := os.Getenv("AIONET_CLIENT_ADDR")
	if addr == "" {
		t.Skip("run by TestManyConnections")
	}
	const n = 10000
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	errs := make(chan error, n)
	for i, c := range conns {
		go func() {
			msg := fmt.Sprintf("hello %d\n", i)
			if _, err := c.Write([]byte(msg)); err != nil {
				errs <- err
				return
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err == nil && line != msg {
				err = fmt.Errorf("connection %d got %q", i, line)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("connections: %d ok", n)
}

func TestTLSBothWays(t *testing.T) {
	cert := selfSigned(t)
	run(t, func(ctx context.Context) error {
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			tc := tls.Server(s.Conn(), &tls.Config{Certificates: []tls.Certificate{cert}})
			defer tc.Close()
			r := bufio.NewReader(tc)
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			_, err = tc.Write([]byte("secure " + line))
			return err
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		s, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		// STARTTLS: the stream is in use before the upgrade.
		tc := tls.Client(s.Conn(), &tls.Config{InsecureSkipVerify: true})
		defer tc.Close()
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		fmt.Fprintf(tc, "hello\n")
		line, err := bufio.NewReader(tc).ReadString('\n')
		if line != "secure hello\n" || err != nil {
			t.Errorf("over TLS: %q %v", line, err)
		}
		if st := tc.ConnectionState(); !st.HandshakeComplete {
			t.Error("handshake not complete")
		}
		return nil
	})
}

func TestConnWithStandardLibrary(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "you asked for %s", r.URL.Path)
	}))
	defer hs.Close()
	run(t, func(ctx context.Context) error {
		s, err := aionet.Dial(ctx, "tcp", strings.TrimPrefix(hs.URL, "http://"))
		if err != nil {
			return err
		}
		conn := s.Conn()
		defer conn.Close()
		req, _ := http.NewRequest("GET", hs.URL+"/lecture", nil)
		if err := req.Write(conn); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "you asked for /lecture" {
			t.Errorf("response %d %q", resp.StatusCode, body)
		}
		// Deadlines: a read that nothing answers times out.
		conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err = conn.Read(make([]byte, 10))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read past the deadline = %v", err)
		}
		// A deadline moved into the past from another goroutine wakes a
		// blocked Read.
		conn.SetReadDeadline(time.Time{})
		go func() {
			time.Sleep(20 * time.Millisecond)
			conn.SetReadDeadline(time.Now())
		}()
		if _, err := conn.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read interrupted by a deadline = %v", err)
		}
		return nil
	})
}

// openFDs counts the process's open descriptors (Linux), or -1.
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// Close closes what the loop's tasks left open, before it returns.
func TestLoopCloseClosesDescriptors(t *testing.T) {
	fds := openFDs()
	l := aio.NewLoop()
	var srv *aionet.Server
	var conn *aionet.Stream
	task := aio.Go(l.Context(), func(ctx context.Context) error {
		var err error
		if srv, err = aionet.StartServer(ctx, "tcp", "127.0.0.1:0", echo); err != nil {
			return err
		}
		conn, err = aionet.Dial(ctx, "tcp", srv.Addr().String())
		return err
	})
	if err := l.RunUntilComplete(task); err != nil || task.Err() != nil {
		t.Fatal(err, task.Err())
	}
	l.CallLater(10*time.Millisecond, l.Stop)
	l.RunForever()
	l.Close() // nobody closed the server or the connection
	if fds >= 0 && openFDs() != fds {
		t.Fatalf("%d descriptors open after the loop closed; %d before", openFDs(), fds)
	}
	if _, err := conn.Write([]byte("x")); err == nil {
		t.Error("write on a connection of a closed loop succeeded")
	}
}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	certPEM, keyPEM := generateCert(t)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestDebugReportsUnclosed(t *testing.T) {
	var reports []string
	l := aio.NewLoop(aio.WithDebug(true, time.Hour), aio.WithExceptionHandler(func(ec aio.ExceptionContext) {
		reports = append(reports, ec.Message)
	}))
	tk := aio.Go(l.Context(), func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		_, err = aionet.Dial(ctx, "tcp", ln.Addr().String()) // never closed
		return err
	})
	if err := l.RunUntilComplete(tk); err != nil || tk.Err() != nil {
		t.Fatal(err, tk.Err())
	}
	l.Close()
	joined := strings.Join(reports, "\n")
	if !strings.Contains(joined, "aionet: listener on 127.0.0.1:") || !strings.Contains(joined, "aionet: connection on 127.0.0.1:") ||
		!strings.Contains(joined, "was not closed before its loop closed") {
		t.Fatalf("reports:\n%s", joined)
	}
}

// connectedPair returns both ends of a loopback connection, and a function
// that closes them.
func connectedPair(ctx context.Context) (c, peer *aionet.Stream, done func(), err error) {
	peers := make(chan *aionet.Stream, 1)
	srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
		peers <- s
		return s.WaitClosed(ctx)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	c, err = aionet.Dial(ctx, "tcp", srv.Addr().String())
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	for len(peers) == 0 {
		aio.Yield(ctx)
	}
	return c, <-peers, func() { c.Close(); srv.Close() }, nil
}

// A Read that is cancelled while its buffer is lent to the transport loses
// nothing: data read into the buffer is returned, later data is buffered.
func TestReadCancelledLosesNothing(t *testing.T) {
	run(t, func(ctx context.Context) error {
		c, peer, done, err := connectedPair(ctx)
		if err != nil {
			return err
		}
		defer done()
		var sent, got bytes.Buffer
		raced := 0
		for i := range 200 {
			buf := make([]byte, 4096)
			reader := aio.Go(ctx, func(ctx context.Context) error {
				n, err := c.Read(ctx, buf)
				got.Write(buf[:n])
				if n > 0 && err == nil && ctx.Err() != nil {
					raced++ // cancelled, and the data came with it
				}
				return err
			})
			aio.Yield(ctx) // the reader waits, its buffer lent
			msg := fmt.Sprintf("message %d;", i)
			sent.WriteString(msg)
			if i%2 == 0 {
				peer.Write([]byte(msg)) // the data is there before the reader runs again
				reader.Cancel()
			} else {
				reader.Cancel()
				aio.Yield(ctx)
				peer.Write([]byte(msg))
			}
			aio.Wait(ctx, aio.AllCompleted, -1, reader)
		}
		peer.CloseWrite()
		for {
			buf := make([]byte, 4096)
			n, err := c.Read(ctx, buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if got.String() != sent.String() {
			t.Errorf("received %q\nwant %q", got.String(), sent.String())
		}
		if raced == 0 {
			t.Error("no Read was cancelled with its data already read: the test missed its case")
		}
		return nil
	})
}

// Two tasks reading one stream at once lose nothing and duplicate nothing:
// only one lends its buffer at a time.
func TestConcurrentReadersLoseNothing(t *testing.T) {
	run(t, func(ctx context.Context) error {
		c, peer, done, err := connectedPair(ctx)
		if err != nil {
			return err
		}
		defer done()
		var got [2]bytes.Buffer
		readers := make([]*aio.Task[struct{}], 2)
		for i := range readers {
			readers[i] = aio.Go(ctx, func(ctx context.Context) error {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(ctx, buf)
					got[i].Write(buf[:n])
					if err == io.EOF {
						return nil
					}
					if err != nil {
						return err
					}
				}
			})
		}
		var sent bytes.Buffer
		for i := range 300 {
			msg := fmt.Sprintf("<%d>", i)
			sent.WriteString(msg)
			peer.Write([]byte(msg))
			for range i % 3 { // vary who is waiting when the data comes
				aio.Yield(ctx)
			}
		}
		peer.CloseWrite()
		for _, r := range readers {
			if _, err := r.Await(ctx); err != nil {
				return err
			}
		}
		// Each message went, whole or in pieces, to one reader or the other:
		// together they hold every byte sent, once.
		all := []byte(got[0].String() + got[1].String())
		want := sent.Bytes()
		slices.Sort(all)
		slices.Sort(want)
		if !bytes.Equal(all, want) {
			t.Errorf("readers got %d bytes in all, not the %d sent", len(all), len(want))
		}
		return nil
	})
}

// TestDataAndEOFTogether: a peer that writes and closes before the server
// looks (here, before it accepts) delivers the data and the end of the
// stream in one readiness event; the stream must see both.
func TestDataAndEOFTogether(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				addr := "127.0.0.1:0"
				if network == "unix" {
					addr = filepath.Join(t.TempDir(), "s")
				}
				ln, err := aionet.Listen(ctx, network, addr)
				if err != nil {
					return err
				}
				defer ln.Close()
				_, err = aio.ToThread(ctx, func(context.Context) (struct{}, error) {
					c, err := net.Dial(network, ln.Addr().String())
					if err != nil {
						return struct{}{}, err
					}
					c.Write([]byte("last words"))
					return struct{}{}, c.Close()
				})
				if err != nil {
					return err
				}
				s, err := ln.Accept(ctx)
				if err != nil {
					return err
				}
				defer s.Close()
				var got []byte
				err = aio.Timeout(ctx, 5*time.Second, func(ctx context.Context) (err error) {
					got, err = s.ReadUntil(ctx, []byte("never"))
					return err
				})
				var ie *aionet.IncompleteReadError
				if !errors.As(err, &ie) || string(got) != "last words" || string(ie.Partial) != "last words" {
					t.Errorf("ReadUntil = %q, %v; want the data and the end of the stream", got, err)
				}
				return nil
			})
		})
	}
}

// echoProtocol sends back what it receives, from the transport's callbacks.
type echoProtocol struct {
	t    aionet.Transport
	lost func(error)
}

func (p *echoProtocol) ConnectionMade(t aionet.Transport) { p.t = t }
func (p *echoProtocol) DataReceived(data []byte)          { p.t.Write(data) }
func (p *echoProtocol) EOFReceived() bool                 { return false } // close
func (p *echoProtocol) ConnectionLost(err error)          { p.lost(err) }

// TestServeProtocol serves connections with callbacks only: round trips of
// several sizes on a few connections at once, then each client's close
// reaches its protocol.
func TestServeProtocol(t *testing.T) {
	run(t, func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		var lost []error
		var allLost aio.Event
		ln.ServeProtocol(func() aionet.Protocol {
			return &echoProtocol{lost: func(err error) {
				if lost = append(lost, err); len(lost) == 3 {
					allLost.Set()
				}
			}}
		})
		client := func(ctx context.Context) (struct{}, error) {
			return struct{}{}, protocolClient(ctx, ln.Addr().String())
		}
		if _, err := aio.Gather(ctx, client, client, client); err != nil {
			return err
		}
		if err := aio.Timeout(ctx, 5*time.Second, allLost.Wait); err != nil {
			return fmt.Errorf("connections lost: %d of 3: %w", len(lost), err)
		}
		for _, err := range lost {
			if err != nil {
				t.Errorf("ConnectionLost(%v) after the client closed, want nil", err)
			}
		}
		return nil
	})
}

func protocolClient(ctx context.Context, addr string) error {
	s, err := aionet.Dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, size := range []int{1, 1000, 100_000, 1 << 20} {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		if _, err := s.Write(msg); err != nil {
			return err
		}
		got, err := s.ReadExactly(ctx, size)
		if err != nil {
			return fmt.Errorf("echo of %d bytes: %w", size, err)
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo of %d bytes came back changed", size)
		}
	}
	return nil
}

// A Write whose deadline passes while it waits for a peer that does not read
// has still taken its data: it says so (n = len(p)), and the peer gets every
// byte once it reads.
func TestConnWriteDeadlineLosesNothing(t *testing.T) {
	clk := aio.NewVirtualClock(time.Now())
	run(t, func(ctx context.Context) error {
		ln, err := aionet.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		c, err := aionet.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		peer, err := ln.Accept(ctx) // reads nothing for now
		if err != nil {
			return err
		}
		defer peer.Close()
		conn := c.Conn()
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		msg := make([]byte, 16<<20) // more than the socket buffers hold
		rand.Read(msg)
		n, err := conn.Write(msg)
		if n != len(msg) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write past its deadline = %d of %d, %v", n, len(msg), err)
		}
		got, err := peer.ReadExactly(ctx, len(msg))
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("the peer read %d bytes, equal %v, %v", len(got), bytes.Equal(got, msg), err)
		}
		return nil
	}, aio.WithClock(clk))
}

// TestServerCloseLetsHandlersFinish: Close stops accepting, and the
// connections being served carry on (asyncio's Server.close); CloseClients
// is what ends them.
func TestServerCloseLetsHandlersFinish(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var serving aio.Event
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			serving.Set()
			line, err := s.ReadLine(ctx)
			if err != nil {
				return err
			}
			s.Write(append([]byte("got "), line...))
			return s.Drain(ctx)
		})
		if err != nil {
			return err
		}
		c, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		if err := serving.Wait(ctx); err != nil {
			return err
		}
		srv.Close()
		c.Write([]byte("hi\n"))
		if line, err := c.ReadLine(ctx); string(line) != "got hi\n" {
			t.Errorf("after Close, the handler answered %q, %v; want \"got hi\\n\"", line, err)
		}
		return srv.WaitClosed(ctx)
	})
}

// TestOnHangUp: the callback runs when the peer closes its side, once.
func TestOnHangUp(t *testing.T) {
	run(t, func(ctx context.Context) error {
		hung := make(chan error, 2)
		var serving aio.Event
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			done := aio.NewFuture[error](ctx)
			s.OnHangUp(func(err error) { hung <- err; done.SetResult(err) })
			serving.Set()
			_, err := done.Await(ctx)
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
		if err := serving.Wait(ctx); err != nil {
			return err
		}
		c.Close()
		srv.Close()
		if err := srv.WaitClosed(ctx); err != nil {
			return err
		}
		if len(hung) != 1 {
			t.Fatalf("OnHangUp ran %d times; want 1", len(hung))
		}
		if err := <-hung; err != nil {
			t.Errorf("OnHangUp(%v); want nil for the peer's close", err)
		}
		return nil
	})
}

// TestConnCloseFromAnotherGoroutine: net.Conn lets any goroutine close a
// connection (crypto/tls and net/http do); the Read waiting in a task then
// returns. It was a data race, and the Read never returned.
func TestConnCloseFromAnotherGoroutine(t *testing.T) {
	run(t, func(ctx context.Context) error {
		srv, err := aionet.StartServer(ctx, "tcp", "127.0.0.1:0", func(ctx context.Context, s *aionet.Stream) error {
			_, err := s.ReadLine(ctx) // the peer never writes: returns when it closes
			return err
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		for range 20 { // the Close comes before the Read waits, or after
			s, err := aionet.Dial(ctx, "tcp", srv.Addr().String())
			if err != nil {
				return err
			}
			c := s.Conn()
			go c.Close()
			n, err := c.Read(make([]byte, 10))
			if n != 0 || !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Read after Close from a goroutine = %d, %v; want net.ErrClosed", n, err)
			}
			if err := c.Close(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("a second Close = %v; want net.ErrClosed", err)
			}
		}
		return nil
	})
}

// TestResetKeepsItsCause: a connection reset ends ReadLine with an
// *IncompleteReadError that still says ECONNRESET (asyncio raises
// ConnectionResetError), and a later Write reports it as a write.
func TestResetKeepsItsCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.(*net.TCPConn).SetLinger(0) // close with a reset
		c.Read(make([]byte, 1))
		c.Close()
	}()
	run(t, func(ctx context.Context) error {
		s, err := aionet.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer s.Close()
		s.Write([]byte("x"))
		_, err = s.ReadLine(ctx)
		var ie *aionet.IncompleteReadError
		if !errors.As(err, &ie) || !errors.Is(err, syscall.ECONNRESET) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadLine after a reset = %v; want an IncompleteReadError matching ECONNRESET", err)
		}
		_, err = s.Write([]byte("y"))
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "write" || !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("Write after a reset = %v; want a write error matching ECONNRESET", err)
		}
		return nil
	})
}

// TestConnTimeoutScopeBoundsStdlib: standard library code on a Conn inside an
// aio.Timeout is bounded by it with no call to remember (SetContext): a TLS
// handshake with a peer that never answers ends at the timeout, on the loop's
// virtual clock. (It waited until the peer gave up.)
func TestConnTimeoutScopeBoundsStdlib(t *testing.T) {
	runGuarded(t, "the handshake ignored the timeout", func(ctx context.Context) error {
		s, srv, done, err := serveAndDial(ctx, func(ctx context.Context, s *aionet.Stream) error {
			return aio.Sleep(ctx, time.Hour) // accepts, never answers
		})
		if err != nil {
			return err
		}
		defer done()
		for _, withContext := range []bool{false, true} {
			start := aio.LoopOf(ctx).Now()
			err = aio.Timeout(ctx, 300*time.Millisecond, func(ctx context.Context) error {
				tc := tls.Client(s.Conn(), &tls.Config{InsecureSkipVerify: true})
				if withContext { // crypto/tls closes the Conn from a goroutine of its own
					return tc.HandshakeContext(ctx)
				}
				return tc.Handshake()
			})
			if took := aio.LoopOf(ctx).Now().Sub(start); !errors.Is(err, context.DeadlineExceeded) || took != 300*time.Millisecond {
				t.Errorf("handshake (context %v) under a 300ms timeout: %v after %v", withContext, err, took)
			}
		}
		srv.CloseClients()
		return nil
	}, aio.WithClock(aio.NewVirtualClock(time.Time{})))
}
