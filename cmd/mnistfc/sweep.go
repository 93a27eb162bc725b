package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/internal/shard"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

func now() time.Time                { return time.Now() }
func since(t time.Time) float64     { return time.Since(t).Seconds() }
func fmtLR(lr float64) string       { return strconv.FormatFloat(lr, 'g', -1, 64) }
func fmtAcc(v, std float64) string  { return fmtMeanStd(v, std, "%.4f") }
func fmtLoss(v, std float64) string { return fmtMeanStd(v, std, "%.4f") }

func fmtMeanStd(v, std float64, f string) string {
	if std == 0 {
		return fmt.Sprintf(f, v)
	}
	return fmt.Sprintf(f+" ± "+f, v, std)
}

func runSweep(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mnistfc sweep", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs, false)
	hiddens := fs.String("hiddens", "", "comma-separated hidden sizes of a grid (default: the original seven experiments)")
	lrs := fs.String("lrs", "", "comma-separated learning rates of a grid (default: the original seven experiments)")
	seeds := fs.Int("seeds", 1, "runs per experiment, with seeds -seed, -seed+1, ...")
	parallel := fs.Int("parallel", 2, "runs trained at the same time (0: one per CPU core); two at a time measured 1.4-1.5x faster than one on 2 cores, on go and on xla:cpu (each run takes more memory)")
	out := fs.String("out", "", "if set, folder for results.jsonl (each run as it finishes), sweep.json (the sweep's settings), and at the end results.json, results.csv and (for a grid) heatmap.png")
	resume := fs.Bool("resume", false, "finish the sweep of -out: skip the runs already in its results.jsonl (same flags required; -backend, -parallel and -json may differ)")
	asJSON := fs.Bool("json", false, "print one JSON object per run, one per line")
	shardFlag := fs.String("shard", "", `run only shard i of n of the sweep: "i/n" (from 1), or "auto" for the task of a Slurm job array or the pod of a Kubernetes Indexed Job; "mnistfc merge" puts the shards' -out folders together`)
	shardCount := fs.Int("shard-count", 0, "with -shard auto: the number of shards where the environment does not say it (a Kubernetes Indexed Job's completions; default $"+shard.CountEnv+")")
	base, err := cf.parse(fs, args)
	if err != nil {
		return err
	}
	if *seeds < 1 {
		return usageError(fmt.Errorf("-seeds %d: must be at least 1", *seeds))
	}
	if *resume && *out == "" {
		return usageError(errors.New("-resume: needs the -out of the sweep to finish"))
	}
	experiments := mnistfc.OriginalExperiments()
	hs, ls, err := parseGrid(*hiddens, *lrs)
	if err != nil {
		return usageError(err)
	}
	if hs != nil {
		experiments = mnistfc.Grid(hs, ls)
	}
	cfgs := mnistfc.Configs(base, experiments, *seeds)
	sh, mine, err := pickShard(*shardFlag, *shardCount, cfgs)
	if err != nil {
		return usageError(err)
	}
	total := len(mine) // Runs of this sweep, or of its shard.

	// With -out, every finished run is appended to results.jsonl at once.
	var state *sweepState
	done := map[int]mnistfc.RunSummary{}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("-out: %w", err)
		}
		plan := newSweepPlan(fs, hs, ls, cfgs)
		if sh != nil {
			plan.Shard = newPlanShard(fs, *sh, mine)
		}
		if state, done, err = openSweep(*out, plan, cfgs, *resume); err != nil {
			return err
		}
		defer state.close()
	}
	what := fmt.Sprintf("%d runs", len(cfgs))
	if sh != nil {
		what = fmt.Sprintf("shard %s, %d of %d runs,", sh, total, len(cfgs))
	}
	fmt.Fprintf(stdout, "Sweep: %s of %d epochs, softmax %s, backend %s\n", what, base.Epochs, base.Softmax, backends.Label(base.Backend))
	if *resume {
		fmt.Fprintf(stdout, "Resuming %s: skipped %d run(s) already in %s, %d to run\n", *out, len(done), filepath.Join(*out, jsonlName), total-len(done))
	}
	var todo []int // Indices in cfgs of the runs to train.
	for _, i := range mine {
		if _, ok := done[i]; !ok {
			todo = append(todo, i)
		}
	}

	ctx, stop := onInterrupt("finishing the runs in flight, keeping them, then stopping")
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx) // Also cancelled when results.jsonl cannot be written.
	defer cancel(nil)
	start := now()
	if len(todo) > 0 {
		data, err := loadData(base, stdout)
		if err != nil {
			return err
		}
		todoCfgs := make([]mnistfc.Config, len(todo))
		for k, i := range todo {
			todoCfgs[k] = cfgs[i]
		}
		var diverged []string
		_, err = mnistfc.Sweep(ctx, data, todoCfgs, mnistfc.Parallel(*parallel), mnistfc.OnRun(func(k int, r *mnistfc.Result) {
			i := todo[k]
			s := r.Summary()
			if state != nil {
				if err := state.add(i, s); err != nil {
					fmt.Fprintf(os.Stderr, "mnistfc: %v: stopping after the runs in flight\n", err)
					cancel(err)
				}
			}
			done[i] = s
			if r.Diverged {
				diverged = append(diverged, fmt.Sprintf("run hidden %d, lr %s, seed %d: %s", s.Hidden, fmtLR(s.LR), s.Seed, divergence(r)))
			}
			if *asJSON {
				line, _ := jsonfinite.Marshal(s)
				fmt.Fprintln(stdout, string(line))
				return
			}
			outcome := fmt.Sprintf("test accuracy %.4f, best epoch %d", s.TestAccuracy, s.BestEpoch)
			switch {
			case r.Diverged && !s.Tested:
				outcome = divergence(r) + ", no model to test"
			case r.Diverged:
				outcome = divergence(r) + "; " + outcome
			}
			fmt.Fprintf(stdout, "[%d/%d] hidden %d, lr %s, seed %d: %s (%.1f s)\n",
				len(done), total, s.Hidden, fmtLR(s.LR), s.Seed, outcome, s.Seconds)
		}))
		for _, d := range diverged {
			fmt.Fprintf(os.Stderr, "mnistfc: %s\n", d)
		}
		if err != nil {
			kept := ""
			if state != nil {
				kept = fmt.Sprintf("; %d finished run(s) are kept in %s, and the same command with -resume runs the rest", state.kept, state.jsonl)
			}
			if len(done) > 0 && !*asJSON {
				fmt.Fprintf(stdout, "\nPartial results: %d of %d runs.\n\n", len(done), total)
				writeMarkdown(stdout, mnistfc.Aggregate(inOrder(done, len(cfgs))), *seeds)
			}
			switch cause := context.Cause(ctx); {
			case errors.Is(err, mnistfc.ErrSweepStopped) && errors.Is(cause, errInterrupted):
				return withStatus(exitInterrupted, fmt.Errorf("sweep interrupted after %d of %d runs%s", len(done), total, kept))
			case errors.Is(err, mnistfc.ErrSweepStopped):
				return fmt.Errorf("sweep stopped after %d of %d runs: %w%s", len(done), total, cause, kept)
			}
			return fmt.Errorf("%w%s", err, kept)
		}
	}
	wall := since(start)
	runs := inOrder(done, len(cfgs))
	cells := mnistfc.Aggregate(runs)
	if !*asJSON {
		fmt.Fprintln(stdout)
		writeMarkdown(stdout, cells, *seeds)
	}
	fmt.Fprintf(os.Stderr, "sweep wall time: %.1f s for %d runs\n", wall, len(todo))
	if n := countDiverged(runs); n > 0 {
		fmt.Fprintf(os.Stderr, "mnistfc: %d of %d runs diverged (shown as diverged in the table and the results)\n", n, len(runs))
	}
	if *out != "" {
		if err := writeSweep(*out, runs, cells, hs, ls); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	}
	return nil
}

// inOrder returns the summaries of done, by index, for indices 0..n-1 present.
func inOrder(done map[int]mnistfc.RunSummary, n int) []mnistfc.RunSummary {
	var runs []mnistfc.RunSummary
	for i := range n {
		if s, ok := done[i]; ok {
			runs = append(runs, s)
		}
	}
	return runs
}

func countDiverged(runs []mnistfc.RunSummary) int {
	n := 0
	for _, r := range runs {
		if r.Diverged {
			n++
		}
	}
	return n
}

// parseGrid parses -hiddens and -lrs: nil slices when both are empty (no
// grid: the original experiments), else the grid, an empty one of the two
// taking its default (hidden 100, lr 0.1).
func parseGrid(hiddens, lrs string) (hs []int, ls []float64, err error) {
	if hiddens == "" && lrs == "" {
		return nil, nil, nil
	}
	if hs, err = parseList("-hiddens", hiddens, "100", strconv.Atoi); err != nil {
		return nil, nil, err
	}
	if ls, err = parseList("-lrs", lrs, "0.1", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }); err != nil {
		return nil, nil, err
	}
	for _, h := range hs {
		if h < 1 {
			return nil, nil, fmt.Errorf("-hiddens: hidden size %d must be at least 1", h)
		}
	}
	for _, lr := range ls {
		if !(lr > 0) || math.IsInf(lr, 0) {
			return nil, nil, fmt.Errorf("-lrs: learning rate %v must be positive and finite", lr)
		}
	}
	return hs, ls, nil
}

// parseList parses a comma-separated list, or def if s is empty.
func parseList[T any](flagName, s, def string, parse func(string) (T, error)) ([]T, error) {
	if s == "" {
		s = def
	}
	var vs []T
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", flagName, f)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// writeMarkdown prints one table row per experiment. A cell whose runs
// diverged says so instead of numbers it does not have.
func writeMarkdown(w io.Writer, cells []mnistfc.CellSummary, seeds int) {
	if seeds > 1 {
		fmt.Fprintf(w, "Mean ± standard deviation over %d seeds.\n\n", seeds)
	}
	fmt.Fprintln(w, "| hidden | lr | test accuracy | test loss | best val accuracy | best epoch |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		acc, loss, val, epoch := "—", "—", "—", "—"
		if c.Tested > 0 {
			acc, loss = fmtAcc(c.TestAccMean, c.TestAccStd), fmtLoss(c.TestLossMean, c.TestLossStd)
		}
		switch {
		case c.Diverged > 0 && c.Tested == 0:
			acc = fmt.Sprintf("diverged (epoch %d)", c.DivergedEpochMin)
		case c.Diverged > 0 && c.Runs == 1:
			acc += fmt.Sprintf(" (diverged at epoch %d)", c.DivergedEpochMin)
		case c.Diverged > 0:
			acc += fmt.Sprintf(" (%d of %d runs diverged)", c.Diverged, c.Runs)
		}
		if c.BestEpochMax > 0 {
			val = fmt.Sprintf("%.3f", c.BestValMean)
			epoch = strconv.Itoa(c.BestEpochMin)
			if c.BestEpochMax != c.BestEpochMin {
				epoch += "–" + strconv.Itoa(c.BestEpochMax)
			}
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", c.Hidden, fmtLR(c.LR), acc, loss, val, epoch)
	}
}

// writeSweep writes results.json, results.csv and, for a grid (hs and ls
// not nil), heatmap.png into dir, each atomically.
func writeSweep(dir string, runs []mnistfc.RunSummary, cells []mnistfc.CellSummary, hs []int, ls []float64) error {
	js, err := jsonfinite.MarshalIndent(struct {
		Runs  []mnistfc.RunSummary  `json:"runs"`
		Cells []mnistfc.CellSummary `json:"cells"`
	}{runs, cells}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "results.json"), js); err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"hidden", "lr", "seed", "epochs", "softmax", "best_epoch", "best_val_acc", "test_acc", "test_loss", "seconds_per_epoch", "tested", "diverged", "diverged_epoch"})
	for _, r := range runs {
		cw.Write([]string{strconv.Itoa(r.Hidden), fmtLR(r.LR), strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Epochs), r.Softmax.String(),
			strconv.Itoa(r.BestEpoch), fmt.Sprint(r.BestValAccuracy), fmt.Sprint(r.TestAccuracy), fmt.Sprint(r.TestLoss), fmt.Sprint(r.SecondsPerEpoch),
			strconv.FormatBool(r.Tested), strconv.FormatBool(r.Diverged), strconv.Itoa(r.DivergedEpoch)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "results.csv"), buf.Bytes()); err != nil {
		return err
	}
	if hs == nil || len(runs) == 0 {
		return nil
	}
	png, err := plotting.AccuracyHeatmap(cells, hs, ls, fmt.Sprintf("Test accuracy, %d epochs, softmax %s", runs[0].Epochs, runs[0].Softmax))
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, "heatmap.png"), png)
}
