package mnistfc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Fingerprint changes with what a run computes and with its settings, and
// with nothing else.
func TestFingerprint(t *testing.T) {
	base := DefaultConfig()
	base.HiddenDim, base.Epochs, base.Backend = 10, 2, "go"
	relu := FullyConnected(10)
	relu.Logits = func(scope *model.Scope, x *graph.Node) *graph.Node {
		h := Linear(scope.In("fc1"), x, 10)
		return Linear(scope.In("fc2"), graph.Max(h, graph.ZerosLike(h)), NumClasses)
	}
	sigmoid := relu
	sigmoid.Logits = func(scope *model.Scope, x *graph.Node) *graph.Node {
		return Linear(scope.In("fc2"), Sigmoid(Linear(scope.In("fc1"), x, 10)), NumClasses)
	}
	renamed := sigmoid
	renamed.Name = "another name, the same network"
	squared := sigmoid
	squared.Loss = func(y, t *graph.Node) *graph.Node { return graph.ReduceAllMean(graph.Square(graph.Sub(y, t))) }
	with := func(edit func(*Config)) Config {
		c := base
		edit(&c)
		return c
	}
	want, err := Fingerprint(base, sigmoid)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		net  Network
		same bool
	}{
		{"again", base, sigmoid, true},
		{"another Name", base, renamed, true},
		{"sigmoid edited into a ReLU", base, relu, false},
		{"another loss", base, squared, false},
		{"the library's network (other initial weights)", base, FullyConnected(10), false},
		{"learning rate", with(func(c *Config) { c.LearningRate = 0.01 }), sigmoid, false},
		{"epochs", with(func(c *Config) { c.Epochs = 3 }), sigmoid, false},
		{"seed", with(func(c *Config) { c.Seed = 1 }), sigmoid, false},
		{"softmax", with(func(c *Config) { c.Softmax = SoftmaxBatch }), sigmoid, false},
		{"backend", with(func(c *Config) { c.Backend = "xla:cpu" }), sigmoid, false},
	} {
		got, err := Fingerprint(tc.cfg, tc.net)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (got == want) != tc.same {
			t.Errorf("%s: fingerprint %s, base %s; want same = %v", tc.name, got, want, tc.same)
		}
	}
	if _, err := Fingerprint(with(func(c *Config) { c.Epochs = 0 }), sigmoid); err == nil {
		t.Error("Fingerprint of an invalid configuration: no error")
	}
}

// codeVersion covers every Go file of the package on disk but the tests,
// as the package is compiled (so it changes when one of them does).
func TestCodeVersion(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	var n int
	for _, name := range files { // Sorted, as fs.Glob's.
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
		n++
	}
	if n < 10 {
		t.Fatalf("only %d Go files found", n)
	}
	if want := hex.EncodeToString(h.Sum(nil))[:16]; codeVersion() != want {
		t.Errorf("codeVersion() = %s, want %s, the digest of the package's %d files", codeVersion(), want, n)
	}
}
