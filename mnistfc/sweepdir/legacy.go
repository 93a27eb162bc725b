package sweepdir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/runstore"
)

// Earlier versions of mnistfc kept a sweep's runs as lines of
// results.jsonl, described by a sweep.json of flags. Merge reads such a
// folder into a run store, which converts it ("mnistfc merge -out NEW
// OLD"). Its runs keep their summaries only: no history, no weights.

// LegacyError is the error of a folder of an earlier version: it says how
// to convert it.
type LegacyError struct{ Dir string }

func (e *LegacyError) Error() string {
	return fmt.Sprintf("%s holds a sweep of an earlier version of mnistfc (results.jsonl); convert it with\n    mnistfc merge -out %s %s\nthen use %s",
		e.Dir, shellQuote(e.Dir+"-v2"), shellQuote(e.Dir), shellQuote(e.Dir+"-v2"))
}

// legacyPlan is an earlier version's sweep.json.
type legacyPlan struct {
	Flags map[string]string `json:"flags"`
	Shard *Shard            `json:"shard"`
}

// convert reads the earlier version's folder dir into a new store in to,
// and returns it with the sweep's manifest.
func convert(dir, to string, log io.Writer) (*runstore.Store, *Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var old legacyPlan
	if err := json.Unmarshal(b, &old); err != nil || old.Flags == nil {
		return nil, nil, fmt.Errorf("%s: not a sweep.json of mnistfc: %v", path, err)
	}
	m, cfgs, err := legacyManifest(old.Flags)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Shard = old.Shard
	store, err := runstore.Open(to, runstore.Options{Log: log})
	if err != nil {
		return nil, nil, err
	}
	// The backend was not one of the sweep's flags: each line says its own.
	jsonl := filepath.Join(dir, "results.jsonl")
	lines, err := os.ReadFile(jsonl)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, err
	}
	backend := ""
	for n, line := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec struct {
			Run int `json:"run"`
			mnistfc.RunSummary
		}
		err := json.Unmarshal(line, &struct{ Run *int }{&rec.Run})
		if err == nil {
			err = jsonfinite.Unmarshal(line, &rec.RunSummary)
		}
		if err != nil || rec.Run < 1 || rec.Run > len(cfgs) {
			fmt.Fprintf(log, "mnistfc: merge: %s line %d: left out (cut off, or not a run of this sweep)\n", jsonl, n+1)
			continue
		}
		c := cfgs[rec.Run-1]
		c.Backend, backend = rec.Backend, rec.Backend
		if m.Runs[rec.Run-1].Key, err = mnistfc.RunKey(c, mnistfc.FullyConnected(c.HiddenDim), cfgs[0].Seed); err != nil {
			return nil, nil, err
		}
		name := fmt.Sprintf("%s run %d (converted from an earlier version: summary only)", jsonl, rec.Run)
		if err := store.Put(m.Runs[rec.Run-1].Key, runstore.Entry{Name: name, Summary: rec.RunSummary}); err != nil {
			return nil, nil, err
		}
	}
	for i, c := range cfgs { // The runs not done, keyed on the backend of those done.
		if m.Runs[i].Key == "" {
			c.Backend = backend
			if m.Runs[i].Key, err = mnistfc.RunKey(c, mnistfc.FullyConnected(c.HiddenDim), cfgs[0].Seed); err != nil {
				return nil, nil, err
			}
		}
	}
	return store, m, nil
}

// legacyManifest returns the manifest (keys left empty) and the
// configurations of the sweep an earlier version ran with flags.
func legacyManifest(flags map[string]string) (*Manifest, []mnistfc.Config, error) {
	cfg := mnistfc.DefaultConfig()
	m := &Manifest{Format: format, Seeds: 1}
	var err error
	ints := map[string]*int{"epochs": &cfg.Epochs, "batch": &cfg.BatchSize, "test-batch": &cfg.TestBatchSize, "eval-every": &cfg.EvalEvery, "seeds": &m.Seeds}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range flags {
			if !yield(n) {
				return
			}
		}
	}) {
		v := flags[name]
		if v != "" {
			m.Args = append(m.Args, "-"+name, v)
		}
		switch {
		case ints[name] != nil:
			*ints[name], err = strconv.Atoi(v)
		case name == "val-ratio":
			cfg.ValidationRatio, err = strconv.ParseFloat(v, 64)
		case name == "seed":
			cfg.Seed, err = strconv.ParseUint(v, 10, 64)
		case name == "init":
			cfg.Init = mnistfc.Init(v)
		case name == "optimizer":
			cfg.Optimizer = mnistfc.Optimizer(v)
		case name == "softmax":
			err = cfg.Softmax.UnmarshalText([]byte(v))
		case name == "data":
			cfg.DataDir = v
		}
		if err != nil {
			return nil, nil, fmt.Errorf("flag -%s %q: %w", name, v, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if m.Hiddens, m.LRs, err = ParseGrid(flags["hiddens"], flags["lrs"]); err != nil {
		return nil, nil, err
	}
	experiments := mnistfc.OriginalExperiments()
	if m.Hiddens != nil {
		experiments = mnistfc.Grid(m.Hiddens, m.LRs)
	}
	cfgs := mnistfc.Configs(cfg, experiments, m.Seeds)
	for _, c := range cfgs {
		m.Runs = append(m.Runs, Run{Hidden: c.HiddenDim, LR: c.LearningRate, Seed: c.Seed, Epochs: c.Epochs})
	}
	return m, cfgs, nil
}
