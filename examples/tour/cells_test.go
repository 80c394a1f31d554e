package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The lecture's cells and their Go counterparts in main.go, marked there with
// "// cell <id>" and "// end cell <id>". Python counts are the cell's lines
// that are neither blank nor comments.
var cells = []struct {
	id     string
	in     string // the lecture's cells (In [n], counting from the top)
	python int
}{
	{"eager_range", "3", 7},
	{"lazy_range", "5", 5},
	{"jumping_range", "6", 7},
	{"next-send", "7, 8", 5},
	{"bottom", "9", 4},
	{"top", "10", 4},
	{"yield-from", "11, 12, 13", 7},
	{"countdown", "15, 20", 8},
	{"compute", "21", 4},
	{"print_sum", "30, 31", 5},
	{"sleep", "32, 33", 15},
	{"hello", "34, 35", 5},
	{"say_after", "36", 4},
	{"awaited-in-turn", "38", 4},
	{"create_task", "39", 6},
	{"factorial", "40", 8},
	{"gather", "41", 5},
	{"taskgroup", "42", 6},
	{"eternity", "43, 44", 7},
	{"another_eternity", "45, 46", 13},
	{"shield", "47, 48", 10},
	{"as_completed", "49, 50", 10},
	{"lock", "51", 2},
	{"aiohttp", "53", 4},
	{"ticker", "57", 4},
	{"async-for", "58", 2},
	{"aiter-anext", "59–62", 5},
	{"motor", "64, 65, 66", 4},
	{"blocking_io", "67", 4},
	{"to_thread", "70", 22},
}

var updateCells = flag.Bool("update-cells", false, "rewrite the table in README.md")

// goLines counts a cell's Go lines as the Python cell's are counted, leaving
// out what Go writes out that Python does implicitly: blank lines, comments,
// lines of closing brackets only, error handling ("if err != nil {", the
// returns of an error or of nil alone), the release of what a with block
// releases (defer x.Unlock(), x.Close(), stop()), and the line that returns a
// generator's or a coroutine's function (Python makes those objects when the
// function is called).
var (
	closers   = regexp.MustCompile(`^[})\]]+[,;)]*(\(\))?$`)
	errReturn = regexp.MustCompile(`^return ((0|""|nil|false|[\w\[\]]*\{\}), )?err$|^return (nil|struct\{\}\{\}, nil)$`)
	release   = regexp.MustCompile(`^defer [\w.]+\.(Unlock|Close|Disconnect)\(.*\)$|^defer stop\(\)$`)
	returnFn  = regexp.MustCompile(`^return ([\w.]+(\[.*\])?\()?func\(`)
)

func goLines(lines []string) int {
	n := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, " // "); i >= 0 {
			l = l[:i]
		}
		switch {
		case l == "", strings.HasPrefix(l, "//"), closers.MatchString(l), l == "if err != nil {",
			errReturn.MatchString(l), release.MatchString(l), returnFn.MatchString(l):
		default:
			n++
		}
	}
	return n
}

// TestCellLengths: each of the lecture's cells in the tour is no longer than
// the Python cell, Go's error handling aside; the table in README.md lists
// both.
func TestCellLengths(t *testing.T) {
	f, err := os.Open("main.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marked := map[string][]string{}
	var open string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch tl := strings.TrimSpace(l); {
		case strings.HasPrefix(tl, "// cell "):
			open = strings.Fields(tl)[2]
			marked[open] = []string{}
		case strings.HasPrefix(tl, "// end cell "):
			open = ""
		case open != "":
			marked[open] = append(marked[open], l)
		}
	}
	var table strings.Builder
	table.WriteString("| lecture cell | In [n] | Python lines | Go lines |\n|---|---|---|---|\n")
	for _, c := range cells {
		lines, ok := marked[c.id]
		if !ok {
			t.Errorf("cell %s: not marked in main.go", c.id)
			continue
		}
		n := goLines(lines)
		if n > c.python {
			t.Errorf("cell %s: %d Go lines, %d in Python", c.id, n, c.python)
		}
		fmt.Fprintf(&table, "| `%s` | %s | %d | %d |\n", c.id, c.in, c.python, n)
	}
	const begin, end = "<!-- cells -->\n", "<!-- end cells -->\n"
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(readme), begin), strings.Index(string(readme), end)
	if i < 0 || j < i {
		t.Fatal("README.md has no cells table")
	}
	want := string(readme[:i+len(begin)]) + table.String() + string(readme[j:])
	if *updateCells {
		os.WriteFile("README.md", []byte(want), 0o644)
	} else if string(readme) != want {
		t.Errorf("README.md's table is out of date (go test -update-cells):\n%s", table.String())
	}
}
