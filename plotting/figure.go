package plotting

import (
	"fmt"
	"image/color"

	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// CurvesFigure returns the accuracy and loss curves of Curves (one run) or
// CurvesCompare (several, labelled by names) as a Plotly figure: the JSON
// object {"data": [...], "layout": {...}} that Plotly.newPlot takes, with
// the same panels, colours and dashes as the PNG, and hover labels that
// give the epoch and the value. Non-finite values (a diverged run) are null,
// which Plotly leaves out of the line.
//
// The figure is plain data: the notebook package draws it with plotly.js
// (see notebook.Setup), in JupyterLab and in exported HTML reports alike.
// It is a few structs rather than a Plotly binding for Go: a figure needs
// ten fields, and a binding's generated types would be compiled into every
// notebook cell.
func CurvesFigure(histories []mnistfc.History, names []string, title string) ([]byte, error) {
	if len(histories) == 0 {
		return nil, fmt.Errorf("plotting: no histories")
	}
	if names != nil && len(names) != len(histories) {
		return nil, fmt.Errorf("plotting: %d names for %d histories", len(names), len(histories))
	}
	for i, h := range histories {
		if err := checkHistory(h); err != nil {
			return nil, fmt.Errorf("history %d: %w", i, err)
		}
	}
	var traces []trace
	for i, h := range histories {
		trainCol, valCol := lineColor(i), lineColor(i)
		prefix := ""
		if names != nil {
			prefix = names[i] + ": "
		} else {
			trainCol, valCol = lineColor(0), lineColor(1)
		}
		epochs := make([]float64, len(h.TrainLosses))
		for e := range epochs {
			epochs[e] = float64(e + 1)
		}
		valEpochs := make([]float64, len(h.ValEpochs))
		for e, v := range h.ValEpochs {
			valEpochs[e] = float64(v)
		}
		group := fmt.Sprint(i)
		for _, s := range []struct {
			set, metric string // "train" or "validation"; "accuracy" or "loss".
			x, y        []float64
			col         color.Color
			dash        string
			axis        string // Plotly's axis suffix: "" left panel, "2" right panel.
		}{
			{"train", "accuracy", epochs, h.TrainAccuracies, trainCol, "solid", ""},
			{"validation", "accuracy", valEpochs, h.ValAccuracies, valCol, "dash", ""},
			{"train", "loss", epochs, h.TrainLosses, trainCol, "solid", "2"},
			{"validation", "loss", valEpochs, h.ValLosses, valCol, "dash", "2"},
		} {
			mode := "lines"
			if len(s.x) <= glyphLimit {
				mode = "lines+markers"
			}
			traces = append(traces, trace{
				Type: "scatter", Mode: mode, Name: prefix + s.set, X: s.x, Y: s.y,
				XAxis: "x" + s.axis, YAxis: "y" + s.axis,
				// One legend entry per line pair: it shows and hides both panels' lines.
				LegendGroup: group + s.set, ShowLegend: s.metric == "accuracy",
				Line:          line{Color: cssColor(s.col), Width: 2, Dash: s.dash},
				HoverTemplate: "epoch %{x}: %{y:.4f}<extra>" + prefix + s.set + " " + s.metric + "</extra>",
			})
		}
	}
	// Whole epochs on the x axes: Plotly would put ticks at halves for a
	// run of a few epochs.
	epochs := 0
	for _, h := range histories {
		epochs = max(epochs, len(h.TrainLosses))
	}
	dtick := 0.0
	if epochs <= 10 {
		dtick = 1
	}
	fig := figure{Data: traces, Layout: layout{
		Title:     label{title},
		Height:    380,
		Margin:    margin{L: 60, R: 20, T: 60, B: 50},
		HoverMode: "closest",
		Font:      fontSpec{Family: "Liberation Sans, Arial, sans-serif", Size: 12},
		XAxis:     axis{Title: label{"epoch"}, Domain: []float64{0, 0.46}, Anchor: "y", DTick: dtick},
		YAxis:     axis{Title: label{"accuracy"}, Anchor: "x"},
		XAxis2:    axis{Title: label{"epoch"}, Domain: []float64{0.56, 1}, Anchor: "y2", DTick: dtick},
		YAxis2:    axis{Title: label{"loss"}, Anchor: "x2"},
		Legend:    legend{Orientation: "h", Y: -0.2},
	}}
	return jsonfinite.Marshal(fig)
}

// cssColor returns c as a CSS colour, "#rrggbb".
func cssColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

// The parts of a Plotly figure that CurvesFigure uses
// (https://plotly.com/javascript/reference/).
type (
	figure struct {
		Data   []trace `json:"data"`
		Layout layout  `json:"layout"`
	}
	trace struct {
		Type          string    `json:"type"`
		Mode          string    `json:"mode"`
		Name          string    `json:"name"`
		X             []float64 `json:"x"`
		Y             []float64 `json:"y"`
		XAxis         string    `json:"xaxis"`
		YAxis         string    `json:"yaxis"`
		LegendGroup   string    `json:"legendgroup"`
		ShowLegend    bool      `json:"showlegend"`
		Line          line      `json:"line"`
		HoverTemplate string    `json:"hovertemplate"`
	}
	line struct {
		Color string  `json:"color"`
		Width float64 `json:"width"`
		Dash  string  `json:"dash"`
	}
	layout struct {
		Title     label    `json:"title"`
		Height    int      `json:"height"`
		Margin    margin   `json:"margin"`
		HoverMode string   `json:"hovermode"`
		Font      fontSpec `json:"font"`
		XAxis     axis     `json:"xaxis"`
		YAxis     axis     `json:"yaxis"`
		XAxis2    axis     `json:"xaxis2"`
		YAxis2    axis     `json:"yaxis2"`
		Legend    legend   `json:"legend"`
	}
	margin struct {
		L int `json:"l"`
		R int `json:"r"`
		T int `json:"t"`
		B int `json:"b"`
	}
	fontSpec struct {
		Family string `json:"family"`
		Size   int    `json:"size"`
	}
	axis struct {
		Title  label     `json:"title"`
		Domain []float64 `json:"domain,omitempty"`
		Anchor string    `json:"anchor"`
		DTick  float64   `json:"dtick,omitempty"`
	}
	label struct {
		Text string `json:"text"`
	}
	legend struct {
		Orientation string  `json:"orientation"`
		Y           float64 `json:"y"`
	}
)
