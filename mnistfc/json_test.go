package mnistfc

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestJSONNonFinite checks that a diverged run's NaN and infinite numbers
// are written as null (encoding/json refuses them) and read back as NaN,
// and that finite numbers and omitempty fields are written as encoding/json
// writes them.
func TestJSONNonFinite(t *testing.T) {
	res := Result{
		Config:   DefaultConfig(),
		Epochs:   []EpochStats{{Epoch: 1, TrainLoss: 0.5, TrainAccuracy: 0.9}, {Epoch: 2, TrainLoss: math.NaN(), TrainAccuracy: 0.1, Validated: true, ValLoss: math.Inf(1)}},
		History:  History{TrainLosses: []float64{0.5, math.NaN()}, ValLosses: []float64{math.Inf(-1)}},
		Diverged: true, DivergedEpoch: 2,
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"train_loss":null`, `"val_loss":null`, `"train_losses":[0.5,null]`, `"val_losses":[null]`, `"diverged":true`, `"diverged_epoch":2`, `"softmax":"row"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), `"interrupted"`) || strings.Contains(string(b), `"Initial"`) {
		t.Errorf("JSON has an omitempty or \"-\" field:\n%s", b)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Epochs[1].TrainLoss) || !math.IsNaN(back.Epochs[1].ValLoss) || back.Epochs[0].TrainLoss != 0.5 ||
		!math.IsNaN(back.History.TrainLosses[1]) || !math.IsNaN(back.History.ValLosses[0]) || !back.Diverged || back.Config != res.Config {
		t.Errorf("read back: %+v", back)
	}

	// Finite values: the same bytes as encoding/json's.
	type plain EpochStats
	st := EpochStats{Epoch: 3, TrainLoss: 1e-7, TrainAccuracy: 0.25, Validated: true, ValLoss: 123456789.5, NewBest: true, Seconds: 1}
	got, _ := json.Marshal(st)
	want, _ := json.Marshal(plain(st))
	if string(got) != string(want) {
		t.Errorf("finite EpochStats: %s, encoding/json: %s", got, want)
	}

	s := RunSummary{Hidden: 100, LR: 1e6, Diverged: true, DivergedEpoch: 1, TestAccuracy: math.NaN(), TestLoss: math.NaN(), BestValAccuracy: math.NaN()}
	b, err = json.Marshal(s)
	if err != nil || !strings.Contains(string(b), `"test_acc":null`) {
		t.Fatalf("RunSummary: %s, %v", b, err)
	}
	var s2 RunSummary
	if err := json.Unmarshal(b, &s2); err != nil || !math.IsNaN(s2.TestAccuracy) || !math.IsNaN(s2.BestValAccuracy) || s2.LR != 1e6 || !s2.Diverged {
		t.Errorf("RunSummary read back: %+v, %v", s2, err)
	}
}

// TestAggregateDiverged checks that diverged runs count as such and that
// untested runs leave the test means.
func TestAggregateDiverged(t *testing.T) {
	nan := math.NaN()
	runs := []RunSummary{
		{Hidden: 5, LR: 1e6, Diverged: true, DivergedEpoch: 1, TestAccuracy: nan, TestLoss: nan, BestValAccuracy: nan},
		{Hidden: 5, LR: 0.1, Seed: 0, Tested: true, BestEpoch: 2, BestValAccuracy: 0.8, TestAccuracy: 0.8, TestLoss: 0.6},
		{Hidden: 5, LR: 0.1, Seed: 1, Diverged: true, DivergedEpoch: 4, Tested: true, BestEpoch: 3, BestValAccuracy: 0.6, TestAccuracy: 0.6, TestLoss: 1},
		{Hidden: 5, LR: 0.1, Seed: 2, Diverged: true, DivergedEpoch: 1, TestAccuracy: nan, TestLoss: nan, BestValAccuracy: nan},
	}
	cells := Aggregate(runs)
	if len(cells) != 2 {
		t.Fatalf("%d cells, want 2", len(cells))
	}
	d := cells[0]
	if d.Runs != 1 || d.Diverged != 1 || d.DivergedEpochMin != 1 || d.Tested != 0 || !math.IsNaN(d.TestAccMean) || d.BestEpochMax != 0 {
		t.Errorf("all diverged: %+v", d)
	}
	m := cells[1]
	if m.Runs != 3 || m.Diverged != 2 || m.DivergedEpochMin != 1 || m.Tested != 2 || math.Abs(m.TestAccMean-0.7) > 1e-12 ||
		m.BestEpochMin != 2 || m.BestEpochMax != 3 || math.Abs(m.BestValMean-0.7) > 1e-12 {
		t.Errorf("2 of 3 diverged: %+v", m)
	}
	if _, err := json.Marshal(cells); err != nil {
		t.Errorf("cells to JSON: %v", err)
	}
}
