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

func TestTempPath(t *testing.T) {
	t.Setenv("GONB_TMP_DIR", "/tmp/gonb-xyz")
	if got := TempPath("m.bin"); got != "/tmp/gonb-xyz/m.bin" {
		t.Errorf("TempPath = %q", got)
	}
}

func TestProgressHTML(t *testing.T) {
	got := ProgressHTML("h=<5>", 3, 35, mnistfc.PhaseTrain, 12, 51, 1500*time.Millisecond)
	for _, want := range []string{"h=&lt;5&gt;", "epoch 3/35", "train", `value="12" max="51"`, "batch 12/51", "1.5 s"} {
		if !strings.Contains(got, want) {
			t.Errorf("ProgressHTML = %q, missing %q", got, want)
		}
	}
	if got := ProgressHTML("", 35, 35, mnistfc.PhaseTest, 10, 10, 0); !strings.Contains(got, "test ") || strings.Contains(got, "epoch") {
		t.Errorf("test phase: %q", got)
	}
}

func TestImageHTML(t *testing.T) {
	img, err := plotting.Curves(mnistfc.History{TrainAccuracies: []float64{0.5, 0.7}, TrainLosses: []float64{1, 0.5}}, "t", plotting.PNG)
	if err != nil {
		t.Fatal(err)
	}
	h := ImageHTML(img)
	const prefix = `src="data:image/png;base64,`
	i := strings.Index(h, prefix)
	if i < 0 || !strings.HasSuffix(h, `">`) {
		t.Fatalf("ImageHTML = %.80q...", h)
	}
	raw, err := base64.StdEncoding.DecodeString(h[i+len(prefix) : len(h)-2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Errorf("embedded image is not a PNG: %v", err)
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
	res, err := mnistfc.Train(cfg, v.option(), mnistfc.OnBatch(func(mnistfc.Phase, int, int) { batches++ }))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.hist, res.History) {
		t.Errorf("view history %+v\nresult history %+v", v.hist, res.History)
	}
	if v.curvesI == "" || !strings.Contains(v.status, "test") {
		t.Errorf("view not drawn: curves %d bytes, status %q", len(v.curvesI), v.status)
	}
	// 51 train + 9 validation batches per epoch, then 10 test batches; the
	// second OnBatch option must still run.
	if want := cfg.Epochs*(51+9) + 10; batches != want {
		t.Errorf("second OnBatch saw %d batches, want %d", batches, want)
	}
}
