package notebook

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/mnistfc"
)

func TestRunsDir(t *testing.T) {
	t.Setenv(RunsEnv, "")
	t.Setenv("GONB_DIR", "/nb")
	if got := RunsDir(); got != "/nb/.runs" {
		t.Errorf("in a notebook: RunsDir() = %q", got)
	}
	t.Setenv(RunsEnv, "/elsewhere")
	if got := RunsDir(); got != "/elsewhere" {
		t.Errorf("$%s set: RunsDir() = %q", RunsEnv, got)
	}
}

// A run is kept by its settings and network: the same ones give it back
// without training, an edited network trains again.
func TestRunsAreKept(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	dir := t.TempDir()
	t.Setenv(RunsEnv, dir)
	cfg := mnistfc.DefaultConfig()
	cfg.HiddenDim, cfg.Epochs, cfg.Backend = 8, 1, "go"
	net := mnistfc.FullyConnected(cfg.HiddenDim)
	if _, ok := Kept(cfg, net); ok {
		t.Fatal("Kept before any run")
	}
	first := Run("first", cfg, net)
	kept, ok := Kept(cfg, net)
	if !ok {
		t.Fatal("the run was not kept")
	}
	if !reflect.DeepEqual(kept.History, first.History) || kept.TestAccuracy != first.TestAccuracy || !reflect.DeepEqual(kept.Best, first.Best) ||
		!reflect.DeepEqual(kept.TestPredictions, first.TestPredictions) {
		t.Error("the kept run differs from the run")
	}
	if again := Run("again, another name", cfg, net); !reflect.DeepEqual(again.History, first.History) || again.TrainSeconds != first.TrainSeconds {
		t.Error("the same settings trained again")
	}

	// The same network with ReLU instead of sigmoid.
	relu := net
	relu.Logits = func(scope *model.Scope, x *graph.Node) *graph.Node {
		h := mnistfc.Linear(scope.In("fc1"), x, cfg.HiddenDim)
		return mnistfc.Linear(scope.In("fc2"), graph.Max(h, graph.ZerosLike(h)), mnistfc.NumClasses)
	}
	if _, ok := Kept(cfg, relu); ok {
		t.Fatal("an edited network finds the old run")
	}
	Run("relu", cfg, relu)
	files, _ := filepath.Glob(filepath.Join(dir, "*.gob"))
	if len(files) != 2 {
		t.Errorf("%d kept runs, want 2: %v", len(files), files)
	}

	// A file that does not read back is ignored, not trusted.
	for _, f := range files {
		if err := os.WriteFile(f, []byte("not a run"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := Kept(cfg, net); ok {
		t.Error("a damaged file was taken for a run")
	}
}
