package plotting

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format selects the output encoding of a chart.
type Format string

// The chart formats.
const (
	PNG Format = "png" // Raster image at 96 dots per inch.
	SVG Format = "svg" // Vector image.
)

// dpi is the resolution of PNG charts.
const dpi = 96

// FormatFromPath returns PNG or SVG from a file name's extension (".png",
// ".svg", in any case), or an error naming the path.
func FormatFromPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return PNG, nil
	case ".svg":
		return SVG, nil
	}
	return "", fmt.Errorf("plotting: cannot tell the image format of %q: want a .png or .svg extension", path)
}

// check returns an error if f is not a supported format.
func (f Format) check() error {
	if f != PNG && f != SVG {
		return fmt.Errorf("plotting: unsupported format %q: want %q or %q", string(f), PNG, SVG)
	}
	return nil
}

// render draws a chart of size w x h with fn and encodes it in format.
// A panic inside the plotting library is returned as an error.
func render(format Format, w, h vg.Length, fn func(c draw.Canvas) error) (out []byte, err error) {
	if err := format.check(); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("plotting: drawing the chart failed: %v", r)
		}
	}()
	var c vg.CanvasWriterTo
	switch format {
	case PNG:
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))}
	case SVG:
		c = vgsvg.New(w, h)
	}
	if err := fn(draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plotting: encoding %s: %w", format, err)
	}
	if format == SVG {
		// Viewers without Liberation Sans fall back to its metric twin, Arial, or another sans-serif font.
		svg := bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
			[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
		// vgsvg writes images without preserveAspectRatio, so a viewer keeps
		// their aspect ratio: plotter.ColorBar's 1x256 image would be drawn
		// as a hairline instead of filling the bar.
		return bytes.ReplaceAll(svg, []byte("<image "), []byte(`<image preserveAspectRatio="none" `)), nil
	}
	return buf.Bytes(), nil
}
