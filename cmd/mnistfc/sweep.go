package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/internal/shard"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/sweepdir"
)

func now() time.Time            { return time.Now() }
func since(t time.Time) float64 { return time.Since(t).Seconds() }
func fmtLR(lr float64) string   { return strconv.FormatFloat(lr, 'g', -1, 64) }

// sweepFlags are the flags of "mnistfc sweep".
type sweepFlags struct {
	fs                          *flag.FlagSet
	cf                          configFlags
	hiddens, lrs, out, shard    string
	seeds, parallel, shardCount int
	resume, asJSON              bool
	args                        []string // The flags that choose the runs.
	hs                          []int    // The grid, if any.
	ls                          []float64
}

// outputFlags are the flags that change where and how a sweep's runs are
// computed or shown, not which runs: a manifest's Args leave them out.
var outputFlags = []string{"out", "resume", "json", "shard", "shard-count"}

func newSweepFlags() *sweepFlags {
	f := &sweepFlags{fs: flag.NewFlagSet("mnistfc sweep", flag.ContinueOnError)}
	fs := f.fs
	f.cf.register(fs, false)
	fs.StringVar(&f.hiddens, "hiddens", "", "comma-separated hidden sizes of a grid (default: the original seven experiments)")
	fs.StringVar(&f.lrs, "lrs", "", "comma-separated learning rates of a grid (default: the original seven experiments)")
	fs.IntVar(&f.seeds, "seeds", 1, "runs per experiment, with seeds -seed, -seed+1, ...")
	fs.IntVar(&f.parallel, "parallel", 2, "runs trained at the same time (0: one per CPU core); each run takes more memory (docs/performance.md has timings)")
	fs.StringVar(&f.out, "out", "", "if set, a run store: each run is kept there as it finishes (the notebooks' runs folder is the same kind), with sweep.json (the sweep's runs) and at the end results.json, results.csv and (for a grid) heatmap.png")
	fs.BoolVar(&f.resume, "resume", false, "finish the sweep of -out: skip the runs it already holds (the same settings and backend)")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object per run, one per line")
	fs.StringVar(&f.shard, "shard", "", `run only shard i of n of the sweep: "i/n" (from 1), or "auto" for the task of a Slurm job array or the pod of a Kubernetes Indexed Job; "mnistfc merge" puts the shards' -out folders together`)
	fs.IntVar(&f.shardCount, "shard-count", 0, "with -shard auto: the number of shards where the environment does not say it (a Kubernetes Indexed Job's completions; default $"+shard.CountEnv+")")
	return f
}

// plan parses args and returns the sweep's configurations; it sets f.args
// (the flags a manifest records) and the grid.
func (f *sweepFlags) plan(args []string) ([]mnistfc.Config, error) {
	base, err := f.cf.parse(f.fs, args)
	if err != nil {
		return nil, err
	}
	if f.seeds < 1 {
		return nil, usageError(fmt.Errorf("-seeds %d: must be at least 1", f.seeds))
	}
	if f.resume && f.out == "" {
		return nil, usageError(errors.New("-resume: needs the -out of the sweep to finish"))
	}
	experiments := mnistfc.OriginalExperiments()
	if f.hs, f.ls, err = sweepdir.ParseGrid(f.hiddens, f.lrs); err != nil {
		return nil, usageError(err)
	}
	if f.hs != nil {
		experiments = mnistfc.Grid(f.hs, f.ls)
	}
	f.fs.Visit(func(fl *flag.Flag) {
		if !slices.Contains(outputFlags, fl.Name) {
			if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				f.args = append(f.args, "-"+fl.Name+"="+fl.Value.String())
			} else {
				f.args = append(f.args, "-"+fl.Name, fl.Value.String())
			}
		}
	})
	return mnistfc.Configs(base, experiments, f.seeds), nil
}

// lookupEnv is os.LookupEnv; tests give the shard flags their own.
var lookupEnv = os.LookupEnv

// pickShard returns the shard that -shard and -shard-count name (nil for
// none) and the indices in cfgs of its runs (all of them for none), and
// says on stderr which shard it is and where it came from.
func (f *sweepFlags) pickShard(cfgs []mnistfc.Config) (*sweepdir.Shard, []int, error) {
	if f.shard == "" {
		if f.shardCount != 0 {
			return nil, nil, usageError(fmt.Errorf("-shard-count %d: only with -shard auto", f.shardCount))
		}
		all := make([]int, len(cfgs))
		for i := range all {
			all[i] = i
		}
		return nil, all, nil
	}
	s, err := shard.Parse(f.shard, f.shardCount, lookupEnv)
	if err != nil {
		return nil, nil, usageError(err)
	}
	mine := mnistfc.Shard(cfgs, s.Index, s.Count)
	fmt.Fprintf(os.Stderr, "mnistfc: shard %s (from %s): %d of the sweep's %d runs, %.1f%% of its cost\n", s, s.From, len(mine), len(cfgs), 100*mnistfc.ShardCost(cfgs, mine))
	if len(mine) == 0 {
		fmt.Fprintf(os.Stderr, "mnistfc: shard %s has no runs: the sweep has %d runs for %d shards\n", s, len(cfgs), s.Count)
	}
	sh := &sweepdir.Shard{Index: s.Index, Count: s.Count, Runs: []int{}}
	for _, i := range mine {
		sh.Runs = append(sh.Runs, i+1)
	}
	return sh, mine, nil
}

func runSweep(args []string, stdout io.Writer) error {
	f := newSweepFlags()
	cfgs, err := f.plan(args)
	if err != nil {
		return err
	}
	sh, mine, err := f.pickShard(cfgs)
	if err != nil {
		return err
	}
	base := cfgs[0]
	opts := []mnistfc.Option{mnistfc.Parallel(f.parallel)}
	if f.out != "" { // -out is a run store: each run is kept as it ends.
		m, err := sweepdir.NewManifest(f.args, cfgs, f.hs, f.ls, f.seeds)
		if err != nil {
			return err
		}
		m.Shard = sh
		store, err := sweepdir.Open(f.out, m, mine, f.resume, os.Stderr)
		if err != nil {
			return asUsage(err)
		}
		keep := mnistfc.Keep
		if f.resume {
			keep = mnistfc.Resume
		}
		opts = append(opts, keep(store))
	}
	what := fmt.Sprintf("%d runs", len(cfgs))
	if sh != nil {
		what = fmt.Sprintf("shard %s, %d of %d runs,", sh, len(mine), len(cfgs))
	}
	fmt.Fprintf(stdout, "Sweep: %s of %d epochs, softmax %s, backend %s\n", what, base.Epochs, base.Softmax, backends.Label(base.Backend))
	ctx, stop := onInterrupt("finishing the runs in flight, keeping them, then stopping")
	defer stop()
	data, err := loadData(base, stdout)
	if err != nil {
		return err
	}
	todo := make([]mnistfc.Config, len(mine))
	for k, i := range mine {
		todo[k] = cfgs[i]
	}
	var diverged []string
	finished, trained := 0, 0 // Kept from earlier or trained; trained.
	opts = append(opts, mnistfc.OnPlan(func(p mnistfc.SweepPlan) {
		for _, err := range p.Damaged {
			fmt.Fprintf(os.Stderr, "mnistfc: %v: training this run again\n", err)
		}
		finished = len(p.Kept)
		if f.resume {
			fmt.Fprintf(stdout, "Resuming %s: skipped %d run(s) already in it, %d to run\n", f.out, len(p.Kept), len(p.Train))
		}
	}), mnistfc.OnRun(func(_ int, r *mnistfc.Result) {
		s := r.Summary()
		finished, trained = finished+1, trained+1
		if r.Diverged {
			diverged = append(diverged, fmt.Sprintf("run hidden %d, lr %s, seed %d: %s", s.Hidden, fmtLR(s.LR), s.Seed, r.Divergence()))
		}
		if f.asJSON {
			line, _ := jsonfinite.Marshal(s)
			fmt.Fprintln(stdout, string(line))
			return
		}
		outcome := fmt.Sprintf("test accuracy %.4f, best epoch %d", s.TestAccuracy, s.BestEpoch)
		switch {
		case r.Diverged && !s.Tested:
			outcome = r.Divergence() + ", no model to test"
		case r.Diverged:
			outcome = r.Divergence() + "; " + outcome
		}
		fmt.Fprintf(stdout, "[%d/%d] hidden %d, lr %s, seed %d: %s (%.1f s)\n", finished, len(mine), s.Hidden, fmtLR(s.LR), s.Seed, outcome, s.Seconds)
	}))
	start := now()
	results, err := mnistfc.Sweep(ctx, data, todo, opts...)
	wall := since(start)
	for _, d := range diverged {
		fmt.Fprintf(os.Stderr, "mnistfc: %s\n", d)
	}
	var runs []mnistfc.RunSummary // In the order of cfgs.
	nDiverged := 0
	for _, r := range results {
		if r != nil {
			runs = append(runs, r.Summary())
			if r.Diverged {
				nDiverged++
			}
		}
	}
	cells := mnistfc.Aggregate(runs)
	if err != nil {
		note := ""
		if f.out != "" {
			note = fmt.Sprintf("; the finished runs are kept in %s, and the same command with -resume runs the rest", f.out)
		}
		if len(runs) > 0 && !f.asJSON {
			fmt.Fprintf(stdout, "\nPartial results: %d of %d runs.\n\n", len(runs), len(mine))
			sweepdir.WriteTable(stdout, cells, f.seeds)
		}
		if errors.Is(err, mnistfc.ErrSweepStopped) && errors.Is(err, errInterrupted) {
			return withStatus(exitInterrupted, fmt.Errorf("sweep interrupted after %d of %d runs%s", len(runs), len(mine), note))
		}
		return fmt.Errorf("%w%s", err, note)
	}
	if !f.asJSON {
		fmt.Fprintln(stdout)
		sweepdir.WriteTable(stdout, cells, f.seeds)
	}
	fmt.Fprintf(os.Stderr, "sweep wall time: %.1f s for %d runs\n", wall, trained)
	if nDiverged > 0 {
		fmt.Fprintf(os.Stderr, "mnistfc: %d of %d runs diverged (shown as diverged in the table and the results)\n", nDiverged, len(runs))
	}
	if f.out != "" {
		if err := sweepdir.WriteResults(f.out, runs, cells, f.hs, f.ls); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", f.out)
	}
	return nil
}
