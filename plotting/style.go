package plotting

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sans is the typeface of every chart: Liberation Sans, embedded in gonum/plot.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Font sizes of the charts.
const (
	titleSize = 13
	labelSize = 11
	tickSize  = 9.5
	cellSize  = 10
)

// lineColors are the colours of successive runs (matplotlib's "tab10").
var lineColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, // Blue.
	color.RGBA{0xff, 0x7f, 0x0e, 0xff}, // Orange.
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, // Green.
	color.RGBA{0xd6, 0x27, 0x28, 0xff}, // Red.
	color.RGBA{0x94, 0x67, 0xbd, 0xff}, // Purple.
	color.RGBA{0x8c, 0x56, 0x4b, 0xff}, // Brown.
	color.RGBA{0xe3, 0x77, 0xc2, 0xff}, // Pink.
	color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, // Grey.
	color.RGBA{0xbc, 0xbd, 0x22, 0xff}, // Olive.
	color.RGBA{0x17, 0xbe, 0xcf, 0xff}, // Cyan.
}

// lineColor returns the colour of run i.
func lineColor(i int) color.Color { return lineColors[i%len(lineColors)] }

// textStyle returns a black text style of the chart typeface.
func textStyle(size vg.Length, xAlign draw.XAlignment, yAlign draw.YAlignment) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(sans, size),
		XAlign:  xAlign,
		YAlign:  yAlign,
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot with the package's fonts and the given title and axis names.
func newPlot(title, xName, yName string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, titleSize)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
	}
	p.X.Label.Text, p.Y.Label.Text = xName, yName
	p.Legend.TextStyle.Font = font.From(sans, tickSize)
	return p
}

// drawTitle writes title centred at the top of c and returns the rest of c
// below it; an empty title leaves c as it is.
func drawTitle(c draw.Canvas, title string) draw.Canvas {
	if title == "" {
		return c
	}
	sty := textStyle(titleSize+1, draw.XCenter, draw.YTop)
	pad := vg.Points(6)
	c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y - pad}, title)
	return draw.Crop(c, 0, 0, 0, -(sty.Rectangle(title).Size().Y + 2*pad))
}
