package aio_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeNamesHaveExamples: every name in the README's asyncio → aio table
// is used by a runnable Example with checked output, in the package that
// defines it or another: the Examples are the documentation people copy from.
func TestReadmeNamesHaveExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{} // qualified names (aio.Gather) and method names (.Await)
	for _, dir := range []string{".", "aionet", "aiohttp", "aiomongo", "gen", "aiotest", "aiodebug", "aiomongo/embedded"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, name := range files {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || !strings.HasPrefix(fn.Name.Name, "Example") || !hasOutput(f, fn) {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					switch x := n.(type) {
					case *ast.SelectorExpr:
						if id, ok := x.X.(*ast.Ident); ok {
							used[id.Name+"."+x.Sel.Name] = true
						}
						used["."+x.Sel.Name] = true
					case *ast.CompositeLit:
						if s, ok := x.Type.(*ast.SelectorExpr); ok {
							if id, ok := s.X.(*ast.Ident); ok {
								used[id.Name+"."+s.Sel.Name] = true
							}
						}
					}
					return true
				})
			}
		}
	}
	var missing []string
	for _, name := range tableNames(string(readme)) {
		if !used[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d names of the README's asyncio → aio table have no Example with output using them:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

// hasOutput reports whether the Example fn ends with an Output comment.
func hasOutput(f *ast.File, fn *ast.FuncDecl) bool {
	for _, c := range f.Comments {
		if c.Pos() > fn.Body.Lbrace && c.End() <= fn.Body.Rbrace+1 && strings.Contains(strings.ToLower(c.Text()), "output:") {
			return true
		}
	}
	return false
}

var (
	codeSpan  = regexp.MustCompile("`([^`]+)`")
	qualified = regexp.MustCompile(`\b(aio|aionet|aiohttp|aiomongo|gen|embedded)\.([A-Z]\w*)`)
	method    = regexp.MustCompile(`(?:^|[^\w.])(?:\w+\.)?([A-Z]\w*)\(`)
	stdName   = regexp.MustCompile(`\b(tls|iter|errors|context|http|net|time)\.\w+`)
)

// tableNames returns the names in the aio column of the README's table: the
// qualified names (aio.Gather) and the methods (.Await for t.Await(ctx)).
func tableNames(readme string) []string {
	var names []string
	i := strings.Index(readme, "## asyncio → aio")
	if i < 0 {
		return []string{"(no asyncio → aio table)"}
	}
	for _, line := range strings.Split(readme[i:], "\n")[4:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cols := strings.Split(line, " | ")
		if len(cols) < 2 {
			continue
		}
		for _, span := range codeSpan.FindAllStringSubmatch(cols[1], -1) {
			for _, m := range qualified.FindAllStringSubmatch(span[1], -1) {
				names = append(names, m[1]+"."+m[2])
			}
			rest := stdName.ReplaceAllString(qualified.ReplaceAllString(span[1], ""), "")
			for _, m := range method.FindAllStringSubmatch(rest, -1) {
				names = append(names, "."+m[1])
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestExportedNamesDocumented: every exported name of the packages users
// import has a doc comment (methods of unexported types aside).
func TestExportedNamesDocumented(t *testing.T) {
	for _, dir := range []string{".", "aionet", "aiohttp", "aiomongo", "aiomongo/embedded", "gen", "aiotest", "aiodebug"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				switch x := d.(type) {
				case *ast.FuncDecl:
					if x.Name.IsExported() && x.Doc == nil && (x.Recv == nil || exportedRecv(x.Recv.List[0].Type)) {
						t.Errorf("%s: %s has no doc comment", fset.Position(x.Pos()), x.Name.Name)
					}
				case *ast.GenDecl:
					for _, s := range x.Specs {
						switch sp := s.(type) {
						case *ast.TypeSpec:
							if sp.Name.IsExported() && x.Doc == nil && sp.Doc == nil {
								t.Errorf("%s: type %s has no doc comment", fset.Position(sp.Pos()), sp.Name.Name)
							}
						case *ast.ValueSpec:
							for _, n := range sp.Names {
								if n.IsExported() && x.Doc == nil && sp.Doc == nil && sp.Comment == nil {
									t.Errorf("%s: %s has no doc comment", fset.Position(sp.Pos()), n.Name)
								}
							}
						}
					}
				}
			}
		}
	}
}

func exportedRecv(t ast.Expr) bool {
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, ok := t.(*ast.Ident)
	return !ok || id.IsExported()
}
