package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/internal/shard"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// "mnistfc merge DIR..." puts the -out folders of a sweep's shards (or of
// any parts of one sweep) together into what one uninterrupted sweep
// writes: the Markdown table, and with -out a sweep folder (sweep.json,
// results.jsonl, results.json, results.csv, heatmap.png). It reads the
// folders' sweep.json and results.jsonl and writes nothing into them.

// mergePart is one folder given to merge.
type mergePart struct {
	dir  string
	plan *sweepPlan
	done map[int]mnistfc.RunSummary
}

func runMerge(args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("mnistfc merge", flag.ContinueOnError)
	out := fset.String("out", "", "if set, folder for the merged sweep: sweep.json, results.jsonl, results.json, results.csv and (for a grid) heatmap.png, as one uninterrupted sweep writes them; never one of the folders merged")
	fset.Usage = func() {
		fmt.Fprintf(fset.Output(), "Usage: mnistfc merge [-out DIR] SHARD_DIR...\n\nPuts the -out folders of a sweep's shards (sweep -shard) together, as one sweep.\n\n")
		fset.PrintDefaults()
	}
	var dirs []string
	for { // Flags may come after the folders too.
		if err := fset.Parse(args); err != nil {
			return usageError(err)
		}
		if fset.NArg() == 0 {
			break
		}
		dirs, args = append(dirs, fset.Arg(0)), fset.Args()[1:]
	}
	if len(dirs) == 0 {
		return usageError(errors.New("merge: no folders given: mnistfc merge [-out DIR] SHARD_DIR... (the -out folders of sweep -shard)"))
	}

	parts, err := readParts(dirs)
	if err != nil {
		return err
	}
	first := parts[0]
	for _, p := range parts[1:] {
		a, b := *first.plan, *p.plan
		a.Shard, b.Shard = nil, nil
		if d := a.diffAs(&b, func(name, x, y string) string {
			return fmt.Sprintf("-%s %q in %s, %q in %s", name, x, first.dir, y, p.dir)
		}); d != "" {
			return usageError(fmt.Errorf("merge: %s and %s are not shards of one sweep: they were run with other settings: %s", first.dir, p.dir, d))
		}
	}
	cfgs := planConfigs(first.plan)

	// Every run once: the first folder that has it wins; duplicates are reported.
	done := map[int]mnistfc.RunSummary{}
	from := map[int]string{}
	type pair struct{ a, b string }
	dups := map[pair][]int{}
	var pairs []pair
	for _, p := range parts {
		for i := range cfgs {
			s, ok := p.done[i]
			if !ok {
				continue
			}
			if _, dup := done[i]; dup {
				k := pair{from[i], p.dir}
				if dups[k] == nil {
					pairs = append(pairs, k)
				}
				dups[k] = append(dups[k], i)
				if !sameResult(done[i], s) {
					fmt.Fprintf(os.Stderr, "mnistfc: merge: run %d (%s) differs between %s and %s: keeping %s's\n", i+1, describeRun(cfgs[i]), from[i], p.dir, from[i])
				}
				continue
			}
			done[i], from[i] = s, p.dir
		}
	}
	for _, k := range pairs {
		fmt.Fprintf(os.Stderr, "mnistfc: merge: duplicates: %s in both %s and %s: keeping %s's\n", runList(dups[k]), k.a, k.b, k.a)
	}
	if missing := missingRuns(parts, cfgs, done); missing != "" {
		return fmt.Errorf("merge: %d of the sweep's %d runs are missing:\n%s", len(cfgs)-len(done), len(cfgs), missing)
	}

	if *out != "" {
		if err := checkMergeOut(*out, parts); err != nil {
			return err
		}
	}
	runs := inOrder(done, len(cfgs))
	cells := mnistfc.Aggregate(runs)
	fmt.Fprintf(stdout, "Merged %d runs from %d folder(s)\n\n", len(runs), len(parts))
	seeds, _ := strconv.Atoi(first.plan.Flags["seeds"])
	writeMarkdown(stdout, cells, seeds)
	if *out == "" {
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	plan := *first.plan
	plan.Shard = nil
	state, _, err := openSweep(*out, &plan, cfgs, false)
	if err != nil {
		return err
	}
	defer state.close()
	for i := range cfgs {
		if err := state.add(i, done[i]); err != nil {
			return err
		}
	}
	hs, ls, err := parseGrid(plan.Flags["hiddens"], plan.Flags["lrs"])
	if err != nil {
		return err
	}
	if err := writeSweep(*out, runs, cells, hs, ls); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	return nil
}

// readParts reads the sweep.json and results.jsonl of each folder, once
// per folder. A results.jsonl whose last line is cut off (a shard killed
// while writing it) is read without that line.
func readParts(dirs []string) ([]mergePart, error) {
	var parts []mergePart
	var stats []os.FileInfo
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if i := slices.IndexFunc(stats, func(o os.FileInfo) bool { return os.SameFile(o, st) }); i >= 0 {
			fmt.Fprintf(os.Stderr, "mnistfc: merge: %s is given twice (as %s too): read once\n", dir, parts[i].dir)
			continue
		}
		plan, err := readPlan(filepath.Join(dir, planName))
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if plan == nil {
			return nil, fmt.Errorf("merge: %s has no %s: not the -out folder of a sweep or shard", dir, planName)
		}
		jsonl := filepath.Join(dir, jsonlName)
		done, _, torn, err := readResults(jsonl, planConfigs(plan))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			done = map[int]mnistfc.RunSummary{}
		case err != nil:
			return nil, fmt.Errorf("merge: %w", err)
		case torn:
			fmt.Fprintf(os.Stderr, "mnistfc: merge: %s: its last line is incomplete (cut off while written): left out\n", jsonl)
		}
		stats = append(stats, st)
		parts = append(parts, mergePart{dir, plan, done})
	}
	return parts, nil
}

// planConfigs returns the runs of sweep.json as configurations (the
// fields that readResults checks and runCost reads).
func planConfigs(p *sweepPlan) []mnistfc.Config {
	epochs, _ := strconv.Atoi(p.Flags["epochs"])
	cfgs := make([]mnistfc.Config, len(p.Runs))
	for i, r := range p.Runs {
		cfgs[i] = mnistfc.Config{HiddenDim: r.Hidden, LearningRate: r.LR, Seed: r.Seed, Epochs: epochs}
	}
	return cfgs
}

// missingRuns says which runs are not done, grouped by the shard that has
// to run them, with the command that does; "" if none is missing.
func missingRuns(parts []mergePart, cfgs []mnistfc.Config, done map[int]mnistfc.RunSummary) string {
	counts := map[int]bool{}
	var example *planShard
	for _, p := range parts {
		if p.plan.Shard != nil {
			counts[p.plan.Shard.Count] = true
			example = cmp.Or(example, p.plan.Shard)
		}
	}
	var owners []string
	missing := map[string][]int{}
	assigned := map[int][]int{} // Shards of each count, computed once.
	for i := range cfgs {
		if _, ok := done[i]; ok {
			continue
		}
		owner := ""
		for _, p := range parts { // A folder that was to run it: resume it.
			if sh := p.plan.Shard; sh == nil || slices.Contains(sh.Runs, i+1) {
				if sh == nil {
					owner = fmt.Sprintf("of the sweep in %s, unfinished: finish it with its flags and -resume -out %s", p.dir, shellQuote(p.dir))
				} else {
					owner = fmt.Sprintf("of shard %s in %s, unfinished: finish it with\n    %s", sh, p.dir, sh.command(sh.Index, sh.Count, p.dir))
				}
				break
			}
		}
		if owner == "" && len(counts) == 1 { // The shard whose folder was not given.
			n := example.Count
			if assigned[n] == nil {
				costs := make([]int64, len(cfgs))
				for j, c := range cfgs {
					costs[j] = runCost(c)
				}
				assigned[n] = shard.Assign(costs, n)
			}
			k := assigned[n][i] + 1
			owner = fmt.Sprintf("of shard %d/%d, whose folder was not given: give it, or run the shard with\n    %s", k, n, example.command(k, n, "DIR"))
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
			rs = append(rs, fmt.Sprintf("run %d (%s)", i+1, describeRun(cfgs[i])))
		}
		fmt.Fprintf(&b, "  %s %s\n", strings.Join(rs, ", "), o)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func describeRun(c mnistfc.Config) string {
	return fmt.Sprintf("hidden %d, lr %s, seed %d", c.HiddenDim, fmtLR(c.LearningRate), c.Seed)
}

// runList is "run 3" or "runs 3, 7, 11", numbered from 1.
func runList(is []int) string {
	var s []string
	for _, i := range is {
		s = append(s, strconv.Itoa(i+1))
	}
	if len(s) == 1 {
		return "run " + s[0]
	}
	return "runs " + strings.Join(s, ", ")
}

// sameResult reports whether two runs' outcomes agree, leaving out how
// long they took.
func sameResult(a, b mnistfc.RunSummary) bool {
	a.Seconds, a.SecondsPerEpoch, b.Seconds, b.SecondsPerEpoch = 0, 0, 0, 0
	x, _ := jsonfinite.Marshal(a)
	y, _ := jsonfinite.Marshal(b)
	return string(x) == string(y)
}

// checkMergeOut refuses an -out that is one of the folders merged, or a
// shard's folder: merge never writes into a shard.
func checkMergeOut(out string, parts []mergePart) error {
	st, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	for _, p := range parts {
		if pst, err := os.Stat(p.dir); err == nil && os.SameFile(st, pst) {
			return usageError(fmt.Errorf("-out %s: is one of the folders merged (%s): merge never writes into them; choose another -out", out, p.dir))
		}
	}
	if plan, err := readPlan(filepath.Join(out, planName)); err == nil && plan != nil && plan.Shard != nil {
		return usageError(fmt.Errorf("-out %s: holds shard %s of a sweep: merge never writes into a shard; choose another -out", out, plan.Shard))
	}
	return nil
}
