package sweepdir

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

// WriteResults writes the results of runs and their cells into dir, each
// file atomically: results.json, results.csv and, for a grid (hiddens and
// lrs not nil), heatmap.png.
func WriteResults(dir string, runs []mnistfc.RunSummary, cells []mnistfc.CellSummary, hiddens []int, lrs []float64) error {
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
	if hiddens == nil || len(runs) == 0 {
		return nil
	}
	png, err := plotting.AccuracyHeatmap(cells, hiddens, lrs, fmt.Sprintf("Test accuracy, %d epochs, softmax %s", runs[0].Epochs, runs[0].Softmax))
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, "heatmap.png"), png)
}

// WriteTable prints one Markdown table row per cell, with the mean and
// standard deviation over seeds when seeds > 1. A cell whose runs
// diverged says so instead of numbers it does not have.
func WriteTable(w io.Writer, cells []mnistfc.CellSummary, seeds int) {
	if seeds > 1 {
		fmt.Fprintf(w, "Mean ± standard deviation over %d seeds.\n\n", seeds)
	}
	fmt.Fprintln(w, "| hidden | lr | test accuracy | test loss | best val accuracy | best epoch |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		acc, loss, val, epoch := "—", "—", "—", "—"
		if c.Tested > 0 {
			acc, loss = meanStd(c.TestAccMean, c.TestAccStd), meanStd(c.TestLossMean, c.TestLossStd)
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

func fmtLR(lr float64) string { return strconv.FormatFloat(lr, 'g', -1, 64) }

func meanStd(v, std float64) string {
	if std == 0 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.4f ± %.4f", v, std)
}

// ParseGrid parses the command line's -hiddens and -lrs: nil slices when
// both are empty (no grid: the original experiments), else the grid, an
// empty one of the two taking its default (hidden 100, lr 0.1).
func ParseGrid(hiddens, lrs string) (hs []int, ls []float64, err error) {
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
