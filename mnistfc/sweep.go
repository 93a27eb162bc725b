package mnistfc

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Experiment is one (hidden size, learning rate) pair of the assignment.
type Experiment struct {
	HiddenDim    int
	LearningRate float64
}

// OriginalExperiments returns the seven experiments of the original notebook, in its order.
func OriginalExperiments() []Experiment {
	return []Experiment{
		{1, 1e-4}, {5, 1e-4}, {100, 1e-4}, {200, 1e-4}, // Hidden size.
		{100, 1e-6}, {100, 0.1}, {100, 1e-3}, // Learning rate.
	}
}

// Configs returns one copy of base per experiment and seed (seeds base.Seed,
// base.Seed+1, ...), experiments in order, seeds innermost.
func Configs(base Config, experiments []Experiment, seeds int) []Config {
	var cfgs []Config
	for _, e := range experiments {
		for s := range max(seeds, 1) {
			c := base
			c.HiddenDim, c.LearningRate, c.Seed = e.HiddenDim, e.LearningRate, base.Seed+uint64(s)
			cfgs = append(cfgs, c)
		}
	}
	return cfgs
}

// Grid returns the experiments of every hidden size with every learning rate.
func Grid(hiddens []int, lrs []float64) []Experiment {
	var ex []Experiment
	for _, h := range hiddens {
		for _, lr := range lrs {
			ex = append(ex, Experiment{h, lr})
		}
	}
	return ex
}

// RunSummary is the outcome of one run of a sweep.
type RunSummary struct {
	Hidden          int         `json:"hidden"`
	LR              float64     `json:"lr"`
	Seed            uint64      `json:"seed"`
	Epochs          int         `json:"epochs"`
	Softmax         SoftmaxMode `json:"softmax"`
	Init            string      `json:"init"`
	Optimizer       string      `json:"optimizer"`
	Network         string      `json:"network"`
	Backend         string      `json:"backend"`
	Diverged        bool        `json:"diverged,omitempty"`
	DivergedEpoch   int         `json:"diverged_epoch,omitempty"`
	Interrupted     bool        `json:"interrupted,omitempty"`
	BestEpoch       int         `json:"best_epoch"`
	BestValAccuracy float64     `json:"best_val_acc"`
	TestAccuracy    float64     `json:"test_acc"`
	TestLoss        float64     `json:"test_loss"`
	SecondsPerEpoch float64     `json:"seconds_per_epoch"`
	Seconds         float64     `json:"seconds"` // Training plus test.
}

// Summary condenses a result into a RunSummary.
func (r *Result) Summary() RunSummary {
	return RunSummary{
		Hidden: r.Config.HiddenDim, LR: r.Config.LearningRate, Seed: r.Config.Seed,
		Epochs: r.Config.Epochs, Softmax: r.Config.Softmax, Init: r.Config.Init, Optimizer: r.Config.Optimizer,
		Network: r.Network, Backend: r.Backend,
		Diverged: r.Diverged, DivergedEpoch: r.DivergedEpoch, Interrupted: r.Interrupted,
		BestEpoch: r.BestEpoch, BestValAccuracy: r.BestValAccuracy,
		TestAccuracy: r.TestAccuracy, TestLoss: r.TestLoss,
		SecondsPerEpoch: r.SecondsPerEpoch, Seconds: r.TrainSeconds + r.TestSeconds,
	}
}

// Sweep trains every configuration on the same data, up to parallel runs
// at a time (parallel < 1: one per CPU core), and returns the results in
// the order of cfgs. done, if not nil, is called after each run finishes,
// from one goroutine at a time. opts apply to every run.
func Sweep(data *Data, cfgs []Config, parallel int, done func(i int, r *Result), opts ...Option) ([]*Result, error) {
	if parallel < 1 {
		parallel = runtime.NumCPU()
	}
	results := make([]*Result, len(cfgs))
	errs := make([]error, len(cfgs))
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, parallel)
	)
	runOpts := append([]Option{WithData(data)}, opts...)
	// Start the costliest runs first, so that a long run does not start
	// last and leave the other cores idle at the end.
	order := make([]int, len(cfgs))
	for i := range order {
		order[i] = i
	}
	cost := func(c Config) int { return c.HiddenDim * c.Epochs }
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cost(cfgs[b]), cost(cfgs[a])) })
	for _, i := range order {
		cfg := cfgs[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := Train(cfg, runOpts...)
			if err != nil {
				errs[i] = fmt.Errorf("run %d (hidden %d, lr %g, seed %d): %w", i+1, cfg.HiddenDim, cfg.LearningRate, cfg.Seed, err)
				return
			}
			results[i] = r
			if done != nil {
				mu.Lock()
				done(i, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// CellSummary aggregates the runs of one experiment over seeds.
type CellSummary struct {
	Hidden       int     `json:"hidden"`
	LR           float64 `json:"lr"`
	Runs         int     `json:"runs"`
	TestAccMean  float64 `json:"test_acc_mean"`
	TestAccStd   float64 `json:"test_acc_std"` // Sample standard deviation; 0 for a single run.
	TestLossMean float64 `json:"test_loss_mean"`
	TestLossStd  float64 `json:"test_loss_std"`
	BestValMean  float64 `json:"best_val_acc_mean"`
	BestEpochMin int     `json:"best_epoch_min"`
	BestEpochMax int     `json:"best_epoch_max"`
}

// Aggregate groups runs by (hidden, lr), in order of first appearance, with mean and standard deviation over seeds.
func Aggregate(runs []RunSummary) []CellSummary {
	type key struct {
		h  int
		lr float64
	}
	var order []key
	groups := map[key][]RunSummary{}
	for _, r := range runs {
		k := key{r.Hidden, r.LR}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	cells := make([]CellSummary, 0, len(order))
	for _, k := range order {
		g := groups[k]
		c := CellSummary{Hidden: k.h, LR: k.lr, Runs: len(g), BestEpochMin: math.MaxInt}
		var acc, loss, val []float64
		for _, r := range g {
			acc, loss, val = append(acc, r.TestAccuracy), append(loss, r.TestLoss), append(val, r.BestValAccuracy)
			c.BestEpochMin, c.BestEpochMax = min(c.BestEpochMin, r.BestEpoch), max(c.BestEpochMax, r.BestEpoch)
		}
		c.TestAccMean, c.TestAccStd = meanStd(acc)
		c.TestLossMean, c.TestLossStd = meanStd(loss)
		c.BestValMean, _ = meanStd(val)
		cells = append(cells, c)
	}
	return cells
}

func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

// IsOriginal reports whether (hidden, lr) is one of the original notebook's seven experiments.
func IsOriginal(hidden int, lr float64) bool {
	return slices.Contains(OriginalExperiments(), Experiment{hidden, lr})
}
