package notebook

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// RunsEnv names the environment variable that gives the folder where the
// notebooks keep finished runs (see Experiment); unset, it is RunsDir's
// default.
const RunsEnv = "MNISTFC_RUNS_DIR"

// RunsLimitEnv names the environment variable that bounds the size of the
// kept runs in MiB (default 2048): when a new run takes them over it, the
// runs used longest ago are deleted, and the cell says so.
const RunsLimitEnv = "MNISTFC_RUNS_MAX_MB"

// defaultRunsLimitMB is the default of $MNISTFC_RUNS_MAX_MB: the analysis
// notebook's full map of 192 runs with its other runs fits in it.
const defaultRunsLimitMB = 2048

// RunsDir returns the folder where Experiment and Run keep finished runs:
// $MNISTFC_RUNS_DIR, or .runs in the notebook's folder ($GONB_DIR), or
// mnistfc-runs in the system's temporary folder outside a notebook. Each
// run is one file named by its fingerprint; deleting it makes the next
// Experiment with those settings train again. scripts/run-notebooks.py
// gives every headless execution a new, empty folder, so that a report
// shows only what its own run computed.
func RunsDir() string {
	if d := os.Getenv(RunsEnv); d != "" {
		return d
	}
	if d := os.Getenv("GONB_DIR"); d != "" {
		return filepath.Join(d, ".runs")
	}
	return filepath.Join(os.TempDir(), "mnistfc-runs")
}

// keptRun is what a run's file holds.
type keptRun struct {
	Name   string // The experiment's name when it ran.
	When   time.Time
	Result *mnistfc.Result
}

func runPath(fingerprint string) string { return filepath.Join(RunsDir(), fingerprint+".gob") }

// loadRun returns the run kept under fingerprint, if there is one that
// reads back.
func loadRun(fingerprint string) (*keptRun, bool) {
	b, err := os.ReadFile(runPath(fingerprint))
	if err != nil {
		return nil, false
	}
	var k keptRun
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&k); err != nil || k.Result == nil {
		fmt.Fprintf(os.Stderr, "note: ignoring %s, which does not read back: %v\n", runPath(fingerprint), err)
		return nil, false
	}
	now := time.Now() // Used now: the last to go when the runs are pruned.
	_ = os.Chtimes(runPath(fingerprint), now, now)
	return &k, true
}

// saveRun keeps res under fingerprint (written to a temporary file and
// renamed, so a file is never half-written) and returns what it kept.
func saveRun(fingerprint, name string, res *mnistfc.Result) (*keptRun, error) {
	if err := os.MkdirAll(RunsDir(), 0o755); err != nil {
		return nil, fmt.Errorf("keeping the run: %w", err)
	}
	k := &keptRun{Name: name, When: time.Now(), Result: res}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(k); err != nil {
		return nil, fmt.Errorf("keeping the run: %w", err)
	}
	if err := atomicfile.WriteFile(runPath(fingerprint), b.Bytes()); err != nil {
		return nil, err
	}
	pruneRuns(runsLimit())
	return k, nil
}

// runsLimit returns $MNISTFC_RUNS_MAX_MB in bytes, or its default.
func runsLimit() int64 {
	mb := int64(defaultRunsLimitMB)
	if v := os.Getenv(RunsLimitEnv); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "note: $%s=%q is not a positive number of MiB; keeping up to %d MiB of runs\n", RunsLimitEnv, v, mb)
		} else {
			mb = n
		}
	}
	return mb << 20
}

// pruneRuns deletes the kept runs used longest ago (loadRun and saveRun
// set a file's time) until the rest take at most limit bytes, and says
// what it deleted. The newest run always stays.
func pruneRuns(limit int64) {
	files, _ := filepath.Glob(filepath.Join(RunsDir(), "*.gob"))
	type run struct {
		path string
		size int64
		used time.Time
	}
	var runs []run
	var total int64
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			runs = append(runs, run{f, info.Size(), info.ModTime()})
			total += info.Size()
		}
	}
	slices.SortFunc(runs, func(a, b run) int { return a.used.Compare(b.used) })
	var deleted int
	var freed int64
	for _, r := range runs[:max(len(runs)-1, 0)] {
		if total <= limit {
			break
		}
		if os.Remove(r.path) == nil {
			total, freed, deleted = total-r.size, freed+r.size, deleted+1
		}
	}
	if deleted > 0 {
		fmt.Printf("Kept runs: deleted the %s used longest ago (%.0f MiB), to stay under %d MiB ($%s).\n",
			plural(deleted, "run"), float64(freed)/(1<<20), limit>>20, RunsLimitEnv)
	}
}
