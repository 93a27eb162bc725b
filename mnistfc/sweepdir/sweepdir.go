// Package sweepdir reads and writes the folder of a sweep: a run store
// (package runstore: one file per finished run, the notebooks' runs folder
// is the same kind) with the sweep's manifest, sweep.json, and when it
// ends its results: results.json, results.csv and, for a grid,
// heatmap.png. The command line's "sweep -out" and "merge" write it.
//
//	m, err := sweepdir.NewManifest(args, cfgs, hiddens, lrs, seeds)
//	store, err := sweepdir.Open(dir, m, mine, resume, os.Stderr)
//	results, err := mnistfc.Sweep(ctx, data, cfgs, mnistfc.Resume(store))
package sweepdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/runstore"
)

// ManifestName is the manifest's file in a sweep's folder.
const ManifestName = "sweep.json"

// format tells this manifest from an earlier one, whose runs were kept in
// results.jsonl (legacy.go).
const format = 2

// Manifest is sweep.json: what a sweep runs.
type Manifest struct {
	Format int `json:"format"`
	// Args are the sweep's flags less -out, -resume, -json, -shard and
	// -shard-count: with those, the command that runs a part of it.
	Args    []string  `json:"args"`
	Hiddens []int     `json:"hiddens,omitempty"` // The grid, if the sweep is one.
	LRs     []float64 `json:"lrs,omitempty"`
	Seeds   int       `json:"seeds"`
	Runs    []Run     `json:"runs"`
	Shard   *Shard    `json:"shard,omitempty"` // Only in a shard's folder.
}

// Run is one run of a manifest.
type Run struct {
	Hidden int     `json:"hidden"`
	LR     float64 `json:"lr"`
	Seed   uint64  `json:"seed"`
	Epochs int     `json:"epochs"`
	Key    string  `json:"key"` // mnistfc.RunKey.
}

// Shard records the shard a folder holds.
type Shard struct {
	Index int   `json:"index"`
	Count int   `json:"count"`
	Runs  []int `json:"runs"` // Its runs, numbered from 1 in the order of the manifest's runs.
}

// String is "i/n".
func (s *Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// NewManifest returns the manifest of the sweep of cfgs, which splits the
// data with the first configuration's seed (as mnistfc.Sweep's callers
// do), with the command-line flags args.
func NewManifest(args []string, cfgs []mnistfc.Config, hiddens []int, lrs []float64, seeds int) (*Manifest, error) {
	m := &Manifest{Format: format, Args: args, Hiddens: hiddens, LRs: lrs, Seeds: seeds}
	for _, c := range cfgs {
		key, err := mnistfc.RunKey(c, mnistfc.FullyConnected(c.HiddenDim), cfgs[0].Seed)
		if err != nil {
			return nil, err
		}
		m.Runs = append(m.Runs, Run{Hidden: c.HiddenDim, LR: c.LearningRate, Seed: c.Seed, Epochs: c.Epochs, Key: key})
	}
	return m, nil
}

// Configs returns the manifest's runs as configurations, with the fields
// mnistfc.Shard reads.
func (m *Manifest) Configs() []mnistfc.Config {
	cfgs := make([]mnistfc.Config, len(m.Runs))
	for i, r := range m.Runs {
		cfgs[i] = mnistfc.Config{HiddenDim: r.Hidden, LearningRate: r.LR, Seed: r.Seed, Epochs: r.Epochs}
	}
	return cfgs
}

// Command is the command line that finishes shard k of n of the sweep
// (the whole sweep for n = 0) in dir.
func (m *Manifest) Command(k, n int, dir string) string {
	args := []string{"mnistfc", "sweep"}
	for _, a := range m.Args {
		args = append(args, shellQuote(a))
	}
	if n > 0 {
		args = append(args, "-shard", fmt.Sprintf("%d/%d", k, n))
	}
	return strings.Join(append(args, "-resume", "-out", shellQuote(dir)), " ")
}

// Kept returns the summaries that store holds of the manifest's runs, by
// index.
func (m *Manifest) Kept(store *runstore.Store) (map[int]mnistfc.RunSummary, error) {
	entries, err := store.List()
	if err != nil {
		return nil, err
	}
	byKey := map[string]mnistfc.RunSummary{}
	for _, e := range entries {
		byKey[e.Key] = e.Summary
	}
	done := map[int]mnistfc.RunSummary{}
	for i, r := range m.Runs {
		if s, ok := byKey[r.Key]; ok {
			done[i] = s
		}
	}
	return done, nil
}

// Summaries returns the summaries of done in the order of the runs,
// leaving out those not done.
func (m *Manifest) Summaries(done map[int]mnistfc.RunSummary) []mnistfc.RunSummary {
	var runs []mnistfc.RunSummary
	for i := range m.Runs {
		if s, ok := done[i]; ok {
			runs = append(runs, s)
		}
	}
	return runs
}

// ReadManifest reads dir's sweep.json: nil and no error if there is none.
// A folder of an earlier version gives a *LegacyError.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w (not written by \"mnistfc sweep\"?)", path, err)
	}
	if m.Format != format {
		return nil, &LegacyError{dir}
	}
	return &m, nil
}

// Write writes the manifest as dir's sweep.json.
func (m *Manifest) Write(dir string) error {
	m.Format = format
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, ManifestName), b)
}

// Open opens dir as the run store of the sweep of m, whose runs this
// process runs are mine (indices in m.Runs), and writes m there. Without
// resume it refuses a folder where part of those runs is kept, so that a
// forgotten -resume does not train them again; a folder of another shard
// is refused too. What it notes goes to log.
func Open(dir string, m *Manifest, mine []int, resume bool, log io.Writer) (*runstore.Store, error) {
	old, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	store, err := runstore.Open(dir, runstore.Options{Log: log})
	if err != nil {
		return nil, err
	}
	held, err := m.Kept(store)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, i := range mine {
		if _, ok := held[i]; ok {
			n++
		}
	}
	switch {
	case old != nil && old.Shard != nil && (m.Shard == nil || old.Shard.String() != m.Shard.String()):
		what := "the whole sweep"
		if m.Shard != nil {
			what = "shard " + m.Shard.String()
		}
		return nil, &UsageError{fmt.Errorf("%s holds shard %s of a sweep, and this is %s: choose another -out", dir, old.Shard, what)}
	case !resume && n > 0 && n < len(mine):
		return nil, fmt.Errorf("%s holds an unfinished sweep (%d of its %d runs kept): add -resume to finish it, or choose another -out", dir, n, len(mine))
	case !resume && n > 0:
		fmt.Fprintf(log, "mnistfc: %s holds this finished sweep (%d runs): training it again in its place\n", dir, n)
	case resume && old == nil:
		fmt.Fprintf(log, "mnistfc: nothing to resume in %s (no %s): starting the sweep\n", dir, ManifestName)
	case resume && !slices.Equal(old.Runs, m.Runs):
		fmt.Fprintf(log, "mnistfc: %s held another sweep (%s): its runs stay in the folder; this one's %s replaces its %s\n",
			dir, strings.Join(old.Args, " "), ManifestName, ManifestName)
	}
	return store, m.Write(dir)
}

// UsageError is an error of the command line that asked for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:=+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
