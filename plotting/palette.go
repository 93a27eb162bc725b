package plotting

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
)

// Control colours of the heat maps' colour maps, from low to high values.
var (
	// viridisStops are matplotlib's viridis: perceptually uniform, readable in grey and by colour-blind readers.
	viridisStops = []color.Color{
		color.RGBA{0x44, 0x01, 0x54, 0xff}, color.RGBA{0x47, 0x2c, 0x7a, 0xff}, color.RGBA{0x3b, 0x51, 0x8b, 0xff},
		color.RGBA{0x2c, 0x71, 0x8e, 0xff}, color.RGBA{0x21, 0x90, 0x8d, 0xff}, color.RGBA{0x27, 0xad, 0x81, 0xff},
		color.RGBA{0x5c, 0xc8, 0x63, 0xff}, color.RGBA{0xaa, 0xdc, 0x32, 0xff}, color.RGBA{0xfd, 0xe7, 0x25, 0xff},
	}
	// bluesStops are ColorBrewer's sequential "Blues", white to dark blue.
	bluesStops = []color.Color{
		color.RGBA{0xf7, 0xfb, 0xff, 0xff}, color.RGBA{0xde, 0xeb, 0xf7, 0xff}, color.RGBA{0xc6, 0xdb, 0xef, 0xff},
		color.RGBA{0x9e, 0xca, 0xe1, 0xff}, color.RGBA{0x6b, 0xae, 0xd6, 0xff}, color.RGBA{0x42, 0x92, 0xc6, 0xff},
		color.RGBA{0x21, 0x71, 0xb5, 0xff}, color.RGBA{0x08, 0x51, 0x9c, 0xff}, color.RGBA{0x08, 0x30, 0x6b, 0xff},
	}
)

// nanColor fills cells without a value.
var nanColor = color.RGBA{0xd9, 0xd9, 0xd9, 0xff}

// newColorMap returns gonum's luminance colour map (moreland.NewLuminance:
// interpolation in CIE L*a*b*) through stops, over [lo, hi] (widened if
// lo == hi). The stops' luminance must rise or fall monotonically; a falling
// one (e.g. white to dark blue) is built rising and reversed (palette.Reverse).
func newColorMap(stops []color.Color, lo, hi float64) (palette.ColorMap, error) {
	falling := luminance(stops[0]) > luminance(stops[len(stops)-1])
	controls := stops
	if falling {
		controls = slices.Clone(stops)
		slices.Reverse(controls)
	}
	cmap, err := moreland.NewLuminance(controls)
	if err != nil {
		return nil, fmt.Errorf("plotting: colour map: %w", err)
	}
	if falling {
		cmap = palette.Reverse(cmap)
	}
	if !(lo < hi) {
		lo, hi = widen(lo)
	}
	cmap.SetMin(lo)
	cmap.SetMax(hi)
	return cmap, nil
}

// widen returns a small range around v, for data whose values are all equal.
func widen(v float64) (lo, hi float64) {
	d := math.Abs(v) * 0.01
	if d == 0 {
		d = 0.5
	}
	return v - d, v + d
}

// colorAt returns cmap's colour of v clamped to its range; NaN gives nanColor.
func colorAt(cmap palette.ColorMap, v float64) color.Color {
	if math.IsNaN(v) {
		return nanColor
	}
	c, err := cmap.At(math.Max(cmap.Min(), math.Min(cmap.Max(), v)))
	if err != nil {
		return nanColor
	}
	return c
}

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
