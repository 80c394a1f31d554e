package aionet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"

	"github.com/aio-go/aio"
)

// Pipes says which of a process's standard streams StartProcess connects to
// the loop.
type Pipes uint8

// The standard streams.
const (
	Stdin Pipes = 1 << iota
	Stdout
	Stderr
)

// Process is a child process whose pipes are streams on the loop
// (asyncio.subprocess.Process). Its methods belong to the loop's goroutine.
type Process struct {
	Cmd    *exec.Cmd
	Stdin  *Stream // nil unless StartProcess was asked for Stdin
	Stdout *Stream // nil unless asked for Stdout
	Stderr *Stream // nil unless asked for Stderr
	exited *aio.Future[*os.ProcessState]
}

// StartProcess starts cmd with the pipes asked for as streams
// (asyncio.create_subprocess_exec); cmd's own Stdin, Stdout and Stderr must
// be nil for those. Wait, or the exit future, tells when it ends. The pipes
// and the process are cleaned up when the loop closes: the process is killed
// if it is still running.
func StartProcess(ctx context.Context, cmd *exec.Cmd, pipes Pipes) (*Process, error) {
	l, err := loopOf(ctx)
	if err != nil {
		return nil, err
	}
	p := &Process{Cmd: cmd, exited: aio.NewFuture[*os.ProcessState](ctx)}
	var ours, theirs []*os.File
	closeAll := func() {
		for _, f := range append(ours, theirs...) {
			f.Close()
		}
	}
	for _, bit := range []Pipes{Stdin, Stdout, Stderr} {
		if pipes&bit == 0 {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, err
		}
		our, their := r, w
		if bit == Stdin { // we write to it
			our, their = w, r
		}
		ours, theirs = append(ours, our), append(theirs, their)
		switch bit {
		case Stdin:
			cmd.Stdin = their
		case Stdout:
			cmd.Stdout = their
		case Stderr:
			cmd.Stderr = their
		}
	}
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, err
	}
	for _, f := range theirs {
		f.Close() // the child has them
	}
	i := 0
	for _, bit := range []Pipes{Stdin, Stdout, Stderr} {
		if pipes&bit == 0 {
			continue
		}
		s, proto := newStream(l)
		if err := newPipeTransport(l, ours[i], bit == Stdin, proto); err != nil {
			cmd.Process.Kill()
			for _, f := range ours[i+1:] {
				f.Close()
			}
			return nil, err
		}
		switch bit {
		case Stdin:
			p.Stdin = s
		case Stdout:
			p.Stdout = s
		case Stderr:
			p.Stderr = s
		}
		i++
	}
	// The child's exit comes from a goroutine that waits for it (asyncio's
	// child watcher thread).
	stop := l.OnClose(func() { cmd.Process.Kill() })
	go func() {
		state, err := cmd.Process.Wait()
		l.CallSoonThreadsafe(func() {
			stop()
			if err != nil {
				p.exited.SetError(err)
			} else {
				p.exited.SetResult(state)
			}
		})
	}()
	return p, nil
}

// Wait waits until the process exits and returns its state; a non-zero exit
// status is an *exec.ExitError, as exec.Cmd.Wait returns it.
func (p *Process) Wait(ctx context.Context) (*os.ProcessState, error) {
	state, err := p.exited.Await(ctx)
	if err == nil && !state.Success() {
		err = &exec.ExitError{ProcessState: state}
	}
	return state, err
}

// Exited returns the future of the process's exit, for Wait, Gather and
// friends.
func (p *Process) Exited() *aio.Future[*os.ProcessState] { return p.exited }

// Signal sends sig to the process; Kill kills it.
func (p *Process) Signal(sig os.Signal) error { return p.Cmd.Process.Signal(sig) }

// Kill kills the process.
func (p *Process) Kill() error { return p.Cmd.Process.Kill() }

// Communicate writes input to the process's stdin and closes it, reads its
// stdout and stderr to the end, and waits for it to exit
// (asyncio's communicate).
func (p *Process) Communicate(ctx context.Context, input []byte) (stdout, stderr []byte, err error) {
	if p.Stdin != nil {
		p.Stdin.Write(input)
		if err := p.Stdin.Drain(ctx); err != nil && !errors.Is(err, os.ErrClosed) {
			return nil, nil, err
		}
		p.Stdin.Close()
	}
	readAll := func(s *Stream) func(context.Context) ([]byte, error) {
		return func(ctx context.Context) ([]byte, error) {
			if s == nil {
				return nil, nil
			}
			var out []byte
			buf := make([]byte, 32*1024)
			for {
				n, err := s.Read(ctx, buf)
				out = append(out, buf[:n]...)
				if err != nil {
					if err == io.EOF {
						return out, nil
					}
					return out, err
				}
			}
		}
	}
	outs, err := aio.Gather(ctx, readAll(p.Stdout), readAll(p.Stderr))
	if err != nil {
		return nil, nil, err
	}
	_, err = p.Wait(ctx)
	return outs[0], outs[1], err
}

// pipeAddr names the end of a pipe, for LocalAddr and RemoteAddr.
type pipeAddr string

func (pipeAddr) Network() string  { return "pipe" }
func (a pipeAddr) String() string { return string(a) }

var _ net.Addr = pipeAddr("")
