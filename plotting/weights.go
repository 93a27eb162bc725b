package plotting

import (
	"fmt"
	"image"
	"image/draw"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// WeightsGrid shows the first-layer weights of every hidden unit of p as a
// 28x28 grayscale tile, each min-max normalised on its own to 0..255
// (bright = large weight), enlarged scale times (scale >= 1).
//
// The tiles are laid out row by row in a grid of cols columns (cols <= 0:
// a near-square grid; never more columns than units), with Border white
// pixels around and between them, so the image is
// cols·28·scale + (cols+1)·Border pixels wide and
// rows·28·scale + (rows+1)·Border pixels high.
func WeightsGrid(p *mnistfc.Params, cols, scale int) (*image.Gray, error) {
	if err := checkParams(p); err != nil {
		return nil, err
	}
	if err := checkScale(scale); err != nil {
		return nil, err
	}
	cols, rows := gridShape(p.Hidden, cols)
	tw, th := mnistfc.ImageCols*scale, mnistfc.ImageRows*scale
	w, h := cols*tw+(cols+1)*Border, rows*th+(rows+1)*Border
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	img := newCanvas(w, h)
	for j := range p.Hidden {
		r, c := j/cols, j%cols
		drawTile(img, Border+c*(tw+Border), Border+r*(th+Border), p.HiddenUnitWeights(j), scale)
	}
	return img, nil
}

// checkParams returns an error if p cannot be shown: nil, no hidden units,
// or first-layer weights of the wrong size.
func checkParams(p *mnistfc.Params) error {
	if p == nil {
		return fmt.Errorf("plotting: no weights (nil Params)")
	}
	if p.Hidden < 1 {
		return fmt.Errorf("plotting: weights have hidden size %d, want at least 1", p.Hidden)
	}
	if want := p.Hidden * mnistfc.NumPixels; len(p.W1) != want {
		return fmt.Errorf("plotting: W1 has %d values, want %d (%d hidden units x %d pixels)",
			len(p.W1), want, p.Hidden, mnistfc.NumPixels)
	}
	return nil
}

// WeightsPNG encodes WeightsGrid(p, cols, scale) as PNG.
func WeightsPNG(p *mnistfc.Params, cols, scale int) ([]byte, error) {
	img, err := WeightsGrid(p, cols, scale)
	if err != nil {
		return nil, err
	}
	return encodePNG(img)
}

// WeightsSeries puts the WeightsGrid images of several sets of weights
// (e.g. snapshots after epochs 1, 5 and 35) side by side, each under its
// caption (e.g. "epoch 1"), as one PNG. ps and captions have the same
// length; cols and scale apply to every grid.
func WeightsSeries(ps []*mnistfc.Params, captions []string, cols, scale int) ([]byte, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("plotting: no weights for a series")
	}
	if len(captions) != len(ps) {
		return nil, fmt.Errorf("plotting: %d captions for %d sets of weights", len(captions), len(ps))
	}
	grids := make([]*image.Gray, len(ps))
	for i, p := range ps {
		g, err := WeightsGrid(p, cols, scale)
		if err != nil {
			return nil, fmt.Errorf("weights %d (%q): %w", i, captions[i], err)
		}
		grids[i] = g
	}
	ts := textScale(scale)
	pad := 4 * ts
	capH, gap := 0, 6*Border
	widths := make([]int, len(grids))
	gridH := 0
	for i, g := range grids {
		cw, ch := textSize(captions[i], ts)
		capH = max(capH, ch)
		widths[i] = max(g.Rect.Dx(), cw+2*pad)
		gridH = max(gridH, g.Rect.Dy())
	}
	w := gap * (len(grids) - 1)
	for _, cw := range widths {
		w += cw
	}
	h := pad + capH + pad + gridH
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	img := newCanvas(w, h)
	x := 0
	for i, g := range grids {
		drawText(img, x+widths[i]/2, pad, captions[i], ts)
		at := image.Pt(x+(widths[i]-g.Rect.Dx())/2, pad+capH+pad)
		draw.Draw(img, g.Rect.Add(at), g, image.Point{}, draw.Src)
		x += widths[i] + gap
	}
	return encodePNG(img)
}
