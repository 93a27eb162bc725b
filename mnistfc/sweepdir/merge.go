package sweepdir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/runstore"
)

// Merged is the union of the folders of one sweep.
type Merged struct {
	Manifest *Manifest            // The sweep's, without a shard.
	Runs     []mnistfc.RunSummary // In the order of its runs.
	Folders  int                  // Folders read (a folder given twice is read once).
}

// MissingError is Merge's error when runs of the sweep are in none of the
// folders: it names them, grouped by the shard that runs them, with the
// command that does.
type MissingError struct {
	Missing, Total int
	Detail         string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("merge: %d of the sweep's %d runs are missing:\n%s", e.Missing, e.Total, e.Detail)
}

// part is one folder given to Merge.
type part struct {
	dir   string
	m     *Manifest
	store *runstore.Store
}

// Merge puts the folders of one sweep's shards (or any parts of one sweep)
// together: the union of their run stores (runstore.Merge). With out not
// empty, it writes there what one uninterrupted sweep writes, but only
// when no run is missing; it never writes into the folders merged nor
// into a shard's folder. A folder of an earlier version is converted on
// the way. Notes go to log.
func Merge(dirs []string, out string, log io.Writer) (*Merged, error) {
	if len(dirs) == 0 {
		return nil, &UsageError{errors.New("merge: no folders given: mnistfc merge [-out DIR] SHARD_DIR... (the -out folders of sweep -shard)")}
	}
	if out != "" {
		if err := checkOut(out, dirs); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "mnistfc-merge-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	parts, err := readParts(dirs, tmp, log)
	if err != nil {
		return nil, err
	}
	first := parts[0]
	stores := []*runstore.Store{first.store}
	for _, p := range parts[1:] {
		if !sameSweep(first.m, p.m) {
			return nil, &UsageError{fmt.Errorf("merge: %s and %s are not shards of one sweep: their runs differ:\n  %s: mnistfc sweep %s\n  %s: mnistfc sweep %s",
				first.dir, p.dir, first.dir, strings.Join(first.m.Args, " "), p.dir, strings.Join(p.m.Args, " "))}
		}
		stores = append(stores, p.store)
	}
	// Each run as its folder keeps it, under the key that folder's machine
	// computed (a key hashes what the network computes there, so machines
	// with other kernels give other keys): the first folder that has it wins.
	m := *first.m
	m.Runs = slices.Clone(m.Runs)
	done := map[int]mnistfc.RunSummary{}
	from := map[int]string{} // The folder each run comes from.
	for _, p := range parts {
		kept, err := p.m.Kept(p.store)
		if err != nil {
			return nil, err
		}
		for i, sum := range kept {
			had, ok := done[i]
			switch {
			case !ok:
				done[i], from[i], m.Runs[i].Key = sum, p.dir, p.m.Runs[i].Key
			case had.SameOutcome(sum):
			case m.Runs[i].Key == p.m.Runs[i].Key:
				return nil, fmt.Errorf("merge: the same settings gave different numbers: run %d (hidden %d, lr %s, seed %d), key %s, differs between %s and %s (test accuracy %v and %v)",
					i+1, sum.Hidden, fmtLR(sum.LR), sum.Seed, m.Runs[i].Key, filepath.Join(from[i], m.Runs[i].Key+runstore.Ext), filepath.Join(p.dir, m.Runs[i].Key+runstore.Ext), had.TestAccuracy, sum.TestAccuracy)
			default:
				fmt.Fprintf(log, "mnistfc: merge: run %d (hidden %d, lr %s, seed %d) was computed on two kinds of machine (other keys), with other numbers: test accuracy %v in %s, %v in %s; keeping the first\n",
					i+1, sum.Hidden, fmtLR(sum.LR), sum.Seed, had.TestAccuracy, from[i], sum.TestAccuracy, p.dir)
			}
		}
	}
	if n := len(m.Runs) - len(done); n > 0 {
		return nil, &MissingError{n, len(m.Runs), missingRuns(parts, done)}
	}
	m.Shard = nil
	merged := &Merged{Manifest: &m, Runs: m.Summaries(done), Folders: len(parts)}
	if out == "" {
		return merged, nil
	}
	dst, err := runstore.Open(out, runstore.Options{Log: log})
	if err != nil {
		return nil, err
	}
	if _, err := runstore.Merge(dst, stores...); err != nil {
		return nil, err
	}
	if err := m.Write(out); err != nil {
		return nil, err
	}
	return merged, WriteResults(out, merged.Runs, mnistfc.Aggregate(merged.Runs), m.Hiddens, m.LRs)
}

// readParts opens each folder once, converting the folders of an earlier
// version into stores under tmp.
func readParts(dirs []string, tmp string, log io.Writer) ([]part, error) {
	var parts []part
	var stats []os.FileInfo
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if i := slices.IndexFunc(stats, func(o os.FileInfo) bool { return os.SameFile(o, st) }); i >= 0 {
			fmt.Fprintf(log, "mnistfc: merge: %s is given twice (as %s too): read once\n", dir, parts[i].dir)
			continue
		}
		m, err := ReadManifest(dir)
		var store *runstore.Store
		var le *LegacyError
		switch {
		case errors.As(err, &le):
			store, m, err = convert(dir, filepath.Join(tmp, fmt.Sprint(len(parts))), log)
		case err == nil && m == nil:
			err = fmt.Errorf("%s has no %s: not the -out folder of a sweep or shard", dir, ManifestName)
		case err == nil:
			store, err = runstore.Open(dir, runstore.Options{Log: log})
		}
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		stats = append(stats, st)
		parts = append(parts, part{dir, m, store})
	}
	return parts, nil
}

// missingRuns says which runs are not done, grouped by the shard that has
// to run them, with the command that does.
func missingRuns(parts []part, done map[int]mnistfc.RunSummary) string {
	m := parts[0].m
	counts := map[int]bool{}
	for _, p := range parts {
		if p.m.Shard != nil {
			counts[p.m.Shard.Count] = true
		}
	}
	var shardOf []int // The shard of each run, when the folders agree on a count.
	count := 0
	for n := range counts {
		if len(counts) == 1 {
			count, shardOf = n, make([]int, len(m.Runs))
			for k := 1; k <= n; k++ {
				for _, i := range mnistfc.Shard(m.Configs(), k, n) {
					shardOf[i] = k
				}
			}
		}
	}
	var owners []string
	missing := map[string][]int{}
	for i := range m.Runs {
		if _, ok := done[i]; ok {
			continue
		}
		owner := ""
		for _, p := range parts { // A folder that was to run it: resume it.
			if sh := p.m.Shard; sh == nil {
				owner = fmt.Sprintf("of the sweep in %s, unfinished: finish it with\n    %s", p.dir, m.Command(0, 0, p.dir))
				break
			} else if slices.Contains(sh.Runs, i+1) {
				owner = fmt.Sprintf("of shard %s in %s, unfinished: finish it with\n    %s", sh, p.dir, m.Command(sh.Index, sh.Count, p.dir))
				break
			}
		}
		if owner == "" && shardOf != nil { // The shard whose folder was not given.
			k := shardOf[i]
			owner = fmt.Sprintf("of shard %d/%d, whose folder was not given: give it, or run the shard with\n    %s", k, count, m.Command(k, count, "DIR"))
		}
		if owner == "" {
			owner = "in none of the folders given (shards of different counts: give the folder of the shard that ran them)"
		}
		if missing[owner] == nil {
			owners = append(owners, owner)
		}
		missing[owner] = append(missing[owner], i)
	}
	var b strings.Builder
	for _, o := range owners {
		var rs []string
		for _, i := range missing[o] {
			r := m.Runs[i]
			rs = append(rs, fmt.Sprintf("run %d (hidden %d, lr %s, seed %d)", i+1, r.Hidden, fmtLR(r.LR), r.Seed))
		}
		fmt.Fprintf(&b, "  %s %s\n", strings.Join(rs, ", "), o)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// checkOut refuses an out that is one of the folders merged, or a shard's
// folder: merge never writes into a shard.
func checkOut(out string, dirs []string) error {
	st, err := os.Stat(out)
	if err != nil {
		return nil // Not there yet, or the write will say why.
	}
	for _, d := range dirs {
		if dst, err := os.Stat(d); err == nil && os.SameFile(st, dst) {
			return &UsageError{fmt.Errorf("-out %s: is one of the folders merged (%s): merge never writes into them; choose another -out", out, d)}
		}
	}
	if m, err := ReadManifest(out); err == nil && m != nil && m.Shard != nil {
		return &UsageError{fmt.Errorf("-out %s: holds shard %s of a sweep: merge never writes into a shard; choose another -out", out, m.Shard)}
	}
	return nil
}

// sameSweep reports whether two manifests are of one sweep: the same runs
// (settings, not keys) and the same flags but -parallel and -backend, which
// say how and where the runs were computed.
func sameSweep(a, b *Manifest) bool {
	runs := slices.EqualFunc(a.Runs, b.Runs, func(x, y Run) bool {
		return x.Hidden == y.Hidden && x.LR == y.LR && x.Seed == y.Seed && x.Epochs == y.Epochs
	})
	return runs && slices.Equal(choosing(a.Args), choosing(b.Args))
}

// choosing returns args less -parallel and -backend and their values.
func choosing(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(args[i], "=")
		if name == "-parallel" || name == "-backend" {
			if !hasValue {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}
