package source

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// A Program is a submission's code as the grader builds it.
type Program struct {
	Dir string `json:"dir"` // Where it is written: go.mod, student.go, main.go.
	// Refused are lines not run (magics, shell lines, imports outside
	// AllowedImports); Dropped are declarations left out because they do
	// not parse or compile.
	Refused []Refusal `json:"refused"`
	Dropped []Refusal `json:"dropped"`
	// Functions maps each exercise's function to "" when it is found with
	// the right type, else why not.
	Functions map[string]string `json:"functions"`
	// Shortcuts maps an exercise's function to the forbidden function it
	// reaches, and how.
	Shortcuts map[string]string `json:"shortcuts"`
	// Hidden maps each hidden check of the teacher's (a function
	// HiddenName(seed uint64) []float64) to "" when the program calls it,
	// else why not (it does not compile with the submission's code).
	Hidden map[string]string `json:"hidden,omitempty"`
	// HiddenUses maps each hidden check to the exercises' functions it
	// calls by name: it earns nothing where one of them takes a shortcut.
	HiddenUses map[string][]string `json:"hidden_uses,omitempty"`
}

// Exercise functions and their types (parameter and result types only).
var exerciseTypes = []struct{ Name, Field, Type string }{
	{"sigmoid", "Sigmoid", "func(*github.com/gomlx/gomlx/core/graph.Node) *github.com/gomlx/gomlx/core/graph.Node"},
	{"softmax", "Softmax", "func(*github.com/gomlx/gomlx/core/graph.Node) *github.com/gomlx/gomlx/core/graph.Node"},
	{"crossEntropy", "CrossEntropy", "func(*github.com/gomlx/gomlx/core/graph.Node, *github.com/gomlx/gomlx/core/graph.Node) *github.com/gomlx/gomlx/core/graph.Node"},
	{"accuracy", "Accuracy", "func(*github.com/gomlx/gomlx/core/graph.Node, *github.com/gomlx/gomlx/core/graph.Node) *github.com/gomlx/gomlx/core/graph.Node"},
	{"forward", "Forward", "func(*github.com/gomlx/gomlx/ml/model.Scope, *github.com/gomlx/gomlx/core/graph.Node, int) *github.com/gomlx/gomlx/core/graph.Node"},
	{"network", "Network", "func(int) github.com/mnistfc/mnistfc/mnistfc.Network"},
}

// knownPackages are the import paths of AllowedImports by package name,
// for code that relies on GoNB adding its imports.
var knownPackages = map[string]string{
	"fmt": "fmt", "math": "math", "bits": "math/bits", "rand": "math/rand/v2", "strings": "strings", "strconv": "strconv",
	"sort": "sort", "slices": "slices", "maps": "maps", "cmp": "cmp", "errors": "errors",
	"graph": "github.com/gomlx/gomlx/core/graph", "tensors": "github.com/gomlx/gomlx/core/tensors",
	"model": "github.com/gomlx/gomlx/ml/model", "dtypes": "github.com/gomlx/compute/dtypes", "shapes": "github.com/gomlx/compute/shapes",
	"mnistfc": "github.com/mnistfc/mnistfc/mnistfc", "notebook": "github.com/mnistfc/mnistfc/notebook", "plotting": "github.com/mnistfc/mnistfc/plotting",
}

const modulePath = "github.com/mnistfc/mnistfc"

// Build reads cells, writes the grader's program for them into dir (which
// must exist) against the repository at root, and type-checks it; it runs
// none of the submission's code. A declaration that does not compile is
// dropped, and so is what depends on it, until the rest compiles.
//
// hidden, when not "", is a teacher's folder of Go files (package main)
// whose functions HiddenName(seed uint64) []float64 call the submission's
// functions by their names in the notebook: the program calls them too
// (grading.ObserveHidden), when they compile with the submission's code.
func Build(cells []Cell, root, dir, hidden string) (*Program, error) {
	d := read(cells)
	p := &Program{Dir: dir, Dropped: d.dropped, Functions: map[string]string{}, Shortcuts: map[string]string{}}
	for _, c := range cells {
		p.Refused = append(p.Refused, RefusedLines(c)...)
	}
	if err := writeModule(root, dir); err != nil {
		return nil, err
	}
	var pkg *packages.Package
	for range 50 {
		if err := os.WriteFile(filepath.Join(dir, "student.go"), []byte(d.file()), 0o644); err != nil {
			return nil, err
		}
		var err error
		if pkg, err = load(dir); err != nil {
			return nil, err
		}
		bad := d.failing(pkg)
		if len(bad) == 0 {
			break
		}
		for key, why := range bad {
			p.Dropped = append(p.Dropped, Refusal{Cell: d.decls[key].cell, Text: key, Why: why})
			d.order = slices.DeleteFunc(d.order, func(k string) bool { return k == key })
			delete(d.decls, key)
		}
	}
	var fields []string
	for _, e := range exerciseTypes {
		why := "not declared"
		if _, ok := d.decls[e.Name]; !ok {
			for _, dr := range p.Dropped {
				if dr.Text == e.Name {
					why = dr.Why
				}
			}
		} else if obj, ok := pkg.Types.Scope().Lookup(e.Name).(*types.Func); !ok {
			why = "not a function"
		} else if got := signature(obj.Type()); got != e.Type {
			why = fmt.Sprintf("has type %s, want %s", got, e.Type)
		} else {
			why = ""
			fields = append(fields, fmt.Sprintf("%s: %s", e.Field, e.Name))
		}
		p.Functions[e.Name] = why
	}
	shortcuts, err := findShortcuts(pkg)
	if err != nil {
		return nil, err
	}
	p.Shortcuts = shortcuts
	sort.Slice(p.Dropped, func(i, j int) bool { return p.Dropped[i].Cell < p.Dropped[j].Cell })
	var checks []string
	if hidden != "" {
		if p.Hidden, p.HiddenUses, err = addHidden(hidden, dir); err != nil {
			return nil, err
		}
		for name, why := range p.Hidden {
			if why == "" {
				checks = append(checks, name)
			}
		}
		slices.Sort(checks)
	}
	return p, os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainFile(fields, checks)), 0o644)
}

// hiddenType is the type of a hidden check.
const hiddenType = "func(uint64) []float64"

// addHidden copies the Go files of folder hidden into dir, next to
// student.go, and returns their checks with why each cannot run ("" when
// it can). When they do not compile with the submission's code, none
// stays in dir.
func addHidden(hidden, dir string) (checks map[string]string, uses map[string][]string, err error) {
	files, err := filepath.Glob(filepath.Join(hidden, "*.go"))
	if err != nil {
		return nil, nil, err
	}
	checks, uses = map[string]string{}, map[string][]string{}
	patterns := []string{"./student.go"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, fmt.Errorf("hidden checks: %w", err)
		}
		for _, d := range parsed.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Hidden") {
				checks[fn.Name.Name] = ""
				uses[fn.Name.Name] = exercisesUsed(fn)
			}
		}
		name := "hidden_" + filepath.Base(f)
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			return nil, nil, err
		}
		patterns = append(patterns, "./"+name)
	}
	if len(checks) == 0 {
		return nil, nil, fmt.Errorf("hidden checks: no function HiddenName(seed uint64) []float64 in %s", hidden)
	}
	pkg, err := load(dir, patterns...)
	if err != nil {
		return nil, nil, err
	}
	if len(pkg.Errors) > 0 {
		for _, p := range patterns[1:] {
			os.Remove(filepath.Join(dir, p))
		}
		for name := range checks {
			checks[name] = "does not compile with the submission's code: " + pkg.Errors[0].Msg
		}
		return checks, uses, nil
	}
	for name := range checks {
		if got := signature(pkg.Types.Scope().Lookup(name).Type()); got != hiddenType {
			checks[name] = fmt.Sprintf("has type %s, want %s", got, hiddenType)
		}
	}
	return checks, uses, nil
}

// exercisesUsed returns the exercises' functions that fn names.
func exercisesUsed(fn *ast.FuncDecl) []string {
	var used []string
	ast.Inspect(fn, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && !slices.Contains(used, id.Name) &&
			slices.ContainsFunc(exerciseTypes, func(e struct{ Name, Field, Type string }) bool { return e.Name == id.Name }) {
			used = append(used, id.Name)
		}
		return true
	})
	slices.Sort(used)
	return used
}

// file returns the Go file of the declarations, with the imports they use.
func (d *declarations) file() string {
	declared := map[string]bool{}
	for _, k := range d.order {
		for _, name := range strings.Split(k, ",") {
			declared[name] = true
		}
	}
	imports := map[string]string{}
	for _, k := range d.order {
		for _, name := range d.decls[k].uses {
			if declared[name] {
				continue
			}
			if path, ok := d.importFor(name); ok {
				imports[name] = path
			}
		}
	}
	var b strings.Builder
	b.WriteString("// The declarations of a submission's cells, as the grader compiles them.\n\npackage main\n\n")
	names := make([]string, 0, len(imports))
	for name := range imports {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "import %s %q\n", name, imports[name])
	}
	for _, k := range d.order {
		b.WriteString("\n" + d.decls[k].text + "\n")
	}
	return b.String()
}

// importFor returns the import path of the package a cell names name.
func (d *declarations) importFor(name string) (string, bool) {
	if path, ok := d.imports[name]; ok {
		return path, true
	}
	path, ok := knownPackages[name]
	return path, ok
}

func packageName(path string) string {
	base := path[strings.LastIndex(path, "/")+1:]
	if regexp.MustCompile(`^v\d+$`).MatchString(base) {
		rest := strings.TrimSuffix(path, "/"+base)
		return rest[strings.LastIndex(rest, "/")+1:]
	}
	return base
}

// failing returns the declarations with a compile error, and the error.
func (d *declarations) failing(pkg *packages.Package) map[string]string {
	bad := map[string]string{}
	if len(pkg.Errors) == 0 {
		return bad
	}
	// Which declaration holds each error: by line in student.go.
	src := d.file()
	starts := map[int]string{} // first line of each declaration -> key
	for _, k := range d.order {
		if idx := strings.Index(src, "\n"+d.decls[k].text+"\n"); idx >= 0 {
			starts[strings.Count(src[:idx+1], "\n")+1] = k
		}
	}
	for _, e := range pkg.Errors {
		pos := errPos.FindStringSubmatch(e.Pos)
		at := 0
		if pos != nil {
			fmt.Sscan(pos[1], &at)
		}
		owner := ""
		best := 0
		for start, k := range starts {
			if start <= at && start > best {
				best, owner = start, k
			}
		}
		if owner == "" {
			// An error outside the declarations (an import): drop nothing
			// but report it on the first declaration that uses it.
			continue
		}
		if _, seen := bad[owner]; !seen {
			bad[owner] = "does not compile: " + e.Msg
		}
	}
	if len(bad) == 0 && len(d.order) > 0 {
		bad[d.order[len(d.order)-1]] = "does not compile: " + pkg.Errors[0].Msg
	}
	return bad
}

var errPos = regexp.MustCompile(`student\.go:(\d+)`)

// load type-checks files of the program in dir (default: student.go),
// with its dependencies from export data.
func load(dir string, files ...string) (*packages.Package, error) {
	if len(files) == 0 {
		files = []string{"./student.go"}
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedSyntax | packages.NeedImports | packages.NeedFiles,
		Dir:  dir,
		Env:  append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0"),
		Fset: token.NewFileSet(),
	}
	pkgs, err := packages.Load(cfg, files...)
	if err != nil {
		return nil, fmt.Errorf("type-checking the submission: %w", err)
	}
	if len(pkgs) != 1 {
		return nil, errors.New("type-checking the submission: no package")
	}
	return pkgs[0], nil
}

// signature returns a function type without its parameter names.
func signature(t types.Type) string {
	sig, ok := t.(*types.Signature)
	if !ok {
		return types.TypeString(t, nil)
	}
	list := func(tuple *types.Tuple) string {
		var parts []string
		for v := range tuple.Variables() {
			parts = append(parts, types.TypeString(v.Type(), nil))
		}
		return strings.Join(parts, ", ")
	}
	s := "func(" + list(sig.Params()) + ")"
	switch sig.Results().Len() {
	case 0:
	case 1:
		s += " " + list(sig.Results())
	default:
		s += " (" + list(sig.Results()) + ")"
	}
	return s
}

// writeModule writes dir/go.mod, a module that requires the repository at
// root (and its requirements), and its go.sum.
func writeModule(root, dir string) error {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return err
	}
	text := strings.Replace(string(mod), "module "+modulePath+"\n", "module submission\n", 1)
	text += fmt.Sprintf("\nrequire %s v0.0.0-00010101000000-000000000000\n\nreplace %s => %s\n", modulePath, modulePath, root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(text), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
}

// mainFile is the program's main: grading.Observe on the exercises found,
// then grading.ObserveHidden on the hidden checks, the seed from its
// argument, the observations to file descriptor 3.
func mainFile(fields, hidden []string) string {
	var checks []string
	for _, name := range hidden {
		checks = append(checks, fmt.Sprintf("%q: %s", name, name))
	}
	return `// The grader's program: it calls the submission's exercises on inputs drawn
// from the seed (its argument) and writes what they compute to file
// descriptor 3, which the submission's code cannot reach.

package main

import (
	graderFmt "fmt"
	graderOS "os"
	graderStrconv "strconv"

	graderGrading "github.com/mnistfc/mnistfc/grading"
)

func main() {
	seed, err := graderStrconv.ParseUint(graderOS.Args[1], 10, 64)
	out := graderOS.NewFile(3, "observations")
	if err == nil {
		err = graderGrading.Observe(seed, graderGrading.Exercises{` + strings.Join(fields, ", ") + `}, out)
	}
	if err == nil {
		err = graderGrading.ObserveHidden(seed, map[string]func(uint64) []float64{` + strings.Join(checks, ", ") + `}, out)
	}
	if err != nil {
		graderFmt.Fprintln(graderOS.Stderr, "grader:", err)
		graderOS.Exit(1)
	}
	graderOS.Exit(0)
}
`
}
