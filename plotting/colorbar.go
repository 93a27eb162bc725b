package plotting

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Geometry of colour bars.
const (
	colorBarThickness = 0.22 * vg.Inch
	colorBarTick      = vg.Length(4)
	colorBarGap       = vg.Length(12) // Between the chart and the bar.
)

// colorBarTicks returns the labelled ticks of a colour bar for cmap.
func colorBarTicks(cmap palette.ColorMap) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (niceTicks{}).Ticks(cmap.Min(), cmap.Max()) {
		if t.Label != "" && t.Value >= cmap.Min() && t.Value <= cmap.Max() {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// colorBarWidth is the width the colour bar of cmap needs with its gap and tick labels.
func colorBarWidth(cmap palette.ColorMap) vg.Length {
	sty := textStyle(tickSize, draw.XLeft, draw.YCenter)
	var w vg.Length
	for _, t := range colorBarTicks(cmap) {
		w = max(w, sty.Width(t.Label))
	}
	return colorBarGap + colorBarThickness + colorBarTick + vg.Points(3) + w
}

// drawColorBar draws cmap as gonum's vertical plotter.ColorBar filling rect,
// low values at the bottom, outlined, with ticks and their labels on its right.
func drawColorBar(c draw.Canvas, rect vg.Rectangle, cmap palette.ColorMap) {
	bar := plot.New()
	bar.HideAxes()
	bar.X.Padding, bar.Y.Padding = 0, 0
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true, Colors: 256})
	bar.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: rect})

	line := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	c.StrokeLines(line, corners(rect))
	sty := textStyle(tickSize, draw.XLeft, draw.YCenter)
	for _, t := range colorBarTicks(cmap) {
		y := rect.Min.Y + vg.Length((t.Value-cmap.Min())/(cmap.Max()-cmap.Min()))*(rect.Max.Y-rect.Min.Y)
		c.StrokeLine2(line, rect.Max.X, y, rect.Max.X+colorBarTick, y)
		c.FillText(sty, vg.Point{X: rect.Max.X + colorBarTick + vg.Points(2), Y: y}, t.Label)
	}
}
