package notebook

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

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

// pruneRuns deletes the runs used longest ago until the rest fit, and
// never the newest one.
func TestPruneRuns(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		sizes []int // Of runs a, b, c, ..., used in that order.
		limit int64
		want  string // The runs left.
	}{
		{"under the limit", []int{10, 10, 10}, 30, "abc"},
		{"one over", []int{10, 10, 10}, 29, "bc"},
		{"oldest first", []int{5, 30, 10}, 40, "bc"},
		{"down to the limit", []int{10, 10, 10, 10}, 15, "d"},
		{"the newest stays", []int{10, 50}, 20, "b"},
		{"none", nil, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(RunsEnv, dir)
			for i, size := range tt.sizes {
				f := filepath.Join(dir, string(rune('a'+i))+".gob")
				if err := os.WriteFile(f, make([]byte, size), 0o644); err != nil {
					t.Fatal(err)
				}
				used := t0.Add(time.Duration(i) * time.Hour)
				if err := os.Chtimes(f, used, used); err != nil {
					t.Fatal(err)
				}
			}
			out, _ := output(t, func() bool { pruneRuns(tt.limit); return true })
			files, _ := filepath.Glob(filepath.Join(dir, "*.gob"))
			var left string
			for _, f := range files {
				left += strings.TrimSuffix(filepath.Base(f), ".gob")
			}
			if left != tt.want {
				t.Errorf("runs left: %q, want %q", left, tt.want)
			}
			if deleted := len(tt.sizes) - len(left); deleted > 0 && !strings.Contains(out, "deleted the ") {
				t.Errorf("deleted %d runs without saying so: %q", deleted, out)
			}
		})
	}
}

// Loading a kept run marks it used, so that pruning keeps it longer.
func TestLoadRunMarksUsed(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(RunsEnv, dir)
	if _, err := saveRun("old", "old", &mnistfc.Result{}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(runPath("old"), past, past); err != nil {
		t.Fatal(err)
	}
	if _, ok := loadRun("old"); !ok {
		t.Fatal("the run does not read back")
	}
	info, err := os.Stat(runPath("old"))
	if err != nil {
		t.Fatal(err)
	}
	if !info.ModTime().After(past.Add(time.Minute)) {
		t.Errorf("loading left the run's time at %v", info.ModTime())
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
