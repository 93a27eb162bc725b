package mnistfc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
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

// memStore is a RunStore in memory; damaged keys fail to read back.
type memStore struct {
	runs    map[string]*Result
	damaged map[string]bool
	fail    error // Returned by Keep.
}

func (s *memStore) Result(key string) (*Result, error) {
	if s.damaged[key] {
		return nil, fmt.Errorf("run %s: damaged", key)
	}
	return s.runs[key], nil
}

func (s *memStore) Keep(key, _ string, r *Result) error {
	if s.fail != nil {
		return s.fail
	}
	s.runs[key] = r
	return nil
}

// TestSweepResume: Keep keeps every run under its RunKey; Resume returns
// the runs a store holds without training them, trains the rest and the
// damaged ones, and says which in OnPlan; a run that cannot be kept stops
// the sweep with its error.
func TestSweepResume(t *testing.T) {
	data := trainingData(t)
	base := DefaultConfig()
	base.Epochs, base.Backend = 1, "go"
	cfgs := Configs(base, Grid([]int{3, 5}, []float64{0.1}), 2)
	store := &memStore{runs: map[string]*Result{}, damaged: map[string]bool{}}
	first, err := Sweep(t.Context(), data, cfgs, Parallel(2), Keep(store))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cfgs {
		key, err := RunKey(c, FullyConnected(c.HiddenDim), cfgs[0].Seed)
		if err != nil || store.runs[key] != first[i] {
			t.Errorf("run %d is not kept under its key %q (%v)", i+1, key, err)
		}
		if want := c.Seed != 0; strings.HasSuffix(key, "-split0") != want {
			t.Errorf("run %d (seed %d): key %q", i+1, c.Seed, key)
		}
	}
	// Run 2 lost, run 3 damaged: both trained again, runs 1 and 4 not.
	keys := make([]string, len(cfgs))
	for i, c := range cfgs {
		keys[i], _ = RunKey(c, FullyConnected(c.HiddenDim), 0)
	}
	delete(store.runs, keys[1])
	store.damaged[keys[2]] = true
	var plan SweepPlan
	trained := map[int]bool{}
	again, err := Sweep(t.Context(), data, cfgs, Parallel(2), Resume(store),
		OnPlan(func(p SweepPlan) { plan = p }), OnRun(func(i int, _ *Result) { trained[i] = true }))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plan.Kept, []int{0, 3}) || len(plan.Train) != 2 || len(plan.Damaged) != 1 || !trained[1] || !trained[2] || len(trained) != 2 {
		t.Errorf("plan %+v, trained %v; want runs 1 and 4 kept, 2 and 3 trained, one damaged", plan, trained)
	}
	for i := range cfgs {
		if again[i].TestAccuracy != first[i].TestAccuracy {
			t.Errorf("run %d: %v resumed, %v first", i+1, again[i].TestAccuracy, first[i].TestAccuracy)
		}
	}
	if again[0] != first[0] {
		t.Error("run 1 was not taken from the store")
	}
	// A store that cannot keep stops the sweep.
	store.fail = errors.New("disk full")
	_, err = Sweep(t.Context(), data, cfgs[:1], Keep(store))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a failing store: %v", err)
	}
	// Data not from LoadData has no split to key runs by.
	if _, err := Sweep(t.Context(), &Data{Train: data.Train, Validation: data.Validation, Test: data.Test}, cfgs, Resume(store)); err == nil {
		t.Error("Resume with data of unknown split took it")
	}
}
