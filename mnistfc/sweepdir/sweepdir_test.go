package sweepdir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/runstore"
)

// grid returns a small sweep's configurations and manifest.
func grid(t *testing.T) ([]mnistfc.Config, *Manifest) {
	base := mnistfc.DefaultConfig()
	base.Epochs, base.Backend = 1, "go"
	hs, ls := []int{1, 2, 3}, []float64{0.1, 0.01}
	cfgs := mnistfc.Configs(base, mnistfc.Grid(hs, ls), 2)
	m, err := NewManifest([]string{"-backend", "go", "-epochs", "1", "-hiddens", "1,2,3", "-lrs", "0.1,0.01", "-seeds", "2"}, cfgs, hs, ls, 2)
	if err != nil {
		t.Fatal(err)
	}
	return cfgs, m
}

// fake returns a made-up result of cfg: what a folder keeps does not
// depend on how it was trained.
func fake(cfg mnistfc.Config) *mnistfc.Result {
	return &mnistfc.Result{Config: cfg, Network: "fully-connected", Backend: cfg.Backend, BestEpoch: 1, BestValAccuracy: 0.5,
		Tested: true, TestAccuracy: 0.5 + float64(cfg.HiddenDim)/100 + cfg.LearningRate + float64(cfg.Seed)/1000, TestLoss: 1}
}

// shardFolder writes shard k of n of the sweep in a new folder, with the
// runs of it for which keep says so.
func shardFolder(t *testing.T, cfgs []mnistfc.Config, m Manifest, k, n int, keep func(i int) bool) string {
	dir := t.TempDir()
	mine := mnistfc.Shard(cfgs, k, n)
	m.Shard = &Shard{Index: k, Count: n, Runs: []int{}}
	for _, i := range mine {
		m.Shard.Runs = append(m.Shard.Runs, i+1)
	}
	store, err := Open(dir, &m, mine, false, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range mine {
		if keep(i) {
			if err := store.Keep(m.Runs[i].Key, "test", fake(cfgs[i])); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestOpen(t *testing.T) {
	cfgs, m := grid(t)
	all := make([]int, len(cfgs))
	for i := range all {
		all[i] = i
	}
	var log bytes.Buffer
	dir := t.TempDir()
	store, err := Open(dir, m, all, true, &log)
	if err != nil || !strings.Contains(log.String(), "nothing to resume") {
		t.Fatalf("Open -resume of an empty folder: %v, %q", err, log.String())
	}
	if got, err := ReadManifest(dir); err != nil || len(got.Runs) != len(cfgs) || got.Runs[3].Key != m.Runs[3].Key {
		t.Fatalf("manifest read back: %+v, %v", got, err)
	}
	store.Keep(m.Runs[0].Key, "test", fake(cfgs[0]))
	if _, err := Open(dir, m, all, false, &log); err == nil || !strings.Contains(err.Error(), "unfinished sweep (1 of its 12 runs kept)") {
		t.Errorf("Open without -resume over an unfinished sweep: %v", err)
	}
	for i := range cfgs {
		store.Keep(m.Runs[i].Key, "test", fake(cfgs[i]))
	}
	log.Reset()
	if _, err := Open(dir, m, all, false, &log); err != nil || !strings.Contains(log.String(), "training it again in its place") {
		t.Errorf("Open without -resume over a finished sweep: %v, %q", err, log.String())
	}
	// Another sweep resumed in the folder: said, and its runs stay.
	other := *m
	other.Runs = other.Runs[:2]
	log.Reset()
	if _, err := Open(dir, &other, []int{0, 1}, true, &log); err != nil || !strings.Contains(log.String(), "held another sweep") {
		t.Errorf("Open -resume of another sweep: %v, %q", err, log.String())
	}
	// A shard's folder takes no other shard.
	s2 := shardFolder(t, cfgs, *m, 2, 4, func(int) bool { return false })
	s3 := *m
	s3.Shard = &Shard{Index: 3, Count: 4}
	var ue *UsageError
	if _, err := Open(s2, &s3, nil, true, &log); !errors.As(err, &ue) || !strings.Contains(err.Error(), "holds shard 2/4 of a sweep, and this is shard 3/4") {
		t.Errorf("Open of shard 3 in shard 2's folder: %v", err)
	}
}

func TestMerge(t *testing.T) {
	cfgs, m := grid(t)
	everything := func(int) bool { return true }
	shards := []string{
		shardFolder(t, cfgs, *m, 1, 3, everything),
		shardFolder(t, cfgs, *m, 2, 3, func(i int) bool { return i != mnistfc.Shard(cfgs, 2, 3)[0] }), // One run short.
		shardFolder(t, cfgs, *m, 3, 3, everything),
	}
	var log bytes.Buffer
	out := filepath.Join(t.TempDir(), "merged")

	_, err := Merge(shards[:2], out, &log)
	var me *MissingError
	if !errors.As(err, &me) || me.Missing != 5 || me.Total != 12 ||
		!strings.Contains(err.Error(), "of shard 3/3, whose folder was not given") ||
		!strings.Contains(err.Error(), "-shard 3/3 -resume -out DIR") ||
		!strings.Contains(err.Error(), "of shard 2/3 in "+shards[1]+", unfinished") {
		t.Errorf("merge of shards 1 and 2: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a merge with runs missing wrote its -out")
	}

	// Shard 2 finished, then all three merged.
	s2 := *m
	store, _ := runstore.Open(shards[1], runstore.Options{})
	i := mnistfc.Shard(cfgs, 2, 3)[0]
	store.Keep(s2.Runs[i].Key, "test", fake(cfgs[i]))
	merged, err := Merge(append(shards, shards[0]), out, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Runs) != 12 || merged.Folders != 3 || !strings.Contains(log.String(), "given twice") {
		t.Errorf("merged %d runs from %d folders; log %q", len(merged.Runs), merged.Folders, log.String())
	}
	for i, r := range merged.Runs {
		if r.Hidden != cfgs[i].HiddenDim || r.LR != cfgs[i].LearningRate || r.Seed != cfgs[i].Seed || r.TestAccuracy != fake(cfgs[i]).TestAccuracy {
			t.Errorf("run %d: %+v, want the sweep's run %d", i+1, r, i+1)
		}
	}
	for _, f := range []string{"results.json", "results.csv", "heatmap.png", ManifestName} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("merged folder: %v", err)
		}
	}
	if got, _ := ReadManifest(out); got == nil || got.Shard != nil {
		t.Errorf("merged manifest: %+v, want the sweep's without a shard", got)
	}

	// Never into a merged folder or a shard; a shard of another sweep is refused.
	var ue *UsageError
	if _, err := Merge(shards, shards[0], &log); !errors.As(err, &ue) || !strings.Contains(err.Error(), "never writes into") {
		t.Errorf("-out one of the folders: %v", err)
	}
	lone := shardFolder(t, cfgs, *m, 1, 2, everything)
	if _, err := Merge(shards, lone, &log); !errors.As(err, &ue) || !strings.Contains(err.Error(), "holds shard 1/2") {
		t.Errorf("-out another shard: %v", err)
	}
	otherCfgs := mnistfc.Configs(cfgs[0], mnistfc.Grid([]int{7}, []float64{0.1}), 1)
	om, _ := NewManifest([]string{"-hiddens", "7"}, otherCfgs, []int{7}, []float64{0.1}, 1)
	odir := t.TempDir()
	Open(odir, om, []int{0}, false, &log)
	if _, err := Merge([]string{shards[0], odir}, "", &log); !errors.As(err, &ue) || !strings.Contains(err.Error(), "not shards of one sweep") ||
		!strings.Contains(err.Error(), "mnistfc sweep -hiddens 7") {
		t.Errorf("shards of two sweeps: %v", err)
	}

	// The same run with other numbers in two folders.
	bad := shardFolder(t, cfgs, *m, 1, 3, everything)
	store, _ = runstore.Open(bad, runstore.Options{})
	wrong := fake(cfgs[0])
	wrong.TestAccuracy = 0.01
	store.Keep(m.Runs[0].Key, "test", wrong)
	if _, err := Merge([]string{shards[0], bad}, "", &log); err == nil || !strings.Contains(err.Error(), "differs between") {
		t.Errorf("a run with two results: %v", err)
	}
}

// A folder of an earlier version (sweep.json of flags, results.jsonl) is
// refused with the command that converts it, and that command converts
// it: the same runs, by key, summaries only.
func TestLegacy(t *testing.T) {
	cfgs, m := grid(t)
	old := t.TempDir()
	flags := map[string]string{"epochs": "1", "batch": "1000", "test-batch": "1000", "val-ratio": "0.15", "eval-every": "1", "seed": "0",
		"init": "default", "optimizer": "sgd", "softmax": "row", "data": "", "hiddens": "1,2,3", "lrs": "0.1,0.01", "seeds": "2"}
	b, _ := json.Marshal(map[string]any{"flags": flags, "runs": []any{}})
	os.WriteFile(filepath.Join(old, ManifestName), b, 0o644)
	var jsonl bytes.Buffer
	for i, c := range cfgs {
		line, _ := jsonfinite.Marshal(struct { // As the earlier version wrote it.
			Run int `json:"run"`
			mnistfc.RunSummary
		}{i + 1, fake(c).Summary()})
		jsonl.Write(append(line, '\n'))
	}
	jsonl.WriteString(`{"run":13,"hid`) // Cut off while written.
	os.WriteFile(filepath.Join(old, "results.jsonl"), jsonl.Bytes(), 0o644)

	_, err := ReadManifest(old)
	var le *LegacyError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), fmt.Sprintf("mnistfc merge -out %s-v2 %s", old, old)) {
		t.Fatalf("ReadManifest of an earlier version's folder: %v", err)
	}
	var log bytes.Buffer
	merged, err := Merge([]string{old}, old+"-v2", &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Runs) != len(cfgs) || !strings.Contains(log.String(), "line 13: left out") {
		t.Errorf("converted %d runs, log %q", len(merged.Runs), log.String())
	}
	store, _ := runstore.Open(old+"-v2", runstore.Options{})
	for i, r := range m.Runs {
		e, err := store.Get(r.Key)
		if err != nil || e == nil || e.Summary != fake(cfgs[i]).Summary() || e.Result != nil {
			t.Errorf("run %d under the sweep's key: %+v, %v", i+1, e, err)
		}
	}
	os.RemoveAll(old + "-v2")
}

// Shards computed on machines whose kernels give other keys (and other
// -backend or -parallel flags) are one sweep: the merged manifest names
// each run by the key of the folder that has it.
func TestMergeAcrossMachines(t *testing.T) {
	cfgs, m := grid(t)
	s1 := shardFolder(t, cfgs, *m, 1, 2, func(int) bool { return true })
	other := *m
	other.Args = append([]string{"-parallel", "4"}, m.Args...)
	other.Runs = slices.Clone(m.Runs)
	for i := range other.Runs {
		other.Runs[i].Key += "-elsewhere"
	}
	s2 := shardFolder(t, cfgs, other, 2, 2, func(int) bool { return true })
	out := filepath.Join(t.TempDir(), "merged")
	merged, err := Merge([]string{s1, s2}, out, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	mine := mnistfc.Shard(cfgs, 2, 2)
	for i, r := range merged.Manifest.Runs {
		want := m.Runs[i].Key
		if slices.Contains(mine, i) {
			want = other.Runs[i].Key
		}
		if r.Key != want {
			t.Errorf("run %d: key %q, want %q", i+1, r.Key, want)
		}
	}
	store, _ := runstore.Open(out, runstore.Options{})
	if n, _ := merged.Manifest.Kept(store); len(n) != len(cfgs) {
		t.Errorf("the merged folder holds %d of the %d runs under its manifest's keys", len(n), len(cfgs))
	}
}
