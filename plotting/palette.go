package plotting

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
)

// Colour ramps, as evenly spaced stops from low to high values.
var (
	// viridisStops are matplotlib's viridis: perceptually uniform, readable in grey and by colour-blind readers.
	viridisStops = []color.RGBA{
		{0x44, 0x01, 0x54, 0xff}, {0x47, 0x2c, 0x7a, 0xff}, {0x3b, 0x51, 0x8b, 0xff},
		{0x2c, 0x71, 0x8e, 0xff}, {0x21, 0x90, 0x8d, 0xff}, {0x27, 0xad, 0x81, 0xff},
		{0x5c, 0xc8, 0x63, 0xff}, {0xaa, 0xdc, 0x32, 0xff}, {0xfd, 0xe7, 0x25, 0xff},
	}
	// bluesStops are ColorBrewer's sequential "Blues", white to dark blue.
	bluesStops = []color.RGBA{
		{0xf7, 0xfb, 0xff, 0xff}, {0xde, 0xeb, 0xf7, 0xff}, {0xc6, 0xdb, 0xef, 0xff},
		{0x9e, 0xca, 0xe1, 0xff}, {0x6b, 0xae, 0xd6, 0xff}, {0x42, 0x92, 0xc6, 0xff},
		{0x21, 0x71, 0xb5, 0xff}, {0x08, 0x51, 0x9c, 0xff}, {0x08, 0x30, 0x6b, 0xff},
	}
)

// nanColor fills cells without a value.
var nanColor = color.RGBA{0xd9, 0xd9, 0xd9, 0xff}

// ramp is a palette.ColorMap that interpolates linearly between evenly spaced colour stops.
type ramp struct {
	stops    []color.RGBA
	min, max float64
	alpha    float64
}

var _ palette.ColorMap = (*ramp)(nil)

// newRamp returns a ramp over [lo, hi] (widened if lo == hi).
func newRamp(stops []color.RGBA, lo, hi float64) *ramp {
	if !(lo < hi) {
		lo, hi = widen(lo)
	}
	return &ramp{stops: stops, min: lo, max: hi, alpha: 1}
}

// widen returns a small range around v, for data whose values are all equal.
func widen(v float64) (lo, hi float64) {
	d := math.Abs(v) * 0.01
	if d == 0 {
		d = 0.5
	}
	return v - d, v + d
}

// At implements palette.ColorMap.
func (r *ramp) At(v float64) (color.Color, error) {
	if math.IsNaN(v) || v < r.min || v > r.max {
		return nil, fmt.Errorf("plotting: value %g outside the colour range [%g, %g]", v, r.min, r.max)
	}
	t := (v - r.min) / (r.max - r.min) * float64(len(r.stops)-1)
	i := min(int(t), len(r.stops)-2)
	f := t - float64(i)
	a, b := r.stops[i], r.stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round((float64(x)*(1-f) + float64(y)*f) * r.alpha)) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), uint8(math.Round(255 * r.alpha))}, nil
}

// clamped returns the colour of v, clamped to the ramp's range.
func (r *ramp) clamped(v float64) color.Color {
	c, _ := r.At(math.Max(r.min, math.Min(r.max, v)))
	return c
}

// Max implements palette.ColorMap.
func (r *ramp) Max() float64 { return r.max }

// SetMax implements palette.ColorMap.
func (r *ramp) SetMax(v float64) { r.max = v }

// Min implements palette.ColorMap.
func (r *ramp) Min() float64 { return r.min }

// SetMin implements palette.ColorMap.
func (r *ramp) SetMin(v float64) { r.min = v }

// Alpha implements palette.ColorMap.
func (r *ramp) Alpha() float64 { return r.alpha }

// SetAlpha implements palette.ColorMap.
func (r *ramp) SetAlpha(a float64) { r.alpha = math.Max(0, math.Min(1, a)) }

// Palette implements palette.ColorMap.
func (r *ramp) Palette(n int) palette.Palette {
	cols := make(colors, max(n, 2))
	for i := range cols {
		cols[i] = r.clamped(r.min + (r.max-r.min)*float64(i)/float64(len(cols)-1))
	}
	return cols
}

// colors is a palette.Palette.
type colors []color.Color

// Colors implements palette.Palette.
func (c colors) Colors() []color.Color { return c }

// luminance returns the relative luminance of c, 0 (black) to 1 (white).
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
