package plotting

import (
	"fmt"
	"strconv"

	"gonum.org/v1/plot/vg"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// Confusion counts the examples of each true class (first index) predicted
// as each class (second index): m[true][pred]. labels and preds must have
// the same length and hold classes below mnistfc.NumClasses.
func Confusion(labels, preds []uint8) ([mnistfc.NumClasses][mnistfc.NumClasses]int, error) {
	var m [mnistfc.NumClasses][mnistfc.NumClasses]int
	if len(labels) != len(preds) {
		return m, fmt.Errorf("plotting: confusion matrix of %d labels and %d predictions: want equal lengths", len(labels), len(preds))
	}
	for i, l := range labels {
		p := preds[i]
		if l >= mnistfc.NumClasses || p >= mnistfc.NumClasses {
			return m, fmt.Errorf("plotting: example %d has label %d and prediction %d: classes must be below %d",
				i, l, p, mnistfc.NumClasses)
		}
		m[l][p]++
	}
	return m, nil
}

// ConfusionMatrix draws the 10x10 confusion matrix of labels and preds as a
// heat map (rows: true class, columns: predicted class, white to dark blue),
// each cell annotated with its count, as PNG or SVG. labels and preds have
// the same length and hold classes below mnistfc.NumClasses.
func ConfusionMatrix(labels, preds []uint8, title string, format Format) ([]byte, error) {
	if err := format.check(); err != nil {
		return nil, err
	}
	m, err := Confusion(labels, preds)
	if err != nil {
		return nil, err
	}
	values := make([][]float64, mnistfc.NumClasses)
	names := make([]string, mnistfc.NumClasses)
	for t := range values {
		names[t] = strconv.Itoa(t)
		values[t] = make([]float64, mnistfc.NumClasses)
		for p, n := range m[t] {
			values[t][p] = float64(n)
		}
	}
	g := &cellGrid{
		values: values, rowLabels: names, colLabels: names,
		xName: "predicted class", yName: "true class", title: title,
		label: func(v float64) string { return strconv.Itoa(int(v)) },
		stops: bluesStops,
		cellW: 0.5 * vg.Inch, cellH: 0.42 * vg.Inch,
	}
	b, err := g.draw(format)
	if err != nil {
		return nil, fmt.Errorf("confusion matrix: %w", err)
	}
	return b, nil
}
