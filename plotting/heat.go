package plotting

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mnistfc/mnistfc/internal/finite"
)

// cellGrid is a chart of coloured, annotated cells, the common part of
// Heatmap and ConfusionMatrix.
type cellGrid struct {
	values               [][]float64 // [row][column]; row 0 is drawn at the top.
	marked               [][]bool    // nil, or the shape of values.
	rowLabels, colLabels []string
	xName, yName, title  string
	label                func(v float64) string // Annotation of a cell with a value.
	stops                []color.Color          // Control colours of the colour map, low to high.
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
			if finite.Is(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

// draw renders the grid in format: the cells are a gonum plotter.HeatMap on
// the grid's colour map, annotated by a plotter.Labels, with a
// plotter.ColorBar on the right.
func (g *cellGrid) draw(format Format) ([]byte, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	rows, cols := len(g.rowLabels), len(g.colLabels)
	lo, hi := g.valueRange()
	cmap, err := newColorMap(g.stops, lo, hi)
	if err != nil {
		return nil, err
	}

	p := newPlot("", g.xName, g.yName)
	heat := plotter.NewHeatMap(gridXYZ{g}, cmap.Palette(256))
	heat.Min, heat.Max = cmap.Min(), cmap.Max()
	heat.NaN = nanColor
	heat.Underflow, heat.Overflow = colorAt(cmap, heat.Min), colorAt(cmap, heat.Max) // ±Inf.
	p.Add(heat, &cellLines{g: g})
	labels, styles := g.labels(cmap)
	p.Add(labels)
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
		main := draw.Crop(c, 0, -colorBarWidth(cmap), 0, 0)
		data := p.DataCanvas(main)
		// Annotations that do not fit their cell are made smaller.
		cellW := data.Size().X / vg.Length(cols)
		for i, txt := range labels.Labels {
			if w := styles[i].Width(txt); w > 0.92*cellW {
				labels.TextStyle[i].Font.Size = styles[i].Font.Size * 0.92 * cellW / w
			}
		}
		p.Draw(main)
		bar := data.Rectangle
		bar.Min.X = data.Max.X + colorBarGap
		bar.Max.X = bar.Min.X + colorBarThickness
		drawColorBar(c, bar, cmap)
		return nil
	})
}

// gridXYZ shows a grid's values as a plotter.GridXYZ: column c is at x = c,
// and row r at y = rows-1-r (the first row on top).
type gridXYZ struct{ g *cellGrid }

func (v gridXYZ) Dims() (c, r int)   { return len(v.g.colLabels), len(v.g.rowLabels) }
func (v gridXYZ) Z(c, r int) float64 { return v.g.values[len(v.g.rowLabels)-1-r][c] }
func (v gridXYZ) X(c int) float64    { return float64(c) }
func (v gridXYZ) Y(r int) float64    { return float64(r) }

// labels returns the annotations of the cells with a value, white on dark
// cells, and their styles at full size.
func (g *cellGrid) labels(cmap palette.ColorMap) (*plotter.Labels, []text.Style) {
	var xyl plotter.XYLabels
	var styles []text.Style
	rows := len(g.rowLabels)
	for r, row := range g.values {
		for c, v := range row {
			if math.IsNaN(v) {
				continue
			}
			xyl.XYs = append(xyl.XYs, plotter.XY{X: float64(c), Y: float64(rows - 1 - r)})
			xyl.Labels = append(xyl.Labels, g.label(v))
			sty := textStyle(cellSize, draw.XCenter, draw.YCenter)
			if luminance(colorAt(cmap, v)) < 0.4 {
				sty.Color = color.White
			}
			styles = append(styles, sty)
		}
	}
	labels, _ := plotter.NewLabels(xyl) // Lengths match by construction.
	copy(labels.TextStyle, styles)
	return labels, styles
}

// cellLines draws white lines between the cells of a grid and a red outline
// inside the marked ones.
type cellLines struct{ g *cellGrid }

// Plot implements plot.Plotter.
func (cl *cellLines) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	rows := len(cl.g.rowLabels)
	rect := func(r, col int, inset vg.Length) vg.Rectangle {
		y := float64(rows - 1 - r)
		return vg.Rectangle{
			Min: vg.Point{X: trX(float64(col)-0.5) + inset, Y: trY(y-0.5) + inset},
			Max: vg.Point{X: trX(float64(col)+0.5) - inset, Y: trY(y+0.5) - inset},
		}
	}
	sep := draw.LineStyle{Color: color.White, Width: vg.Points(1)}
	for r, row := range cl.g.values {
		for col := range row {
			c.StrokeLines(sep, corners(rect(r, col, 0)))
		}
	}
	mark := draw.LineStyle{Color: markColor, Width: markWidth}
	for r, row := range cl.g.marked {
		for col, m := range row {
			if m {
				c.StrokeLines(mark, corners(rect(r, col, markWidth/2)))
			}
		}
	}
}

// corners returns the closed outline of r.
func corners(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min}
}
