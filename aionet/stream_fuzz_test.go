package aionet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/aio-go/aio"
)

// fakeTransport records what the stream does to it; data is fed by the test.
type fakeTransport struct{ paused bool }

func (f *fakeTransport) Write([]byte) error                 { return nil }
func (f *fakeTransport) WriteEOF() error                    { return nil }
func (f *fakeTransport) Close() error                       { return nil }
func (f *fakeTransport) Abort()                             {}
func (f *fakeTransport) PauseReading()                      { f.paused = true }
func (f *fakeTransport) ResumeReading()                     { f.paused = false }
func (f *fakeTransport) SetWriteBufferLimits(high, low int) {}
func (f *fakeTransport) WriteBufferSize() int               { return 0 }
func (f *fakeTransport) IsClosing() bool                    { return false }
func (f *fakeTransport) LocalAddr() net.Addr                { return nil }
func (f *fakeTransport) RemoteAddr() net.Addr               { return nil }

// FuzzReadUntil feeds data in arbitrary chunks and checks ReadUntil against
// a plain split: every separated piece comes out whole and in order, a piece
// over the limit is a LimitError that loses nothing, and the rest comes out at
// EOF.
func FuzzReadUntil(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), []byte("\n"), uint8(3), uint8(16))
	f.Add([]byte("a--b---c"), []byte("--"), uint8(1), uint8(4))
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxxxxxx\nyy"), []byte("\n"), uint8(7), uint8(8))
	f.Fuzz(func(t *testing.T, data, sep []byte, chunk, limit uint8) {
		if len(sep) == 0 || len(sep) > 4 || len(data) > 4096 {
			return
		}
		chunkSize := int(chunk%64) + 1
		lim := int(limit) + len(sep)
		err := aio.Run(context.Background(), func(ctx context.Context) error {
			s, p := newStream(aio.LoopOf(ctx))
			p.ConnectionMade(&fakeTransport{})
			s.SetLimit(lim)
			feeder := aio.Go(ctx, func(ctx context.Context) error {
				for i := 0; i < len(data); i += chunkSize {
					chunk := data[i:min(len(data), i+chunkSize)]
					if (i/chunkSize)%2 == 0 {
						p.DataReceived(chunk)
					} else { // the zero-copy path of BufferedProtocol
						for len(chunk) > 0 {
							n := copy(p.GetBuffer(), chunk)
							p.BufferUpdated(n)
							chunk = chunk[n:]
						}
					}
					if err := aio.Yield(ctx); err != nil {
						return err
					}
				}
				p.EOFReceived()
				return nil
			})
			var got []byte
			for {
				piece, err := s.ReadUntil(ctx, sep)
				var le *LimitError
				var ire *IncompleteReadError
				switch {
				case err == nil:
					if !bytes.HasSuffix(piece, sep) || len(piece) > lim {
						t.Fatalf("piece %q: no separator or over the limit %d", piece, lim)
					}
					if i := bytes.Index(piece, sep); i != len(piece)-len(sep) {
						t.Fatalf("piece %q holds an earlier separator", piece)
					}
					got = append(got, piece...)
				case errors.As(err, &le):
					// Nothing is lost: take one byte past it and go on.
					b, err := s.ReadExactly(ctx, 1)
					if err != nil {
						t.Fatalf("after a LimitError: %v", err)
					}
					got = append(got, b...)
				case errors.As(err, &ire):
					got = append(got, ire.Partial...)
				case err == io.EOF:
				default:
					t.Fatalf("ReadUntil: %v", err)
				}
				if err != nil && !errors.As(err, &le) {
					break
				}
			}
			feeder.Await(ctx)
			if !bytes.Equal(got, data) {
				t.Fatalf("read %q; fed %q", got, data)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
