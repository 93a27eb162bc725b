package plotting

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// plotlyFigure is what the tests read back of a figure.
type plotlyFigure struct {
	Data []struct {
		Name          string     `json:"name"`
		X             []float64  `json:"x"`
		Y             []*float64 `json:"y"`
		XAxis         string     `json:"xaxis"`
		ShowLegend    bool       `json:"showlegend"`
		HoverTemplate string     `json:"hovertemplate"`
		Line          struct {
			Color, Dash string
		} `json:"line"`
	} `json:"data"`
	Layout struct {
		Title struct{ Text string } `json:"title"`
		XAxis struct {
			DTick float64 `json:"dtick"`
		} `json:"xaxis"`
	} `json:"layout"`
}

func TestCurvesFigure(t *testing.T) {
	h := mnistfc.History{
		TrainAccuracies: []float64{0.5, 0.7, 0.8}, TrainLosses: []float64{1, 0.5, math.Inf(1)},
		ValAccuracies: []float64{0.6, 0.75}, ValLosses: []float64{0.8, math.NaN()}, ValEpochs: []int{1, 3},
	}
	b, err := CurvesFigure([]mnistfc.History{h}, nil, "one run")
	if err != nil {
		t.Fatal(err)
	}
	var fig plotlyFigure
	if err := json.Unmarshal(b, &fig); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if len(fig.Data) != 4 || fig.Layout.Title.Text != "one run" || fig.Layout.XAxis.DTick != 1 {
		t.Fatalf("%d traces, title %q, dtick %v; want 4, %q, 1", len(fig.Data), fig.Layout.Title.Text, fig.Layout.XAxis.DTick, "one run")
	}
	for i, want := range []struct {
		name, axis, dash, hover string
		x                       []float64
		nulls                   int
	}{
		{"train", "x", "solid", "train accuracy", []float64{1, 2, 3}, 0},
		{"validation", "x", "dash", "validation accuracy", []float64{1, 3}, 0},
		{"train", "x2", "solid", "train loss", []float64{1, 2, 3}, 1},
		{"validation", "x2", "dash", "validation loss", []float64{1, 3}, 1},
	} {
		tr := fig.Data[i]
		nulls := 0
		for _, y := range tr.Y {
			if y == nil {
				nulls++
			}
		}
		if tr.Name != want.name || tr.XAxis != want.axis || tr.Line.Dash != want.dash || !strings.Contains(tr.HoverTemplate, "epoch %{x}") ||
			!strings.Contains(tr.HoverTemplate, want.hover) || len(tr.X) != len(want.x) || tr.X[len(tr.X)-1] != want.x[len(want.x)-1] || nulls != want.nulls {
			t.Errorf("trace %d: %+v; want %+v", i, tr, want)
		}
		// One legend entry per pair of lines (train, validation).
		if tr.ShowLegend != (want.axis == "x") {
			t.Errorf("trace %d: showlegend %v", i, tr.ShowLegend)
		}
	}

	// Several runs: one colour each, named.
	b, err = CurvesFigure([]mnistfc.History{h, h}, []string{"a", "b"}, "")
	if err != nil {
		t.Fatal(err)
	}
	fig = plotlyFigure{}
	if err := json.Unmarshal(b, &fig); err != nil {
		t.Fatal(err)
	}
	if len(fig.Data) != 8 || fig.Data[0].Name != "a: train" || fig.Data[4].Name != "b: train" || fig.Data[0].Line.Color == fig.Data[4].Line.Color ||
		fig.Data[0].Line.Color != fig.Data[1].Line.Color {
		t.Errorf("compare: %d traces, names %q %q, colours %s %s %s", len(fig.Data), fig.Data[0].Name, fig.Data[4].Name,
			fig.Data[0].Line.Color, fig.Data[1].Line.Color, fig.Data[4].Line.Color)
	}

	long := mnistfc.History{TrainAccuracies: make([]float64, 35), TrainLosses: make([]float64, 35)}
	if b, err := CurvesFigure([]mnistfc.History{long}, nil, ""); err != nil || strings.Contains(string(b), "dtick") {
		t.Errorf("35 epochs: %v, dtick set: %s", err, b[:min(len(b), 80)])
	}
	for _, bad := range [][]mnistfc.History{nil, {{}}} {
		if _, err := CurvesFigure(bad, nil, ""); err == nil {
			t.Errorf("CurvesFigure(%v): no error", bad)
		}
	}
	if _, err := CurvesFigure([]mnistfc.History{h}, []string{"a", "b"}, ""); err == nil {
		t.Error("2 names for 1 history: no error")
	}
}
