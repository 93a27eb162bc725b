package notebook

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/runstore"
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

// runStore returns the store in RunsDir, bounded by $MNISTFC_RUNS_MAX_MB,
// which says on stdout what it prunes and which files do not read back.
func runStore() *runstore.Store {
	return Must(runstore.Open(RunsDir(), runstore.Options{MaxBytes: runsLimit(), Log: os.Stdout}))
}

// loadRun returns the run kept under key, if there is one with its whole
// result. A file that does not read back, or a run kept as a summary only,
// is said and trained again (the new run replaces it; a damaged file is
// moved aside, not overwritten).
func loadRun(key string) (*runstore.Entry, bool) {
	e, err := runStore().Get(key)
	switch {
	case err != nil:
		fmt.Printf("note: %v: training this run again\n", err)
		return nil, false
	case e == nil:
		return nil, false
	case e.Result == nil:
		fmt.Printf("note: %s holds this run's summary only (%s): training it again for its curves and weights\n", RunsDir(), e.Name)
		return nil, false
	}
	return e, true
}

// saveRun keeps res under key and returns what it kept.
func saveRun(key, name string, res *mnistfc.Result) (*runstore.Entry, error) {
	e := runstore.Entry{Key: key, Name: name, When: time.Now(), Summary: res.Summary(), Result: res}
	if err := runStore().Put(key, e); err != nil {
		return nil, fmt.Errorf("keeping the run: %w", err)
	}
	return &e, nil
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
