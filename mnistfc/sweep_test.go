package mnistfc

import (
	"reflect"
	"testing"
)

// TestSweepMatchesSingleRuns checks that concurrent runs return in the order
// of their configurations, each with the numbers it gets when trained alone.
func TestSweepMatchesSingleRuns(t *testing.T) {
	data := officialData(t)
	base := DefaultConfig()
	base.Epochs = 1
	cfgs := Configs(base, Grid([]int{3, 12}, []float64{0.1}), 2) // (3, s0), (3, s1), (12, s0), (12, s1)
	if len(cfgs) != 4 {
		t.Fatalf("Configs made %d runs, want 4", len(cfgs))
	}
	seen := 0
	res, err := Sweep(data, cfgs, 2, func(int, *Result) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(cfgs) {
		t.Errorf("done called %d times, want %d", seen, len(cfgs))
	}
	for i, r := range res {
		if r == nil || r.Config != cfgs[i] {
			t.Fatalf("result %d is for %+v, want %+v", i, r.Config, cfgs[i])
		}
	}
	alone, err := Train(cfgs[3], WithData(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(alone.History, res[3].History) || alone.TestAccuracy != res[3].TestAccuracy {
		t.Errorf("run 4 in the sweep: %+v, test %v; alone: %+v, test %v",
			res[3].History, res[3].TestAccuracy, alone.History, alone.TestAccuracy)
	}
	cells := Aggregate(summaries(res))
	if len(cells) != 2 || cells[0].Runs != 2 || cells[1].Runs != 2 {
		t.Errorf("Aggregate: %+v, want 2 cells of 2 runs", cells)
	}
}

func summaries(rs []*Result) []RunSummary {
	out := make([]RunSummary, len(rs))
	for i, r := range rs {
		out[i] = r.Summary()
	}
	return out
}
