package notebook

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// A sweep run by the command line, as two shards merged the way a cluster
// job does, is a runs folder: a notebook with it as RunsDir shows every
// run without training any, with the numbers of results.json.
func TestCommandLineSweepOpensInNotebook(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	tmp := t.TempDir()
	cli := filepath.Join(tmp, "mnistfc")
	if out, err := exec.Command("go", "build", "-o", cli, "../cmd/mnistfc").CombinedOutput(); err != nil {
		t.Fatalf("building the command line: %v\n%s", err, out)
	}
	// The command line on this process's kernels: a key hashes what the
	// network computes, so both sides must multiply matrices alike (make
	// lab and scripts/run-notebooks.py give the notebooks the command
	// line's pick).
	env := append(os.Environ(), backends.KernelChosenEnv+"=the test's own kernels")
	command := func(args ...string) *exec.Cmd {
		c := exec.Command(cli, args...)
		c.Env = env
		return c
	}
	args := []string{"sweep", "-hiddens", "4,6", "-lrs", "0.1", "-seeds", "2", "-epochs", "1", "-backend", "go", "-parallel", "1"}
	for _, s := range []string{"1/2", "2/2"} {
		dir := filepath.Join(tmp, "shard"+s[:1])
		if out, err := command(append(args, "-shard", s, "-out", dir)...).CombinedOutput(); err != nil {
			t.Fatalf("shard %s: %v\n%s", s, err, out)
		}
	}
	runs := filepath.Join(tmp, "runs")
	if out, err := command("merge", "-out", runs, filepath.Join(tmp, "shard1"), filepath.Join(tmp, "shard2")).CombinedOutput(); err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	var file struct{ Runs []mnistfc.RunSummary }
	b, _ := os.ReadFile(filepath.Join(runs, "results.json"))
	if err := json.Unmarshal(b, &file); err != nil || len(file.Runs) != 4 {
		t.Fatalf("results.json: %v, %d runs", err, len(file.Runs))
	}

	t.Setenv(RunsEnv, runs)
	base := mnistfc.DefaultConfig()
	base.Epochs, base.Backend = 1, "go"
	cfgs := mnistfc.Configs(base, mnistfc.Grid([]int{4, 6}, []float64{0.1}), 2)
	var results []*mnistfc.Result
	out, _ := output(t, func() bool { results = Sweep("grid", cfgs); return true })
	if !strings.Contains(out, "grid: 4 runs, 4 kept from earlier, 0 to train") || strings.Contains(out, "trained") {
		t.Errorf("the notebook trained runs of the command line's sweep:\n%s", out)
	}
	for i, r := range results {
		if got, want := r.Summary(), file.Runs[i]; got.TestAccuracy != want.TestAccuracy || got.Seed != want.Seed || got.Hidden != want.Hidden {
			t.Errorf("run %d: notebook %+v, results.json %+v", i+1, got, want)
		}
		if len(r.History.TrainLosses) != 1 {
			t.Errorf("run %d: history %v, want the epoch the command line trained", i+1, r.History)
		}
	}
	// A lone Run of the seed-0 configuration (the sweep's split) finds it too.
	clear(shown)
	out, _ = output(t, func() bool { Run("alone", cfgs[0], mnistfc.FullyConnected(4)); return true })
	if !strings.Contains(out, "kept from the run of") {
		t.Errorf("Run of the sweep's first configuration trained:\n%s", out)
	}
}
