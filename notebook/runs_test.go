package notebook

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
	// A later cell (a new program: nothing shown yet) loads it and says so,
	// once, however often it asks.
	clear(shown)
	out, _ := output(t, func() bool {
		if again := Run("again, another name", cfg, net); !reflect.DeepEqual(again.History, first.History) || again.TrainSeconds != first.TrainSeconds {
			t.Error("the same settings trained again")
		}
		Run("again, another name", cfg, net)
		return true
	})
	if n := strings.Count(out, "kept from the run of"); n != 1 {
		t.Errorf("two Runs of a kept run in one cell said %d times that it is kept, want once:\n%s", n, out)
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

// Sweep keeps every run as Run would, and a lone Run of a configuration with
// the grid's split finds it (the same numbers).
func TestSweepKeepsRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	dir := t.TempDir()
	t.Setenv(RunsEnv, dir)
	base := mnistfc.DefaultConfig()
	base.Epochs, base.Backend = 1, "go"
	cfgs := mnistfc.Configs(base, mnistfc.Grid([]int{4, 6}, []float64{0.1}), 2)
	first := Sweep("grid", cfgs)
	files, _ := filepath.Glob(filepath.Join(dir, "*.gob"))
	if len(files) != len(cfgs) {
		t.Fatalf("%d runs kept, want %d", len(files), len(cfgs))
	}
	again := Sweep("grid", cfgs)
	for i := range cfgs {
		if again[i].TrainSeconds != first[i].TrainSeconds || !reflect.DeepEqual(again[i].History, first[i].History) {
			t.Errorf("run %d trained again", i)
		}
	}
	// The grid splits the data with seed 0: a lone Run of seed 0 is its run,
	// one of seed 1 (its own split) is not.
	if res, ok := Kept(cfgs[0], mnistfc.FullyConnected(cfgs[0].HiddenDim)); !ok || !reflect.DeepEqual(res.History, first[0].History) {
		t.Error("the grid's seed-0 run is not found by Kept")
	}
	if _, ok := Kept(cfgs[1], mnistfc.FullyConnected(cfgs[1].HiddenDim)); ok {
		t.Error("the grid's seed-1 run (split with seed 0) stands in for a seed-1 run")
	}
	t.Setenv(RunsEnv, t.TempDir())
	alone := Run("alone", cfgs[0], mnistfc.FullyConnected(cfgs[0].HiddenDim))
	if !reflect.DeepEqual(alone.History, first[0].History) || alone.TestAccuracy != first[0].TestAccuracy {
		t.Errorf("seed 0 alone: %v, test %v; in the sweep: %v, test %v", alone.History, alone.TestAccuracy, first[0].History, first[0].TestAccuracy)
	}
}

func TestRunsLimit(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want int64
	}{
		{"", defaultRunsLimitMB << 20},
		{"100", 100 << 20},
		{" 7 ", 7 << 20},
		{"0", defaultRunsLimitMB << 20},
		{"-5", defaultRunsLimitMB << 20},
		{"2GB", defaultRunsLimitMB << 20},
	} {
		t.Setenv(RunsLimitEnv, tt.env)
		if got := runsLimit(); got != tt.want {
			t.Errorf("$%s=%q: runsLimit() = %d, want %d", RunsLimitEnv, tt.env, got, tt.want)
		}
	}
}
