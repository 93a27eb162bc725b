package notebook

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// RunsEnv names the environment variable that gives the folder where the
// notebooks keep finished runs (see Experiment); unset, it is RunsDir's
// default.
const RunsEnv = "MNISTFC_RUNS_DIR"

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
	return &k, true
}

// saveRun keeps res under fingerprint (written to a temporary file and
// renamed, so a file is never half-written).
func saveRun(fingerprint, name string, res *mnistfc.Result) error {
	if err := os.MkdirAll(RunsDir(), 0o755); err != nil {
		return fmt.Errorf("keeping the run: %w", err)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(keptRun{Name: name, When: time.Now(), Result: res}); err != nil {
		return fmt.Errorf("keeping the run: %w", err)
	}
	return atomicfile.WriteFile(runPath(fingerprint), b.Bytes())
}
