package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	parallel := fs.Int("parallel", 1, "runs trained at the same time (0: one per CPU core); the pure-Go backend already spreads each run over all cores, and there one run at a time measured fastest")
	out := fs.String("out", "", "if set, folder for results.json, results.csv and (for a grid) heatmap.png")
	asJSON := fs.Bool("json", false, "print one JSON object per run, one per line")
	base, err := cf.parse(fs, args)
	if err != nil {
		return err
	}
	if *seeds < 1 {
		return fmt.Errorf("-seeds %d: must be at least 1", *seeds)
	}
	experiments := mnistfc.OriginalExperiments()
	grid := *hiddens != "" || *lrs != ""
	var hs []int
	var ls []float64
	if grid {
		if hs, err = parseList("-hiddens", *hiddens, "100", strconv.Atoi); err != nil {
			return err
		}
		if ls, err = parseList("-lrs", *lrs, "0.1", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }); err != nil {
			return err
		}
		for _, h := range hs {
			if h < 1 {
				return fmt.Errorf("-hiddens: hidden size %d must be at least 1", h)
			}
		}
		for _, lr := range ls {
			if !(lr > 0) {
				return fmt.Errorf("-lrs: learning rate %v must be positive", lr)
			}
		}
		experiments = mnistfc.Grid(hs, ls)
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("-out: %w", err)
		}
	}

	data, err := loadData(base, stdout)
	if err != nil {
		return err
	}
	cfgs := mnistfc.Configs(base, experiments, *seeds)
	fmt.Fprintf(stdout, "Sweep: %d runs of %d epochs, softmax %s, backend %s\n", len(cfgs), base.Epochs, base.Softmax, mnistfc.ResolveBackendName(base.Backend))
	start := now()
	finished := 0
	results, err := mnistfc.Sweep(data, cfgs, *parallel, func(i int, r *mnistfc.Result) {
		finished++
		s := r.Summary()
		if *asJSON {
			line, _ := json.Marshal(s)
			fmt.Fprintln(stdout, string(line))
		} else {
			fmt.Fprintf(stdout, "[%d/%d] hidden %d, lr %s, seed %d: test accuracy %.4f, best epoch %d (%.1f s)\n",
				finished, len(cfgs), s.Hidden, fmtLR(s.LR), s.Seed, s.TestAccuracy, s.BestEpoch, s.Seconds)
		}
	})
	if err != nil {
		return err
	}
	wall := since(start)
	runs := make([]mnistfc.RunSummary, len(results))
	for i, r := range results {
		runs[i] = r.Summary()
	}
	cells := mnistfc.Aggregate(runs)
	if !*asJSON {
		fmt.Fprintln(stdout)
		writeMarkdown(stdout, cells, *seeds)
	}
	fmt.Fprintf(os.Stderr, "sweep wall time: %.1f s for %d runs\n", wall, len(cfgs))
	if *out != "" {
		if err := writeSweep(*out, runs, cells, hs, ls, grid); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	}
	return nil
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

// writeMarkdown prints one table row per experiment.
func writeMarkdown(w io.Writer, cells []mnistfc.CellSummary, seeds int) {
	if seeds > 1 {
		fmt.Fprintf(w, "Mean ± standard deviation over %d seeds.\n\n", seeds)
	}
	fmt.Fprintln(w, "| hidden | lr | test accuracy | test loss | best val accuracy | best epoch |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		epoch := strconv.Itoa(c.BestEpochMin)
		if c.BestEpochMax != c.BestEpochMin {
			epoch += "–" + strconv.Itoa(c.BestEpochMax)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %.3f | %s |\n", c.Hidden, fmtLR(c.LR),
			fmtAcc(c.TestAccMean, c.TestAccStd), fmtLoss(c.TestLossMean, c.TestLossStd), c.BestValMean, epoch)
	}
}

// writeSweep writes results.json, results.csv and, for a grid, heatmap.png into dir.
func writeSweep(dir string, runs []mnistfc.RunSummary, cells []mnistfc.CellSummary, hs []int, ls []float64, grid bool) error {
	js, err := json.MarshalIndent(struct {
		Runs  []mnistfc.RunSummary  `json:"runs"`
		Cells []mnistfc.CellSummary `json:"cells"`
	}{runs, cells}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "results.csv"))
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"hidden", "lr", "seed", "epochs", "softmax", "best_epoch", "best_val_acc", "test_acc", "test_loss", "seconds_per_epoch"})
	for _, r := range runs {
		cw.Write([]string{strconv.Itoa(r.Hidden), fmtLR(r.LR), strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Epochs), r.Softmax.String(),
			strconv.Itoa(r.BestEpoch), fmt.Sprint(r.BestValAccuracy), fmt.Sprint(r.TestAccuracy), fmt.Sprint(r.TestLoss), fmt.Sprint(r.SecondsPerEpoch)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !grid {
		return nil
	}
	png, err := plotting.AccuracyHeatmap(cells, hs, ls, fmt.Sprintf("Test accuracy, %d epochs, softmax %s", runs[0].Epochs, runs[0].Softmax))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "heatmap.png"), png, 0o644)
}
