package plotting

import (
	"image/color"

	"gonum.org/v1/plot"
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
func colorBarTicks(cmap *ramp) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (niceTicks{}).Ticks(cmap.Min(), cmap.Max()) {
		if t.Label != "" && t.Value >= cmap.Min() && t.Value <= cmap.Max() {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// colorBarWidth is the width the colour bar of cmap needs with its gap and tick labels.
func colorBarWidth(cmap *ramp) vg.Length {
	sty := textStyle(tickSize, draw.XLeft, draw.YCenter)
	var w vg.Length
	for _, t := range colorBarTicks(cmap) {
		w = max(w, sty.Width(t.Label))
	}
	return colorBarGap + colorBarThickness + colorBarTick + vg.Points(3) + w
}

// drawColorBar draws cmap as a vertical bar filling rect, low values at the
// bottom, with ticks and their labels on its right.
func drawColorBar(c draw.Canvas, rect vg.Rectangle, cmap *ramp) {
	// Bands of colour, each overlapping the next a little to leave no seams.
	const n = 128
	height := rect.Max.Y - rect.Min.Y
	for i := range n {
		v := cmap.Min() + (cmap.Max()-cmap.Min())*(float64(i)+0.5)/n
		band := rect
		band.Min.Y = rect.Min.Y + height*vg.Length(i)/n
		band.Max.Y = min(rect.Max.Y, rect.Min.Y+height*vg.Length(i+1)/n+height/(4*n))
		c.SetColor(cmap.clamped(v))
		c.Fill(band.Path())
	}
	c.StrokeLines(draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}, corners(rect))
	sty := textStyle(tickSize, draw.XLeft, draw.YCenter)
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	for _, t := range colorBarTicks(cmap) {
		y := rect.Min.Y + vg.Length((t.Value-cmap.Min())/(cmap.Max()-cmap.Min()))*(rect.Max.Y-rect.Min.Y)
		c.StrokeLine2(line, rect.Max.X, y, rect.Max.X+colorBarTick, y)
		c.FillText(sty, vg.Point{X: rect.Max.X + colorBarTick + vg.Points(2), Y: y}, t.Label)
	}
}
