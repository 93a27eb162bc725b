package source

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository, whose packages the programs build against.
var root, _ = filepath.Abs("../..")

// solutionCells returns the code cells of the solution notebook but its
// first (the set-up, which the grader owns).
func solutionCells(t *testing.T) []Cell {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "notebooks", "mnist_fc.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			ID       string `json:"id"`
			CellType string `json:"cell_type"`
			Source   any    `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(raw, &nb); err != nil {
		t.Fatal(err)
	}
	var cells []Cell
	for _, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		src := ""
		switch s := c.Source.(type) {
		case string:
			src = s
		case []any:
			for _, l := range s {
				src += l.(string)
			}
		}
		cells = append(cells, Cell{ID: c.ID, Source: src})
	}
	return cells[1:]
}

func build(t *testing.T, cells []Cell) *Program {
	t.Helper()
	p, err := Build(cells, root, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSolution(t *testing.T) {
	p := build(t, solutionCells(t))
	for fn, why := range p.Functions {
		if why != "" {
			t.Errorf("%s: %s", fn, why)
		}
	}
	if len(p.Shortcuts) > 0 || len(p.Refused) > 0 || len(p.Dropped) > 0 {
		t.Errorf("the solution has shortcuts %v, refused %v, dropped %v", p.Shortcuts, p.Refused, p.Dropped)
	}
	main, err := os.ReadFile(filepath.Join(p.Dir, "main.go"))
	if err != nil || !strings.Contains(string(main), "Sigmoid: sigmoid, Softmax: softmax") {
		t.Errorf("main.go does not pass the exercises: %s %v", main, err)
	}
}

const imports = `import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/mnistfc/mnistfc/mnistfc"
)`

const good = `func sigmoid(x *graph.Node) *graph.Node { return graph.Inverse(graph.OnePlus(graph.Exp(graph.Neg(x)))) }`

// TestShortcuts: every way of reaching a forbidden function from an
// exercise is found, and the honest code beside it is not flagged.
func TestShortcuts(t *testing.T) {
	cases := []struct{ name, code, want string }{
		{"direct call", `func sigmoid(x *graph.Node) *graph.Node { return mnistfc.Sigmoid(x) }`, "mnistfc.Sigmoid"},
		{"GoMLX's own", `func sigmoid(x *graph.Node) *graph.Node { return graph.Logistic(x) }`, "graph.Logistic"},
		{"import alias", `import lib "github.com/mnistfc/mnistfc/mnistfc"
func sigmoid(x *graph.Node) *graph.Node { return lib.Sigmoid(x) }
func forward(scope *model.Scope, x *graph.Node, hidden int) *graph.Node { return mnistfc.Linear(scope, x, hidden) }`, "mnistfc.Sigmoid"},
		{"helper", `func helper(x *graph.Node) *graph.Node { return mnistfc.Sigmoid(x) }
func sigmoid(x *graph.Node) *graph.Node { return helper(x) }`, "helper → mnistfc.Sigmoid"},
		{"package variable", `var f = mnistfc.Sigmoid
func sigmoid(x *graph.Node) *graph.Node { return f(x) }`, "mnistfc.Sigmoid"},
		{"variable set in a function", `var f func(*graph.Node) *graph.Node
func setUp() { f = graph.Sigmoid }
func sigmoid(x *graph.Node) *graph.Node { return f(x) }`, "graph.Sigmoid"},
		{"map of functions", `var table = map[string]func(*graph.Node) *graph.Node{"s": mnistfc.Sigmoid}
func sigmoid(x *graph.Node) *graph.Node { return table["s"](x) }`, "mnistfc.Sigmoid"},
		{"closure", `func sigmoid(x *graph.Node) *graph.Node { g := func(y *graph.Node) *graph.Node { return mnistfc.Sigmoid(y) }; return g(x) }`, "mnistfc.Sigmoid"},
		{"method value", `type act struct{}
func (act) apply(x *graph.Node) *graph.Node { return mnistfc.Sigmoid(x) }
func sigmoid(x *graph.Node) *graph.Node { f := act{}.apply; return f(x) }`, "mnistfc.Sigmoid"},
		{"interface method", `type applier interface{ apply(*graph.Node) *graph.Node }
type act struct{}
func (act) apply(x *graph.Node) *graph.Node { return mnistfc.Sigmoid(x) }
func sigmoid(x *graph.Node) *graph.Node { var a applier = act{}; return a.apply(x) }`, "mnistfc.Sigmoid"},
		{"generic helper", `func call[F func(*graph.Node) *graph.Node](f F, x *graph.Node) *graph.Node { return f(x) }
func sigmoid(x *graph.Node) *graph.Node { return call(mnistfc.Sigmoid, x) }`, "mnistfc.Sigmoid"},
		{"struct field", `type holder struct{ f func(*graph.Node) *graph.Node }
func sigmoid(x *graph.Node) *graph.Node { h := holder{f: mnistfc.Softmax0}; return h.f(x) }
var mnistfcSoftmax0 = 0`, ""},
		{"the library's network", `func forward(scope *model.Scope, x *graph.Node, hidden int) *graph.Node { return mnistfc.FullyConnected(hidden).Logits(scope, x) }`, "mnistfc.FullyConnected"},
		{"another exercise's shortcut", `func sigmoid(x *graph.Node) *graph.Node { return mnistfc.Sigmoid(x) }
func forward(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
	return mnistfc.Linear(scope.In("fc2"), sigmoid(mnistfc.Linear(scope.In("fc1"), x, hidden)), mnistfc.NumClasses)
}`, ""},
		{"honest, beside a shortcut elsewhere", good + `
func unused(x *graph.Node) *graph.Node { return mnistfc.Sigmoid(x) }`, ""},
		{"comments and strings", good + `
// mnistfc.Sigmoid(x)
var s = "graph.Sigmoid(x)"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := strings.ReplaceAll(c.code, "mnistfc.Softmax0", "func(x *graph.Node) *graph.Node { return mnistfc.Softmax(x, mnistfc.SoftmaxRow) }")
			p := build(t, []Cell{{ID: "imports", Source: imports}, {ID: "code", Source: code}})
			fn := "sigmoid"
			if strings.Contains(code, "func forward") && !strings.Contains(code, "lib.Sigmoid") {
				fn = "forward"
			}
			if why := p.Functions[fn]; why != "" {
				t.Fatalf("%s: %s (dropped %v)", fn, why, p.Dropped)
			}
			got := p.Shortcuts[fn]
			switch {
			case c.want == "" && c.name == "struct field":
				if !strings.Contains(got, "mnistfc.Softmax") {
					t.Errorf("shortcut %q, want mnistfc.Softmax", got)
				}
			case c.want == "" && got != "":
				t.Errorf("shortcut %q on honest code", got)
			case !strings.Contains(got, c.want):
				t.Errorf("shortcut %q, want %q", got, c.want)
			}
		})
	}
}

// TestRefusals: magics, shell lines and imports outside the allowlist are
// refused and named; code that uses them, or does not compile, is dropped
// with the reason, and the rest still builds.
func TestRefusals(t *testing.T) {
	p := build(t, []Cell{
		{ID: "imports", Source: imports},
		{ID: "shell", Source: "!cat /etc/passwd\n%env X=1\n" + good},
		{ID: "os", Source: "import \"os\"\n\nfunc softmax(x *graph.Node) *graph.Node { os.Exit(0); return x }"},
		{ID: "broken", Source: "func accuracy(y, t *graph.Node) *graph.Node { return undefinedThing(y) }"},
		{ID: "typed", Source: "func crossEntropy(y *graph.Node) *graph.Node { return y }"},
		{ID: "unsafe", Source: "import \"unsafe\"\nvar size = unsafe.Sizeof(0)"},
		{ID: "main", Source: "%%\nfmt.Println(\"✓ sigmoid: ok\")"},
	})
	var refused []string
	for _, r := range p.Refused {
		refused = append(refused, r.Cell+": "+r.Why)
	}
	for _, want := range []string{"shell: shell line not allowed", "shell: magic not allowed", "os: import of os is not allowed", "unsafe: import of unsafe is not allowed"} {
		if !strings.Contains(strings.Join(refused, "\n"), want) {
			t.Errorf("refused %q, want %q", refused, want)
		}
	}
	for fn, want := range map[string]string{"sigmoid": "", "softmax": "undefined: os", "accuracy": "undefined: undefinedThing", "crossEntropy": "has type func(*github.com/gomlx/gomlx/core/graph.Node)"} {
		if got := p.Functions[fn]; (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", fn, got, want)
		}
	}
	if rs := RefusedLines(Cell{ID: "x", Source: "import \"os/exec\"\n%%\n!ls\nfmt.Println(1)"}); len(rs) != 2 {
		t.Errorf("RefusedLines: %v, want the shell line and the import", rs)
	}
}

// TestHidden: a teacher's hidden checks are called when they compile with
// the submission's code, and named with the reason when they do not.
func TestHidden(t *testing.T) {
	hidden := t.TempDir()
	check := `package main

import "github.com/gomlx/gomlx/core/graph"

// HiddenSigmoidAtZero is σ(0), computed by the submission's sigmoid.
func HiddenSigmoidAtZero(seed uint64) []float64 {
	_ = graph.Sigmoid
	return nil
}

func HiddenSoftmax(seed uint64) []float64 { _ = softmax; return nil }
`
	if err := os.WriteFile(filepath.Join(hidden, "checks.go"), []byte(check), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Build(solutionCells(t), root, t.TempDir(), hidden)
	if err != nil {
		t.Fatal(err)
	}
	if p.Hidden["HiddenSigmoidAtZero"] != "" || p.Hidden["HiddenSoftmax"] != "" || len(p.Hidden) != 2 {
		t.Errorf("hidden checks on the solution: %v", p.Hidden)
	}
	if u := p.HiddenUses["HiddenSoftmax"]; len(u) != 1 || u[0] != "softmax" {
		t.Errorf("HiddenSoftmax uses %v, want [softmax]", u)
	}
	main, _ := os.ReadFile(filepath.Join(p.Dir, "main.go"))
	if !strings.Contains(string(main), `"HiddenSoftmax": HiddenSoftmax`) {
		t.Errorf("main.go does not call the hidden checks:\n%s", main)
	}
	p, err = Build([]Cell{{ID: "imports", Source: imports}, {ID: "code", Source: good}}, root, t.TempDir(), hidden)
	if err != nil {
		t.Fatal(err)
	}
	if why := p.Hidden["HiddenSoftmax"]; !strings.Contains(why, "undefined: softmax") {
		t.Errorf("a hidden check without its function: %q", why)
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "hidden_checks.go")); !os.IsNotExist(err) {
		t.Errorf("the hidden checks that do not compile stay in the program: %v", err)
	}
}
