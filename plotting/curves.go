package plotting

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mnistfc/mnistfc/internal/finite"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// Size of the curve charts.
const (
	curvesWidth  = 10 * vg.Inch
	curvesHeight = 4 * vg.Inch
)

// glyphLimit is the largest number of points a line is drawn with markers.
const glyphLimit = 20

// Curves draws the original notebook's plot_graphs: two panels side by side,
// accuracy per epoch (left) and loss per epoch (right), each with a train
// line and a validation line. The x axis is the 1-based epoch number;
// validation points sit at h.ValEpochs. title, if not empty, goes above both
// panels. The chart is 10x4 inches (960x384 pixels as PNG).
//
// Points that are NaN or infinite (a diverged run) are left out of the lines.
func Curves(h mnistfc.History, title string, format Format) ([]byte, error) {
	if err := checkHistory(h); err != nil {
		return nil, err
	}
	return drawCurves([]mnistfc.History{h}, nil, title, format)
}

// CurvesCompare draws several runs' curves on the same two panels (accuracy,
// loss), one colour per run, solid for train and dashed for validation,
// labelled by names[i]. It serves to compare, e.g., the correct softmax with
// the original's batch softmax.
func CurvesCompare(histories []mnistfc.History, names []string, title string, format Format) ([]byte, error) {
	if len(histories) == 0 {
		return nil, fmt.Errorf("plotting: no histories to compare")
	}
	if len(names) != len(histories) {
		return nil, fmt.Errorf("plotting: %d names for %d histories", len(names), len(histories))
	}
	for i, h := range histories {
		if err := checkHistory(h); err != nil {
			return nil, fmt.Errorf("history %d (%q): %w", i, names[i], err)
		}
	}
	return drawCurves(histories, names, title, format)
}

// checkHistory returns an error if h has no epochs or slices of mismatched lengths.
func checkHistory(h mnistfc.History) error {
	if len(h.TrainAccuracies) == 0 && len(h.TrainLosses) == 0 && len(h.ValEpochs) == 0 {
		return fmt.Errorf("plotting: empty history: no epochs to draw")
	}
	if len(h.TrainAccuracies) != len(h.TrainLosses) {
		return fmt.Errorf("plotting: history has %d train accuracies but %d train losses",
			len(h.TrainAccuracies), len(h.TrainLosses))
	}
	if len(h.ValAccuracies) != len(h.ValEpochs) || len(h.ValLosses) != len(h.ValEpochs) {
		return fmt.Errorf("plotting: history has %d validation epochs, %d validation accuracies and %d validation losses; want equal counts",
			len(h.ValEpochs), len(h.ValAccuracies), len(h.ValLosses))
	}
	for i, e := range h.ValEpochs {
		if e < 1 {
			return fmt.Errorf("plotting: history's validation epoch %d is %d; epochs count from 1", i, e)
		}
	}
	return nil
}

// drawCurves draws the accuracy and loss panels of the histories. With
// names == nil (a single run) the lines are labelled "train" and
// "validation"; otherwise each run gets a colour and its name.
func drawCurves(hs []mnistfc.History, names []string, title string, format Format) ([]byte, error) {
	acc := newPlot("Accuracy", "epoch", "accuracy")
	loss := newPlot("Loss", "epoch", "cross-entropy loss")
	// One legend for both panels, on their right, where it hides no line.
	legend := plot.NewLegend()
	legend.TextStyle.Font = font.From(sans, tickSize)
	legend.Top, legend.Left = true, true
	legend.ThumbnailWidth = vg.Points(24)
	legend.Padding = vg.Points(3)
	single := names == nil
	for i, h := range hs {
		col := lineColor(i)
		trainAcc, trainLoss := epochPoints(nil, h.TrainAccuracies), epochPoints(nil, h.TrainLosses)
		valAcc, valLoss := epochPoints(h.ValEpochs, h.ValAccuracies), epochPoints(h.ValEpochs, h.ValLosses)
		for k, panel := range []struct {
			p            *plot.Plot
			train, valid plotter.XYs
		}{{acc, trainAcc, valAcc}, {loss, trainLoss, valLoss}} {
			trainCol, valCol := col, col
			if single {
				trainCol, valCol = lineColor(0), lineColor(1)
			}
			tl, err := addLine(panel.p, panel.train, trainCol, false)
			if err != nil {
				return nil, err
			}
			vl, err := addLine(panel.p, panel.valid, valCol, !single)
			if err != nil {
				return nil, err
			}
			switch {
			case k > 0: // The accuracy panel's lines stand for both.
			case single:
				legend.Add("train", tl...)
				legend.Add("validation", vl...)
			default:
				legend.Add(names[i], tl...)
			}
		}
	}
	if !single {
		grey := color.Gray{0x55}
		solid, _ := plotter.NewLine(plotter.XYs{})
		solid.LineStyle = draw.LineStyle{Color: grey, Width: vg.Points(1.5)}
		dashed, _ := plotter.NewLine(plotter.XYs{})
		dashed.LineStyle = draw.LineStyle{Color: grey, Width: vg.Points(1.5), Dashes: dashes}
		legend.Add("train", solid)
		legend.Add("validation", dashed)
	}
	for _, p := range []*plot.Plot{acc, loss} {
		p.X.Tick.Marker = niceTicks{integer: true}
		p.Y.Tick.Marker = niceTicks{}
		p.Add(plotter.NewGrid())
	}

	return render(format, curvesWidth, curvesHeight, func(c draw.Canvas) error {
		c = drawTitle(c, title)
		legendW := legend.Rectangle(c).Size().X
		panels := draw.Crop(c, 0, -(legendW + vg.Points(8)), 0, 0)
		tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(24), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(10)}
		canvases := plot.Align([][]*plot.Plot{{acc, loss}}, tiles, panels)
		acc.Draw(canvases[0][0])
		loss.Draw(canvases[0][1])
		data := loss.DataCanvas(canvases[0][1])
		legend.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: c.Max.X - legendW - vg.Points(4), Y: data.Min.Y},
			Max: vg.Point{X: c.Max.X - vg.Points(4), Y: data.Max.Y},
		}})
		return nil
	})
}

// dashes is the dash pattern of validation lines when comparing runs.
var dashes = []vg.Length{vg.Points(5), vg.Points(3)}

// epochPoints pairs values with their epochs: epochs[i], or i+1 if epochs is nil.
// Points whose value is NaN or infinite are left out.
func epochPoints(epochs []int, values []float64) plotter.XYs {
	xys := make(plotter.XYs, 0, len(values))
	for i, v := range values {
		if !finite.Is(v) {
			continue
		}
		x := float64(i + 1)
		if epochs != nil {
			x = float64(epochs[i])
		}
		xys = append(xys, plotter.XY{X: x, Y: v})
	}
	return xys
}

// addLine adds xys to p as a line of colour col, dashed or solid, with
// markers if it has few points, and returns what its legend entry should show.
func addLine(p *plot.Plot, xys plotter.XYs, col color.Color, dashed bool) ([]plot.Thumbnailer, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("plotting: line: %w", err)
	}
	l.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.5)}
	if dashed {
		l.LineStyle.Dashes = dashes
	}
	thumbs := []plot.Thumbnailer{l}
	p.Add(l)
	if len(xys) <= glyphLimit {
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("plotting: markers: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(s)
		thumbs = append(thumbs, s)
	}
	return thumbs, nil
}
