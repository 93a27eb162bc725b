package plotting

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/mnistfc/mnistfc/internal/finite"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// Border is the width in pixels of the white lines around and between the
// tiles of an image grid.
const Border = 2

// Colours of image grids.
const (
	background = 255 // White, around tiles and behind captions.
	ink        = 0   // Black caption text.
	flatGray   = 128 // A tile whose values are all equal.
)

// maxPixels bounds the size of the images this package makes.
const maxPixels = 1 << 28

// gridShape returns the columns and rows of a grid of n tiles; cols <= 0
// picks a near-square grid, and no more columns than tiles are used.
func gridShape(n, cols int) (int, int) {
	if cols <= 0 {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	cols = min(cols, n)
	return cols, (n + cols - 1) / cols
}

// checkSize returns an error if a w x h image is empty or too large to make.
func checkSize(w, h int) error {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("plotting: image of %dx%d pixels is empty or too large (limit %d pixels)", w, h, maxPixels)
	}
	return nil
}

// checkScale returns an error if scale is not a usable upscaling factor.
func checkScale(scale int) error {
	if scale < 1 || scale > 64 {
		return fmt.Errorf("plotting: scale %d: want an integer from 1 to 64", scale)
	}
	return nil
}

// newCanvas returns a w x h grayscale image filled with the background.
func newCanvas(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{background}), image.Point{}, draw.Src)
	return img
}

// drawTile writes the ImageRows x ImageCols values v into dst at (x0, y0),
// each pixel scale x scale, min-max normalised to 0..255 (bright = large).
// NaN and infinite values are black; equal values are mid-grey.
func drawTile(dst *image.Gray, x0, y0 int, v []float32, scale int) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if f := float64(x); finite.Is(f) {
			lo, hi = math.Min(lo, f), math.Max(hi, f)
		}
	}
	tile := image.NewGray(image.Rect(0, 0, mnistfc.ImageCols, mnistfc.ImageRows))
	for i, x := range v {
		f := float64(x)
		switch {
		case !finite.Is(f):
			tile.Pix[i] = 0
		case hi > lo:
			tile.Pix[i] = uint8(math.Round(255 * (f - lo) / (hi - lo)))
		default:
			tile.Pix[i] = flatGray
		}
	}
	enlarge(dst, x0, y0, tile, scale)
}

// enlarge draws src into dst with its top left corner at (x0, y0), each
// pixel as a scale x scale square (x/image/draw's nearest-neighbour scaler),
// clipped to dst.
func enlarge(dst *image.Gray, x0, y0 int, src *image.Gray, scale int) {
	size := src.Bounds().Size().Mul(scale)
	r := image.Rectangle{Min: image.Point{X: x0, Y: y0}, Max: image.Point{X: x0 + size.X, Y: y0 + size.Y}}
	xdraw.NearestNeighbor.Scale(dst, r, src, src.Bounds(), xdraw.Src, nil)
}

// textScale is the integer enlargement of the 7x13 caption font used with images upscaled by scale.
func textScale(scale int) int { return max(1, (scale+3)/4) }

// captionFace is the font of captions: 7 pixels wide, 13 pixels high.
var captionFace = basicfont.Face7x13

// textSize returns the pixel size of the lines of s (split at newlines) drawn at text scale ts.
func textSize(s string, ts int) (w, h int) {
	if s == "" {
		return 0, 0
	}
	lines := strings.Split(s, "\n")
	for _, l := range lines {
		w = max(w, font.MeasureString(captionFace, l).Ceil())
	}
	return w * ts, len(lines) * captionFace.Height * ts
}

// drawText writes s (lines split at newlines, each centred) in black into
// dst, its box's top centre at (cx, y), with the font enlarged ts times.
func drawText(dst *image.Gray, cx, y int, s string, ts int) {
	for i, l := range strings.Split(s, "\n") {
		w := font.MeasureString(captionFace, l).Ceil()
		if w == 0 {
			continue
		}
		small := image.NewGray(image.Rect(0, 0, w, captionFace.Height))
		draw.Draw(small, small.Bounds(), image.NewUniform(color.Gray{background}), image.Point{}, draw.Src)
		d := font.Drawer{
			Dst:  small,
			Src:  image.NewUniform(color.Gray{ink}),
			Face: captionFace,
			Dot:  fixed.P(0, captionFace.Ascent),
		}
		d.DrawString(l)
		enlarge(dst, cx-w*ts/2, y+i*captionFace.Height*ts, small, ts)
	}
}

// encodePNG encodes img as PNG.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("plotting: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}
