package gen_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aio-go/aio/gen"
)

// The lecture's generators, "from the very beginning".

func eagerRange(upTo int) []int {
	var seq []int
	for i := 0; i < upTo; i++ {
		seq = append(seq, i)
	}
	return seq
}

func lazyRange(upTo int) *gen.Generator[int, struct{}, struct{}] {
	return gen.New(func(y *gen.Yielder[int, struct{}]) (struct{}, error) {
		for index := 0; index < upTo; index++ {
			if _, err := y.Yield(index); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
}

// jumpingRange is the lecture's send() example; Next sends the zero value,
// Python's None, which means a jump of 1.
func jumpingRange(upTo int) *gen.Generator[int, int, struct{}] {
	return gen.New(func(y *gen.Yielder[int, int]) (struct{}, error) {
		index := 0
		for index < upTo {
			jump, err := y.Yield(index)
			if err != nil {
				return struct{}{}, err
			}
			if jump == 0 {
				jump = 1
			}
			index += jump
		}
		return struct{}{}, nil
	})
}

func bottom() *gen.Generator[int, int, int] {
	return gen.New(func(y *gen.Yielder[int, int]) (int, error) {
		if _, err := y.Yield(42); err != nil {
			return 0, err
		}
		if _, err := y.Yield(84); err != nil {
			return 0, err
		}
		return 0, nil
	})
}

func top(printed *[]int) *gen.Generator[int, int, int] {
	return gen.New(func(y *gen.Yielder[int, int]) (int, error) {
		value, err := gen.YieldFrom(y, bottom())
		if err != nil {
			return 0, err
		}
		*printed = append(*printed, value)
		return value, nil
	})
}

func TestLectureRanges(t *testing.T) {
	if got := slices.Collect(lazyRange(5).All()); !slices.Equal(got, eagerRange(5)) {
		t.Errorf("lazy_range(5) = %v", got)
	}
	g := jumpingRange(5)
	var got []string
	v, err := g.Next()
	got = append(got, fmt.Sprint("next   : ", v, err))
	v, err = g.Send(2)
	got = append(got, fmt.Sprint("send  2: ", v, err))
	v, err = g.Next()
	got = append(got, fmt.Sprint("next   : ", v, err))
	v, err = g.Send(-1)
	got = append(got, fmt.Sprint("send -1: ", v, err))
	want := []string{"next   : 0 <nil>", "send  2: 2 <nil>", "next   : 3 <nil>", "send -1: 2 <nil>"}
	if !slices.Equal(got, want) {
		t.Errorf("jumping_range:\n%q\nwant\n%q", got, want)
	}
}

func TestLectureYieldFrom(t *testing.T) {
	var printed []int
	if got := slices.Collect(top(&printed).All()); !slices.Equal(got, []int{42, 84}) || !slices.Equal(printed, []int{0}) {
		t.Errorf("list(top()) = %v, printed %v", got, printed)
	}
	g := top(&printed)
	a, _ := g.Next()
	b, _ := g.Next()
	if a != 42 || b != 84 {
		t.Errorf("next, next = %d %d", a, b)
	}
	if _, err := g.Next(); err != gen.ErrStop {
		t.Fatalf("third next = %v; want ErrStop", err)
	}
	if v, done := g.Value(); !done || v != 0 {
		t.Errorf("StopIteration value = %d %v", v, done)
	}
	if _, err := g.Next(); err != gen.ErrStop {
		t.Errorf("next after stop = %v", err)
	}
}

func TestThrowAndClose(t *testing.T) {
	errBoom := errors.New("boom")
	var log []string
	mk := func() *gen.Generator[int, int, string] {
		return gen.New(func(y *gen.Yielder[int, int]) (string, error) {
			defer func() { log = append(log, "cleanup") }()
			for i := 0; ; i++ {
				_, err := y.Yield(i)
				switch {
				case errors.Is(err, gen.ErrExit):
					return "", err
				case errors.Is(err, errBoom):
					log = append(log, "handled boom")
					continue
				case err != nil:
					return "", err
				}
			}
		})
	}
	g := mk()
	g.Next()
	if v, err := g.Throw(errBoom); v != 1 || err != nil {
		t.Errorf("Throw handled = %d %v", v, err)
	}
	errOther := errors.New("other")
	if _, err := g.Throw(errOther); err != errOther {
		t.Errorf("Throw unhandled = %v", err)
	}
	if _, err := g.Next(); err != gen.ErrStop {
		t.Errorf("after an unhandled throw = %v", err)
	}
	g = mk()
	g.Next()
	if err := g.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if !slices.Equal(log, []string{"handled boom", "cleanup", "cleanup"}) {
		t.Errorf("log %v", log)
	}
	// Throw into a generator that has not started: the body never runs.
	ran := false
	g2 := gen.New(func(y *gen.Yielder[int, int]) (int, error) { ran = true; return 0, nil })
	if _, err := g2.Throw(errBoom); err != errBoom || ran {
		t.Errorf("Throw before start = %v, ran %v", err, ran)
	}
	// Send before start.
	if _, err := jumpingRange(3).Send(2); err != gen.ErrNotStarted {
		t.Errorf("Send before start = %v", err)
	}
	// Close before start: the body never runs.
	g2 = gen.New(func(y *gen.Yielder[int, int]) (int, error) { ran = true; return 0, nil })
	if err := g2.Close(); err != nil || ran {
		t.Errorf("Close before start = %v, ran %v", err, ran)
	}
}

func TestIgnoredExit(t *testing.T) {
	cleaned := false
	g := gen.New(func(y *gen.Yielder[int, int]) (int, error) {
		defer func() { cleaned = true }()
		for {
			y.Yield(1) // ignores ErrExit
		}
	})
	g.Next()
	if err := g.Close(); err != gen.ErrIgnoredExit || !cleaned {
		t.Fatalf("Close = %v, cleaned %v", err, cleaned)
	}
}

func TestRunningAndErrors(t *testing.T) {
	var g *gen.Generator[int, int, int]
	g = gen.New(func(y *gen.Yielder[int, int]) (int, error) {
		_, err := g.Next() // resuming itself
		return 0, err
	})
	if _, err := g.Next(); err != gen.ErrRunning {
		t.Errorf("self-resume = %v", err)
	}
	errBody := errors.New("body failed")
	g = gen.New(func(y *gen.Yielder[int, int]) (int, error) {
		y.Yield(1)
		return 0, errBody
	})
	if got := slices.Collect(g.All()); !slices.Equal(got, []int{1}) {
		t.Errorf("All = %v", got)
	}
	if _, err := g.Next(); err != errBody {
		t.Errorf("the body error after All = %v", err)
	}
	// A panic in the body reaches the caller, as an exception would.
	g = gen.New(func(y *gen.Yielder[int, int]) (int, error) { panic("in the body") })
	func() {
		defer func() {
			if r := recover(); r != "in the body" {
				t.Errorf("recovered %v", r)
			}
		}()
		g.Next()
	}()
}

func TestYieldFromDelegatesSendThrowClose(t *testing.T) {
	errBoom := errors.New("boom")
	var subLog []string
	sub := func() *gen.Generator[int, int, string] {
		return gen.New(func(y *gen.Yielder[int, int]) (string, error) {
			defer func() { subLog = append(subLog, "sub cleanup") }()
			total := 0
			for {
				s, err := y.Yield(total)
				if errors.Is(err, errBoom) {
					subLog = append(subLog, "sub got boom")
					continue
				}
				if err != nil {
					return "", err
				}
				if s < 0 {
					return fmt.Sprint("total ", total), nil
				}
				total += s
			}
		})
	}
	outer := gen.New(func(y *gen.Yielder[int, int]) (string, error) {
		r, err := gen.YieldFrom(y, sub())
		return "outer saw " + r, err
	})
	outer.Next()
	outer.Send(5)
	v, _ := outer.Send(7)
	outer.Throw(errBoom)
	if _, err := outer.Send(-1); err != gen.ErrStop || v != 12 {
		t.Errorf("v %d, end %v", v, err)
	}
	if r, _ := outer.Value(); r != "outer saw total 12" {
		t.Errorf("return value %q", r)
	}
	outer = gen.New(func(y *gen.Yielder[int, int]) (string, error) {
		return gen.YieldFrom(y, sub())
	})
	outer.Next()
	if err := outer.Close(); err != nil {
		t.Errorf("Close through YieldFrom = %v", err)
	}
	if !slices.Equal(subLog, []string{"sub got boom", "sub cleanup", "sub cleanup"}) {
		t.Errorf("sub log %v", subLog)
	}
}

func ExampleYieldFrom() {
	bottom := gen.New(func(y *gen.Yielder[int, struct{}]) (int, error) {
		y.Yield(42)
		y.Yield(84)
		return 0, nil
	})
	top := gen.New(func(y *gen.Yielder[int, struct{}]) (int, error) {
		value, err := gen.YieldFrom(y, bottom)
		fmt.Println("bottom returned", value)
		return value, err
	})
	for v := range top.All() {
		fmt.Println(v)
	}
	// Output:
	// 42
	// 84
	// bottom returned 0
}

func ExampleGenerator_Send() {
	g := gen.New(func(y *gen.Yielder[int, int]) (struct{}, error) {
		for index := 0; index < 5; {
			jump, err := y.Yield(index)
			if err != nil {
				return struct{}{}, err
			}
			index += max(jump, 1)
		}
		return struct{}{}, nil
	})
	fmt.Println(g.Next())
	fmt.Println(g.Send(2))
	fmt.Println(g.Next())
	// Output:
	// 0 <nil>
	// 2 <nil>
	// 3 <nil>
}
