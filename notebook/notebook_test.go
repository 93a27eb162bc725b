package notebook

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

func TestEpochs(t *testing.T) {
	for _, tc := range []struct {
		env  string
		def  int
		want int
	}{
		{"", 35, 35},
		{"2", 35, 2},
		{" 3 ", 35, 3},
		{"0", 35, 35},
		{"-1", 35, 35},
		{"abc", 35, 35},
	} {
		t.Setenv(EpochsEnv, tc.env)
		if got := Epochs(tc.def); got != tc.want {
			t.Errorf("%s=%q: Epochs(%d) = %d, want %d", EpochsEnv, tc.env, tc.def, got, tc.want)
		}
		if got, want := Fast(), tc.want != tc.def; got != want {
			t.Errorf("%s=%q: Fast() = %v, want %v", EpochsEnv, tc.env, got, want)
		}
	}
}

func TestEpochProgressHTML(t *testing.T) {
	got := epochProgressHTML("h=<5>", 3, 35, mnistfc.PhaseTrain, 12, 51, 1500*time.Millisecond)
	for _, want := range []string{"h=&lt;5&gt;", "epoch 3/35", "train", `value="12" max="51"`, "batch 12/51", "1.5 s"} {
		if !strings.Contains(got, want) {
			t.Errorf("epochProgressHTML = %q, missing %q", got, want)
		}
	}
	if got := epochProgressHTML("", 35, 35, mnistfc.PhaseTest, 10, 10, 0); !strings.Contains(got, "test ") || strings.Contains(got, "epoch") {
		t.Errorf("test phase: %q", got)
	}
}

// figureHTML holds the figure for plotly.js, and the PNG image for
// viewers without JavaScript.
func TestFigureHTML(t *testing.T) {
	h := mnistfc.History{TrainAccuracies: []float64{0.5, 0.7}, TrainLosses: []float64{1, 0.5}, ValAccuracies: []float64{0.6}, ValLosses: []float64{0.8}, ValEpochs: []int{2}}
	img, err := plotting.Curves(h, "t", plotting.PNG)
	if err != nil {
		t.Fatal(err)
	}
	fig, err := plotting.CurvesFigure([]mnistfc.History{h}, nil, "a </script> title")
	if err != nil {
		t.Fatal(err)
	}
	got := figureHTML("fig1", fig, img, "alt")
	const prefix = `src="data:image/png;base64,`
	i := strings.Index(got, prefix)
	if i < 0 {
		t.Fatalf("figureHTML has no image: %.200q...", got)
	}
	end := strings.Index(got[i+len(prefix):], `"`)
	raw, err := base64.StdEncoding.DecodeString(got[i+len(prefix) : i+len(prefix)+end])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Errorf("embedded image is not a PNG: %v", err)
	}
	for _, want := range []string{`<div class="mnistfc-figure" id="fig1">`, `id="fig1-data"`, `window.Plotly.newPlot(el, fig.data, fig.layout`} {
		if !strings.Contains(got, want) {
			t.Errorf("figureHTML lacks %q", want)
		}
	}
	// The title cannot close the script element that holds the figure.
	if strings.Count(got, "</script>") != 2 {
		t.Errorf("figureHTML has %d </script>, want 2: %s", strings.Count(got, "</script>"), got)
	}
	if without := figureHTML("fig2", fig, nil, "alt"); strings.Contains(without, "<img") {
		t.Error("figureHTML without a PNG has an <img>")
	}
}

// TestLiveCurvesFollowsTraining trains for real and checks that the view
// saw every epoch and batch, in the same numbers as the result.
func TestLiveCurvesFollowsTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	cfg := mnistfc.DefaultConfig()
	cfg.HiddenDim, cfg.Epochs = 10, 2
	v := newView("live", cfg.Epochs, true)
	batches := 0
	res, err := mnistfc.Train(t.Context(), cfg, v.option(), mnistfc.OnBatch(func(mnistfc.Phase, int, int) { batches++ }))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.hist, res.History) {
		t.Errorf("view history %+v\nresult history %+v", v.hist, res.History)
	}
	if !strings.Contains(v.figure, "mnistfc-figure") || v.png == nil || !strings.Contains(v.status, "test") {
		t.Errorf("view not drawn: figure %d bytes, PNG %d bytes, status %q", len(v.figure), len(v.png), v.status)
	}
	// 51 train + 9 validation batches per epoch, then 10 test batches; the
	// second OnBatch option must still run.
	if want := cfg.Epochs*(51+9) + 10; batches != want {
		t.Errorf("second OnBatch saw %d batches, want %d", batches, want)
	}
}

func TestMarkdownTable(t *testing.T) {
	got := markdownTable("Title", []string{"name", "value", "a|b"}, [][]string{
		{"one", "0.93", "x"},
		{"two", "**0.912 ± 0.004**", "y"},
		{"three", "93.1%"},
	})
	want := "**Title**\n\n| name | value | a\\|b |\n|---|---:|---|\n| one | 0.93 | x |\n| two | **0.912 ± 0.004** | y |\n| three | 93.1% |  |\n"
	if got != want {
		t.Errorf("markdownTable:\n%s\nwant:\n%s", got, want)
	}
}
