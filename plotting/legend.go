package plotting

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// legendInset is the gap between a legend and the edges of the data area.
const legendInset = vg.Length(4)

// placeLegend puts p's legend in the corner of the data area, drawn on c,
// that the lines cross least; if every corner is crossed, it widens the y
// range so that the legend sits above (or below) all the lines.
func placeLegend(p *plot.Plot, c draw.Canvas, lines []plotter.XYs) {
	p.Legend.Padding = vg.Points(1)
	p.Legend.ThumbnailWidth = vg.Points(24)
	dc := p.DataCanvas(c) // Also settles the axis ranges.
	size := p.Legend.Rectangle(draw.Canvas{}).Size()
	dcSize := dc.Size()
	if dcSize.X <= 0 || dcSize.Y <= 0 {
		return
	}
	wf := float64(size.X+2*legendInset) / float64(dcSize.X)
	hf := float64(size.Y+2*legendInset) / float64(dcSize.Y)
	if wf >= 1 || hf >= 0.8 {
		return // Too big to place well; keep the default corner.
	}
	x0, x1, y0, y1 := p.X.Min, p.X.Max, p.Y.Min, p.Y.Max
	dx, dy := x1-x0, y1-y0
	type corner struct{ top, left bool }
	best, bestCount := corner{top: true}, -1
	for _, k := range []corner{{true, false}, {false, false}, {true, true}, {false, true}} {
		xa, xb := x1-wf*dx, x1
		if k.left {
			xa, xb = x0, x0+wf*dx
		}
		ya, yb := y1-hf*dy, y1
		if !k.top {
			ya, yb = y0, y0+hf*dy
		}
		n := 0
		forSamples(lines, func(x, y float64) {
			if x >= xa && x <= xb && y >= ya && y <= yb {
				n++
			}
		})
		if bestCount < 0 || n < bestCount {
			best, bestCount = k, n
		}
	}
	if bestCount > 0 && dy > 0 {
		// Make room: the legend takes hf·1.1 of the new range, outside the old one.
		grow := dy / (1 - 1.1*hf)
		if best.top {
			p.Y.Max = y0 + grow
		} else {
			p.Y.Min = y1 - grow
		}
	}
	p.Legend.Top, p.Legend.Left = best.top, best.left
	p.Legend.XOffs, p.Legend.YOffs = -legendInset, -legendInset
	if best.left {
		p.Legend.XOffs = legendInset
	}
	if !best.top {
		p.Legend.YOffs = legendInset
	}
}

// forSamples calls fn on the points of every line and on 16 points along each of its segments.
func forSamples(lines []plotter.XYs, fn func(x, y float64)) {
	const steps = 16
	for _, l := range lines {
		for i, pt := range l {
			fn(pt.X, pt.Y)
			if i == 0 {
				continue
			}
			prev := l[i-1]
			for s := 1; s < steps; s++ {
				t := float64(s) / steps
				fn(prev.X+t*(pt.X-prev.X), prev.Y+t*(pt.Y-prev.Y))
			}
		}
	}
}
