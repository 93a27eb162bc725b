package plotting

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// cellGrid is a chart of coloured, annotated cells, the common part of
// Heatmap and ConfusionMatrix.
type cellGrid struct {
	values               [][]float64 // [row][column]; row 0 is drawn at the top.
	marked               [][]bool    // nil, or the shape of values.
	rowLabels, colLabels []string
	xName, yName, title  string
	label                func(v float64) string // Annotation of a cell with a value.
	stops                []color.RGBA           // Colour ramp, low to high.
	cellW, cellH         vg.Length              // Preferred size of a cell.
}

// Outline of marked cells.
var (
	markColor = color.RGBA{0xe4, 0x1a, 0x1c, 0xff}
	markWidth = vg.Points(2)
)

// check returns an error if the grid's slices do not have matching shapes.
func (g *cellGrid) check() error {
	rows, cols := len(g.rowLabels), len(g.colLabels)
	if rows == 0 || cols == 0 {
		return fmt.Errorf("plotting: empty grid: %d row labels and %d column labels", rows, cols)
	}
	if len(g.values) != rows {
		return fmt.Errorf("plotting: %d rows of values for %d row labels", len(g.values), rows)
	}
	for r, row := range g.values {
		if len(row) != cols {
			return fmt.Errorf("plotting: row %d has %d values for %d column labels", r, len(row), cols)
		}
	}
	if g.marked != nil {
		if len(g.marked) != rows {
			return fmt.Errorf("plotting: %d rows of marks for %d rows of values", len(g.marked), rows)
		}
		for r, row := range g.marked {
			if len(row) != cols {
				return fmt.Errorf("plotting: row %d has %d marks for %d columns", r, len(row), cols)
			}
		}
	}
	return nil
}

// valueRange returns the smallest and largest finite values, or (0, 1) if there are none.
func (g *cellGrid) valueRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range g.values {
		for _, v := range row {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

// draw renders the grid in format.
func (g *cellGrid) draw(format Format) ([]byte, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	rows, cols := len(g.rowLabels), len(g.colLabels)
	lo, hi := g.valueRange()
	cmap := newRamp(g.stops, lo, hi)

	p := newPlot("", g.xName, g.yName)
	p.Add(&cellPlotter{g: g, cmap: cmap})
	p.NominalX(g.colLabels...)
	ylabels := make([]string, rows)
	for r, l := range g.rowLabels {
		ylabels[rows-1-r] = l
	}
	p.NominalY(ylabels...)
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Tick.Label.YAlign = draw.YTop
	p.Y.Tick.Label.YAlign = -0.62 // gonum/plot draws vertical tick labels a little above their tick.
	p.X.Label.Padding, p.Y.Label.Padding = vg.Points(4), vg.Points(4)

	width := max(5.5*vg.Inch, 1.9*vg.Inch+vg.Length(cols)*g.cellW)
	height := max(3.5*vg.Inch, 1.3*vg.Inch+vg.Length(rows)*g.cellH)
	return render(format, width, height, func(c draw.Canvas) error {
		c = drawTitle(c, g.title)
		c = draw.Crop(c, vg.Points(6), -vg.Points(6), vg.Points(4), -vg.Points(4))
		barWidth := colorBarWidth(cmap)
		main := draw.Crop(c, 0, -barWidth, 0, 0)
		p.Draw(main)
		data := p.DataCanvas(main)
		bar := data.Rectangle
		bar.Min.X = data.Max.X + colorBarGap
		bar.Max.X = bar.Min.X + colorBarThickness
		drawColorBar(c, bar, cmap)
		return nil
	})
}

// cellPlotter draws the cells of a grid as a plot.Plotter: cell (r, c) is
// centred on x = c, y = rows-1-r.
type cellPlotter struct {
	g    *cellGrid
	cmap *ramp
}

// DataRange implements plot.DataRanger.
func (cp *cellPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(cp.g.colLabels)) - 0.5, -0.5, float64(len(cp.g.rowLabels)) - 0.5
}

// Plot implements plot.Plotter.
func (cp *cellPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	rows := len(cp.g.rowLabels)
	rect := func(r, col int) vg.Rectangle {
		y := float64(rows - 1 - r)
		return vg.Rectangle{
			Min: vg.Point{X: trX(float64(col) - 0.5), Y: trY(y - 0.5)},
			Max: vg.Point{X: trX(float64(col) + 0.5), Y: trY(y + 0.5)},
		}
	}
	sep := draw.LineStyle{Color: color.White, Width: vg.Points(1)}
	for r, row := range cp.g.values {
		for col, v := range row {
			box := rect(r, col)
			fill := color.Color(nanColor)
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				fill = cp.cmap.clamped(v)
			}
			c.SetColor(fill)
			c.Fill(box.Path())
			c.StrokeLines(sep, corners(box))
			if math.IsNaN(v) {
				continue
			}
			txt := cp.g.label(v)
			sty := textStyle(cellSize, draw.XCenter, draw.YCenter)
			if w := sty.Width(txt); w > 0.92*box.Size().X {
				sty.Font.Size = sty.Font.Size * 0.92 * box.Size().X / w
			}
			if luminance(fill) < 0.4 {
				sty.Color = color.White
			}
			c.FillText(sty, vg.Point{X: (box.Min.X + box.Max.X) / 2, Y: (box.Min.Y + box.Max.Y) / 2}, txt)
		}
	}
	mark := draw.LineStyle{Color: markColor, Width: markWidth}
	for r, row := range cp.g.marked {
		for col, m := range row {
			if !m {
				continue
			}
			box := rect(r, col)
			in := markWidth / 2
			box.Min.X, box.Min.Y, box.Max.X, box.Max.Y = box.Min.X+in, box.Min.Y+in, box.Max.X-in, box.Max.Y-in
			c.StrokeLines(mark, corners(box))
		}
	}
}

// corners returns the closed outline of r.
func corners(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min}
}
