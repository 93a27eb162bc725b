package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// A sweep with -out keeps, in that folder:
//   - sweep.json: its settings (the flags that decide the results) and its runs;
//   - results.jsonl: one JSON line per finished run, appended and synced to
//     disk the moment the run ends, so that a crash, a SIGKILL or a full disk
//     loses at most the runs in flight.
//
// "sweep -resume" with the same -out and flags skips the runs already in
// results.jsonl. A sweep without -resume refuses to start over an
// unfinished one, so that its runs are not lost by mistake.
const (
	planName  = "sweep.json"
	jsonlName = "results.jsonl"
)

// resumeFree lists the flags that may differ between a sweep and its
// resumption: they change where and how fast runs are computed, or what is
// printed, not what is computed (backends agree to float32 rounding; each
// run records its backend).
var resumeFree = []string{"backend", "parallel", "json", "out", "resume"}

// sweepPlan is the content of sweep.json.
type sweepPlan struct {
	Flags map[string]string `json:"flags"`
	Runs  []planRun         `json:"runs"`
	Shard *planShard        `json:"shard,omitempty"` // Only in a shard's folder (sweep -shard).
}

type planRun struct {
	Hidden int     `json:"hidden"`
	LR     float64 `json:"lr"`
	Seed   uint64  `json:"seed"`
}

// newSweepPlan records the flags of fs that decide the results (the grid
// in canonical form) and the runs of cfgs.
func newSweepPlan(fset *flag.FlagSet, hs []int, ls []float64, cfgs []mnistfc.Config) *sweepPlan {
	p := &sweepPlan{Flags: map[string]string{}}
	fset.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(resumeFree, f.Name) && !slices.Contains(shardFlags, f.Name) {
			p.Flags[f.Name] = f.Value.String()
		}
	})
	if len(hs) > 0 { // Canonical: "-lrs 1e6" and "-lrs 1000000" are the same grid.
		var h, l []string
		for _, v := range hs {
			h = append(h, strconv.Itoa(v))
		}
		for _, v := range ls {
			l = append(l, fmtLR(v))
		}
		p.Flags["hiddens"], p.Flags["lrs"] = strings.Join(h, ","), strings.Join(l, ",")
	}
	for _, c := range cfgs {
		p.Runs = append(p.Runs, planRun{c.HiddenDim, c.LearningRate, c.Seed})
	}
	return p
}

// diff says how q (the command line) differs from p (sweep.json), or "" if it does not.
func (p *sweepPlan) diff(q *sweepPlan) string {
	return p.diffAs(q, func(name, was, now string) string { return fmt.Sprintf("-%s was %q, now %q", name, was, now) })
}

// diffAs is diff with each differing flag (or shard) described by say.
func (p *sweepPlan) diffAs(q *sweepPlan, say func(name, a, b string) string) string {
	var names []string
	for n := range p.Flags {
		names = append(names, n)
	}
	for n := range q.Flags {
		if _, ok := p.Flags[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var d []string
	for _, n := range names {
		if a, b := p.Flags[n], q.Flags[n]; a != b {
			d = append(d, say(n, a, b))
		}
	}
	if a, b := p.Shard.String(), q.Shard.String(); a != b {
		d = append(d, say("shard", a, b))
	}
	if len(d) == 0 && !slices.Equal(p.Runs, q.Runs) {
		d = append(d, fmt.Sprintf("its %d runs differ from the %d of this command", len(p.Runs), len(q.Runs)))
	}
	return strings.Join(d, "; ")
}

// sweepState appends finished runs to results.jsonl.
type sweepState struct {
	jsonl string
	f     *os.File
	size  int64
	kept  int   // Runs in the file.
	err   error // The first write error; nothing is appended after it.
}

// openSweep prepares dir for the sweep of plan and cfgs and returns the
// runs already done there (by index in cfgs) when resuming.
func openSweep(dir string, plan *sweepPlan, cfgs []mnistfc.Config, resume bool) (*sweepState, map[int]mnistfc.RunSummary, error) {
	planPath, jsonl := filepath.Join(dir, planName), filepath.Join(dir, jsonlName)
	done := map[int]mnistfc.RunSummary{}
	old, err := readPlan(planPath)
	if err != nil {
		return nil, nil, err
	}
	_, statErr := os.Stat(jsonl)
	switch {
	case old == nil && statErr == nil:
		return nil, nil, fmt.Errorf("%s exists without %s beside it: move it away, or choose another -out", jsonl, planName)
	case old == nil && resume:
		fmt.Fprintf(os.Stderr, "mnistfc: nothing to resume in %s (no %s): starting the sweep\n", dir, planName)
	case old != nil && resume:
		if d := old.diff(plan); d != "" {
			return nil, nil, usageError(fmt.Errorf("-resume: the sweep in %s was run with other settings: %s; resume it with its own flags, or choose another -out", dir, d))
		}
		var good int64
		var torn bool
		if done, good, torn, err = readResults(jsonl, cfgs); err != nil {
			return nil, nil, err
		}
		if torn {
			if err := os.Truncate(jsonl, good); err != nil {
				return nil, nil, err
			}
			fmt.Fprintf(os.Stderr, "mnistfc: dropped the incomplete last line of %s (a run cut off while it was written)\n", jsonl)
		}
	case old != nil:
		n, _ := countLines(jsonl)
		if n < old.runCount() {
			return nil, nil, fmt.Errorf("%s holds an unfinished sweep (%d of %d runs in %s): add -resume to finish it, or remove %s and %s (or choose another -out) to start over",
				dir, n, old.runCount(), jsonlName, jsonlName, planName)
		}
		fmt.Fprintf(os.Stderr, "mnistfc: %s held a finished sweep (%d runs): starting a new one in its place\n", dir, old.runCount())
	}
	if old == nil || !resume {
		b, err := json.MarshalIndent(plan, "", "  ")
		if err != nil {
			return nil, nil, err
		}
		if err := atomicfile.WriteFile(jsonl, nil); err != nil {
			return nil, nil, err
		}
		if err := atomicfile.WriteFile(planPath, b); err != nil {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(jsonl, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return &sweepState{jsonl: jsonl, f: f, size: st.Size(), kept: len(done)}, done, nil
}

// readPlan reads sweep.json; nil if there is none.
func readPlan(path string) (*sweepPlan, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p sweepPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w (not written by \"mnistfc sweep\"?)", path, err)
	}
	return &p, nil
}

// jsonlRecord is one line of results.jsonl: the run's number (1-based, in
// the order of sweep.json's runs) and its summary.
type jsonlRecord struct {
	Run int `json:"run"`
	mnistfc.RunSummary
}

// readResults reads results.jsonl. A last line that is cut off or does not
// parse (the program stopped while writing it) is reported as torn, with
// the length of the lines before it; any other bad line is an error.
func readResults(path string, cfgs []mnistfc.Config) (done map[int]mnistfc.RunSummary, good int64, torn bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, false, err
	}
	done = map[int]mnistfc.RunSummary{}
	for n := 1; len(b) > 0; n++ {
		line, rest, complete := bytes.Cut(b, []byte("\n"))
		var rec jsonlRecord
		perr := json.Unmarshal(line, &struct{ Run *int }{&rec.Run})
		if perr == nil {
			perr = jsonfinite.Unmarshal(line, &rec.RunSummary)
		}
		if !complete || perr != nil {
			if len(rest) == 0 {
				return done, good, true, nil
			}
			return nil, 0, false, fmt.Errorf("%s line %d: %v", path, n, perr)
		}
		i := rec.Run - 1
		if i < 0 || i >= len(cfgs) {
			return nil, 0, false, fmt.Errorf("%s line %d: run %d, but the sweep has runs 1 to %d", path, n, rec.Run, len(cfgs))
		}
		if c := cfgs[i]; rec.Hidden != c.HiddenDim || rec.LR != c.LearningRate || rec.Seed != c.Seed {
			return nil, 0, false, fmt.Errorf("%s line %d: run %d is hidden %d, lr %g, seed %d; the sweep's run %d is hidden %d, lr %g, seed %d",
				path, n, rec.Run, rec.Hidden, rec.LR, rec.Seed, rec.Run, c.HiddenDim, c.LearningRate, c.Seed)
		}
		done[i] = rec.RunSummary
		good += int64(len(line)) + 1
		b = rest
	}
	return done, good, false, nil
}

// countLines counts the complete lines of a file (0 if it cannot be read).
func countLines(path string) (int, error) {
	b, err := os.ReadFile(path)
	return bytes.Count(b, []byte("\n")), err
}

// add appends run i's summary to results.jsonl and syncs it to disk. After
// a failed write (a full disk) it cuts the file back to its last complete
// line and appends nothing more.
func (s *sweepState) add(i int, sum mnistfc.RunSummary) error {
	if s.err != nil {
		return fmt.Errorf("run %d not kept: %w", i+1, s.err)
	}
	line, err := jsonfinite.Marshal(jsonlRecord{Run: i + 1, RunSummary: sum})
	if err != nil {
		return err
	}
	n, err := s.f.Write(append(line, '\n'))
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		_ = s.f.Truncate(s.size)
		s.err = fmt.Errorf("writing %s: %w", s.jsonl, err)
		return s.err
	}
	s.size += int64(n)
	s.kept++
	return nil
}

func (s *sweepState) close() {
	if s != nil {
		s.f.Close()
	}
}
