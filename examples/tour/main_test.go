package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// timings matches the one line whose figures come from the wall clock.
var timings = regexp.MustCompile(`took [0-9.]+ blocking calls, parallel [0-9.]+`)

var update = flag.Bool("update", false, "rewrite testdata/tour.golden")

// TestTour runs every chapter on the virtual clock and compares the output,
// timings included, with testdata/tour.golden.
func TestTour(t *testing.T) {
	var buf bytes.Buffer
	out = &buf
	blockFor = 20 * time.Millisecond
	svgPath = filepath.Join(t.TempDir(), "timeline.svg")
	defer func(p string) { out, blockFor, svgPath = os.Stdout, time.Second, p }(svgPath)
	if err := tour("", false); err != nil {
		t.Fatal(err)
	}
	got := timings.ReplaceAll(buf.Bytes(), []byte("took N blocking calls, parallel N"))
	buf.Reset()
	buf.Write(got)
	if *update {
		os.WriteFile("testdata/tour.golden", buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile("testdata/tour.golden")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("tour output differs from testdata/tour.golden:\n%s", buf.String())
	}
}

func TestTourUnknownChapter(t *testing.T) {
	if err := tour("no-such-chapter", false); err == nil {
		t.Fatal("no error for an unknown chapter")
	}
}
