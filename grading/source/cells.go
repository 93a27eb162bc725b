// Package source reads the Go code of a submission's notebook cells for
// the grader, without running any of it: it keeps each cell's declarations
// (GoNB's rule: a later declaration of a name replaces an earlier one),
// refuses magics, shell lines and imports outside an allowlist, finds the
// exercises' functions by their types, finds shortcuts (a path from an
// exercise to the library's own version of it) in type-checked SSA form,
// and writes the program that calls grading.Observe on them.
//
//	prog, err := source.Build(cells, "/path/to/repository", dir)
//	// prog.Refused, prog.Dropped, prog.Shortcuts, prog.Functions; dir holds the program.
package source

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A Cell is one code cell of a submission.
type Cell struct {
	ID     string `json:"id"`
	Source string `json:"source"`
}

// A Refusal is a line of a cell that the grader does not run.
type Refusal struct {
	Cell string `json:"cell"`
	Line int    `json:"line"` // 1-based, within the cell; 0 for the whole cell.
	Text string `json:"text"`
	Why  string `json:"why"`
}

// AllowedMagics are the GoNB magics a student's cell may use: the start of
// a cell's program.
var AllowedMagics = []string{"%%", "%main"}

// AllowedImports are the packages a student's code may import: what the
// exercises and the notebook's questions need. A path ending in "/..."
// allows the packages under it.
var AllowedImports = []string{
	"fmt", "math", "math/bits", "math/rand/v2", "strings", "strconv", "sort", "slices", "maps", "cmp", "errors",
	"github.com/gomlx/gomlx/core/...", "github.com/gomlx/gomlx/ml/...",
	"github.com/gomlx/compute/dtypes", "github.com/gomlx/compute/shapes",
	"github.com/mnistfc/mnistfc/mnistfc", "github.com/mnistfc/mnistfc/notebook", "github.com/mnistfc/mnistfc/plotting",
}

// Allowed reports whether a student's code may import path.
func Allowed(path string) bool {
	return slices.ContainsFunc(AllowedImports, func(a string) bool {
		if prefix, ok := strings.CutSuffix(a, "/..."); ok {
			return path == prefix || strings.HasPrefix(path, prefix+"/")
		}
		return path == a
	})
}

// decl is a top-level declaration of a cell, printed on its own.
type decl struct {
	key  string // Its name; "Type.Method" for a method; "" for an import.
	cell string
	text string
	uses []string // Package names it selects from (x in x.Y).
}

// declarations are the merged declarations of the submission's cells.
type declarations struct {
	imports map[string]string // name in the cells -> import path
	order   []string
	decls   map[string]decl
	dropped []Refusal
}

// importLine finds import paths in a cell's text, for the cells that do not
// parse.
var importLine = regexp.MustCompile(`"([\w./-]+)"`)

// read merges the declarations of cells.
func read(cells []Cell) *declarations {
	d := &declarations{imports: map[string]string{}, decls: map[string]decl{}}
	for _, c := range cells {
		code := d.declarationPart(c)
		if strings.TrimSpace(code) == "" {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "cell.go", "package main\n"+code, parser.SkipObjectResolution)
		if err != nil {
			d.dropped = append(d.dropped, Refusal{Cell: c.ID, Why: "does not parse: " + firstLine(err.Error())})
			continue
		}
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			if !Allowed(path) {
				continue // RefusedLines names it.
			}
			name := packageName(path)
			if spec.Name != nil {
				name = spec.Name.Name
			}
			d.imports[name] = path
		}
		for _, node := range f.Decls {
			if g, ok := node.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
				continue
			}
			for _, key := range keys(node) {
				if key == "main" || key == "init" || key == "_" {
					continue
				}
				var b strings.Builder
				if err := format.Node(&b, fset, node); err != nil {
					continue
				}
				if _, seen := d.decls[key]; !seen {
					d.order = append(d.order, key)
				}
				d.decls[key] = decl{key: key, cell: c.ID, text: b.String(), uses: selected(node)}
			}
		}
	}
	return d
}

// declarationPart returns the lines of cell c before its program (%% or
// %main), with magics and shell lines blanked (RefusedLines names them).
func (d *declarations) declarationPart(c Cell) string {
	var out []string
	for _, line := range strings.Split(c.Source, "\n") {
		t := strings.TrimSpace(line)
		if slices.Contains(AllowedMagics, strings.Fields(t + " x")[0]) {
			break
		}
		if strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
			line = ""
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// RefusedLines returns the refused lines of a cell's whole text (magics,
// shell lines, imports outside the allowlist), for the cells the notebook
// run skips.
func RefusedLines(c Cell) []Refusal {
	var refused []Refusal
	lines := strings.Split(c.Source, "\n")
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "%") && !slices.Contains(AllowedMagics, strings.Fields(t)[0]) {
			refused = append(refused, Refusal{Cell: c.ID, Line: i + 1, Text: t, Why: "magic not allowed"})
		} else if strings.HasPrefix(t, "!") {
			refused = append(refused, Refusal{Cell: c.ID, Line: i + 1, Text: t, Why: "shell line not allowed"})
		}
	}
	// Imports: of the declarations and of the program part alike.
	code := strings.Join(slices.DeleteFunc(slices.Clone(lines), func(l string) bool {
		t := strings.TrimSpace(l)
		return strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!")
	}), "\n")
	fset := token.NewFileSet()
	if f, err := parser.ParseFile(fset, "cell.go", "package main\n"+code, parser.ImportsOnly); err == nil {
		for _, spec := range f.Imports {
			if path, _ := strconv.Unquote(spec.Path.Value); !Allowed(path) {
				refused = append(refused, Refusal{Cell: c.ID, Line: fset.Position(spec.Pos()).Line - 1, Text: spec.Path.Value,
					Why: "import of " + path + " is not allowed"})
			}
		}
	}
	return refused
}

// keys returns the names a top-level declaration declares.
func keys(node ast.Decl) []string {
	switch n := node.(type) {
	case *ast.FuncDecl:
		if n.Recv != nil && len(n.Recv.List) == 1 {
			return []string{receiverName(n.Recv.List[0].Type) + "." + n.Name.Name}
		}
		return []string{n.Name.Name}
	case *ast.GenDecl:
		var names []string
		for _, spec := range n.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				names = append(names, s.Name.Name)
			case *ast.ValueSpec:
				for _, id := range s.Names {
					names = append(names, id.Name)
				}
			}
		}
		if len(names) > 1 {
			// A block declares its names together: one key for all.
			return []string{strings.Join(names, ",")}
		}
		return names
	}
	return nil
}

func receiverName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return receiverName(t.X)
	case *ast.IndexExpr:
		return receiverName(t.X)
	case *ast.IndexListExpr:
		return receiverName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return fmt.Sprintf("%T", e)
}

// selected returns the identifiers x of the selector expressions x.Y in
// node: the package names it may use.
func selected(node ast.Node) []string {
	seen := map[string]bool{}
	ast.Inspect(node, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok {
				seen[id.Name] = true
			}
		}
		return true
	})
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
