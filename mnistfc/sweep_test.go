package mnistfc

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestSweepMatchesSingleRuns checks that concurrent runs return in the order
// of their configurations, each with the numbers it gets when trained alone.
func TestSweepMatchesSingleRuns(t *testing.T) {
	data := trainingData(t)
	base := DefaultConfig()
	base.Epochs = 1
	cfgs := Configs(base, Grid([]int{3, 12}, []float64{0.1}), 2) // (3, s0), (3, s1), (12, s0), (12, s1)
	if len(cfgs) != 4 {
		t.Fatalf("Configs made %d runs, want 4", len(cfgs))
	}
	seen := 0
	res, err := Sweep(t.Context(), data, cfgs, Parallel(2), OnRun(func(int, *Result) { seen++ }))
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(cfgs) {
		t.Errorf("OnRun called %d times, want %d", seen, len(cfgs))
	}
	for i, r := range res {
		if r == nil || r.Config != cfgs[i] {
			t.Fatalf("result %d is for %+v, want %+v", i, r.Config, cfgs[i])
		}
	}
	alone, err := Train(t.Context(), cfgs[3], WithData(data))
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

// TestSweepStops checks that a cancelled sweep starts no new run, keeps
// the one that finished (all its epochs), and says it stopped.
func TestSweepStops(t *testing.T) {
	data := trainingData(t)
	base := DefaultConfig()
	base.Epochs = 1
	cfgs := Configs(base, Grid([]int{4}, []float64{0.1, 0.2, 0.3}), 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	finished := 0
	res, err := Sweep(ctx, data, cfgs, Parallel(1), OnRun(func(int, *Result) { finished++; cancel() }))
	if !errors.Is(err, ErrSweepStopped) {
		t.Fatalf("error %v, want ErrSweepStopped", err)
	}
	started := 0
	for _, r := range res {
		if r != nil {
			started++
			if r.Interrupted {
				t.Errorf("run %+v was interrupted: a sweep's runs finish their epochs", r.Config)
			}
		}
	}
	if finished != 1 || started != 1 {
		t.Errorf("%d runs finished, %d results; want 1 and 1", finished, started)
	}
}
