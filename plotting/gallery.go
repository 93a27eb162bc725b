package plotting

import (
	"fmt"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// DigitGallery draws images as a PNG grid of cols columns (cols <= 0: a
// near-square grid), each with its caption below it, e.g.
// "true 4 / pred 9 (0.87)"; a caption may hold several lines separated by
// "\n". Each image is ImageRows x ImageCols float32 values in any range
// (e.g. the normalised pixels of mnistfc.Dataset.Image), min-max normalised
// on its own, and enlarged scale times. captions is nil (no captions) or
// has one entry per image.
func DigitGallery(images [][]float32, captions []string, cols, scale int) ([]byte, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("plotting: no images for a gallery")
	}
	if captions != nil && len(captions) != len(images) {
		return nil, fmt.Errorf("plotting: %d captions for %d images", len(captions), len(images))
	}
	for i, im := range images {
		if len(im) != mnistfc.NumPixels {
			return nil, fmt.Errorf("plotting: image %d has %d values, want %d (%dx%d)",
				i, len(im), mnistfc.NumPixels, mnistfc.ImageRows, mnistfc.ImageCols)
		}
	}
	if err := checkScale(scale); err != nil {
		return nil, err
	}
	cols, rows := gridShape(len(images), cols)
	ts := textScale(scale)
	margin, gap, capGap := 6*ts, 12*ts, 3*ts
	tw, th := mnistfc.ImageCols*scale, mnistfc.ImageRows*scale
	capW, capH := 0, 0
	for _, c := range captions {
		w, h := textSize(c, ts)
		capW, capH = max(capW, w), max(capH, h)
	}
	cellW, cellH := max(tw, capW), th
	if capH > 0 {
		cellH += capGap + capH
	}
	w := 2*margin + cols*cellW + (cols-1)*gap
	h := 2*margin + rows*cellH + (rows-1)*gap
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	img := newCanvas(w, h)
	for i, im := range images {
		r, c := i/cols, i%cols
		x0, y0 := margin+c*(cellW+gap), margin+r*(cellH+gap)
		drawTile(img, x0+(cellW-tw)/2, y0, im, scale)
		if captions != nil {
			drawText(img, x0+cellW/2, y0+th+capGap, captions[i], ts)
		}
	}
	return encodePNG(img)
}
