package plotting

import (
	"fmt"
	"strings"

	"gonum.org/v1/plot/vg"
)

// Heatmap draws a grid of values, e.g. test accuracy per hidden size and
// learning rate. Rows are labelled by rowLabels along the y axis, named
// yName, with the first row at the top; columns by colLabels along the x
// axis, named xName. values is [len(rowLabels)][len(colLabels)].
//
// Each cell is coloured by its value on the viridis palette (perceptually
// ordered; a colour bar on the right gives the scale) and annotated with
// the value formatted with cellFormat (e.g. "%.3f"; empty: "%.3g"). Cells
// where marked[r][c] is true get a red outline, e.g. to show the original
// assignment's seven experiments; marked may be nil. NaN cells are grey and
// left blank.
func Heatmap(values [][]float64, marked [][]bool, rowLabels, colLabels []string,
	xName, yName, title, cellFormat string, format Format) ([]byte, error) {
	if cellFormat == "" {
		cellFormat = "%.3g"
	}
	if s := fmt.Sprintf(cellFormat, 0.5); strings.Contains(s, "%!") {
		return nil, fmt.Errorf("plotting: cell format %q does not format a float64: gives %q", cellFormat, s)
	}
	g := &cellGrid{
		values: values, marked: marked,
		rowLabels: rowLabels, colLabels: colLabels,
		xName: xName, yName: yName, title: title,
		label: func(v float64) string { return fmt.Sprintf(cellFormat, v) },
		stops: viridisStops,
		cellW: 0.85 * vg.Inch, cellH: 0.5 * vg.Inch,
	}
	b, err := g.draw(format)
	if err != nil {
		return nil, fmt.Errorf("heat map %q: %w", title, err)
	}
	return b, nil
}
