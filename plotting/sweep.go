package plotting

import (
	"fmt"
	"math"
	"strconv"

	"github.com/mnistfc/mnistfc/mnistfc"
	"gonum.org/v1/plot/vg"
)

// AccuracyHeatmap draws, as PNG, the mean test accuracy of a sweep's cells
// with one row per hidden size hs and one column per learning rate ls
// (Heatmap with cells formatted "%.3f"). Pairs without a cell are blank;
// a cell whose runs all diverged untested reads "diverged", in the colour
// of the lowest accuracy; the original notebook's seven experiments
// (mnistfc.IsOriginal) are outlined.
func AccuracyHeatmap(cells []mnistfc.CellSummary, hs []int, ls []float64, title string) ([]byte, error) {
	if len(hs) == 0 || len(ls) == 0 {
		return nil, fmt.Errorf("plotting: accuracy heat map of %d hidden sizes and %d learning rates: want at least one of each", len(hs), len(ls))
	}
	type key struct {
		h  int
		lr float64
	}
	acc := make(map[key]float64, len(cells))
	for _, c := range cells {
		acc[key{c.Hidden, c.LR}] = c.TestAccMean
		if c.Diverged > 0 && c.Tested == 0 {
			acc[key{c.Hidden, c.LR}] = math.Inf(-1) // Below the colour map: its lowest colour.
		}
	}
	values := make([][]float64, len(hs))
	marked := make([][]bool, len(hs))
	rowLabels := make([]string, len(hs))
	colLabels := make([]string, len(ls))
	for j, lr := range ls {
		colLabels[j] = strconv.FormatFloat(lr, 'g', -1, 64)
	}
	anyMarked := false
	for i, h := range hs {
		rowLabels[i] = strconv.Itoa(h)
		values[i] = make([]float64, len(ls))
		marked[i] = make([]bool, len(ls))
		for j, lr := range ls {
			v, ok := acc[key{h, lr}]
			if !ok {
				v = math.NaN()
			}
			values[i][j] = v
			marked[i][j] = mnistfc.IsOriginal(h, lr)
			anyMarked = anyMarked || marked[i][j]
		}
	}
	xName := "learning rate"
	if anyMarked {
		xName += "   (red outline: the original notebook's experiments)"
	}
	g := &cellGrid{
		values: values, marked: marked,
		rowLabels: rowLabels, colLabels: colLabels,
		xName: xName, yName: "hidden units", title: title,
		label: func(v float64) string {
			if math.IsInf(v, -1) {
				return "diverged"
			}
			return fmt.Sprintf("%.3f", v)
		},
		stops: viridisStops,
		cellW: 0.85 * vg.Inch, cellH: 0.5 * vg.Inch,
	}
	b, err := g.draw(PNG)
	if err != nil {
		return nil, fmt.Errorf("heat map %q: %w", title, err)
	}
	return b, nil
}
