package mnistfc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/mnistfc/mnistfc/internal/jsonfinite"
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
	Init            Init        `json:"init"`
	Optimizer       Optimizer   `json:"optimizer"`
	Network         string      `json:"network"`
	Backend         string      `json:"backend"`
	Diverged        bool        `json:"diverged,omitempty"`
	DivergedEpoch   int         `json:"diverged_epoch,omitempty"`
	Interrupted     bool        `json:"interrupted,omitempty"`
	BestEpoch       int         `json:"best_epoch"`   // 0 when no epoch gave a model (diverged in the first one).
	BestValAccuracy float64     `json:"best_val_acc"` // NaN (null in JSON) when BestEpoch is 0.
	// Tested is false when the run had no model to test; TestAccuracy and
	// TestLoss are then NaN (null in JSON).
	Tested          bool    `json:"tested"`
	TestAccuracy    float64 `json:"test_acc"`
	TestLoss        float64 `json:"test_loss"`
	SecondsPerEpoch float64 `json:"seconds_per_epoch"`
	Seconds         float64 `json:"seconds"` // Training plus test.
}

// Summary condenses a result into a RunSummary.
func (r *Result) Summary() RunSummary {
	s := RunSummary{
		Hidden: r.Config.HiddenDim, LR: r.Config.LearningRate, Seed: r.Config.Seed,
		Epochs: r.Config.Epochs, Softmax: r.Config.Softmax, Init: r.Config.Init, Optimizer: r.Config.Optimizer,
		Network: r.Network, Backend: r.Backend,
		Diverged: r.Diverged, DivergedEpoch: r.DivergedEpoch, Interrupted: r.Interrupted,
		BestEpoch: r.BestEpoch, BestValAccuracy: r.BestValAccuracy,
		Tested: r.Tested, TestAccuracy: r.TestAccuracy, TestLoss: r.TestLoss,
		SecondsPerEpoch: r.SecondsPerEpoch, Seconds: r.TrainSeconds + r.TestSeconds,
	}
	if !r.Tested {
		s.TestAccuracy, s.TestLoss = math.NaN(), math.NaN()
	}
	if r.BestEpoch == 0 {
		s.BestValAccuracy = math.NaN()
	}
	return s
}

// ErrSweepStopped is wrapped by the error of Sweep when its context was
// cancelled before every run had started.
var ErrSweepStopped = errors.New("sweep stopped")

// Sweep trains every configuration on the same data and returns the
// results in the order of cfgs. It trains up to Parallel runs at a time,
// the costliest first, and calls OnRun as each run finishes; the other
// options apply to every run.
//
// Cancelling ctx stops the sweep between runs: it starts no new run, the
// runs in flight finish all their epochs and OnRun is called for them, and
// it returns the results, nil for the runs never started, with an error
// wrapping ErrSweepStopped and ctx's cause.
func Sweep(ctx context.Context, data *Data, cfgs []Config, opts ...Option) ([]*Result, error) {
	o := &options{keep: map[int]bool{}}
	for _, opt := range opts {
		opt(o)
	}
	parallel, done := o.parallel, o.onRun
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
	// Runs with the same graphs reuse them (and the data on the backend).
	pool := newRunPool(parallel)
	defer pool.free()
	runOpts := append([]Option{WithData(data), func(o *options) { o.pool = pool }}, opts...)
	// The runs in flight do not see ctx's cancellation.
	runCtx := context.WithoutCancel(ctx)
	// Start the costliest runs first, so that a long run does not start
	// last and leave the other cores idle at the end.
	order := make([]int, len(cfgs))
	for i := range order {
		order[i] = i
	}
	cost := func(c Config) int { return c.HiddenDim * c.Epochs }
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cost(cfgs[b]), cost(cfgs[a])) })
	started := 0
	for _, i := range order {
		cfg := cfgs[i]
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := Train(runCtx, cfg, runOpts...)
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
	if started < len(cfgs) {
		return results, fmt.Errorf("%w after %d of %d runs: %w", ErrSweepStopped, started, len(cfgs), context.Cause(ctx))
	}
	return results, nil
}

// CellSummary aggregates the runs of one experiment over seeds. The test
// numbers are over the runs that were tested (Tested of Runs; NaN, null in
// JSON, when none was), the best validation accuracy and epochs over the
// runs that had a best model (zero epochs when none had).
type CellSummary struct {
	Hidden int     `json:"hidden"`
	LR     float64 `json:"lr"`
	Runs   int     `json:"runs"`
	// Diverged counts the runs whose loss became NaN or infinite;
	// DivergedEpochMin the earliest epoch where one did.
	Diverged         int     `json:"diverged,omitempty"`
	DivergedEpochMin int     `json:"diverged_epoch_min,omitempty"`
	Tested           int     `json:"tested"`
	TestAccMean      float64 `json:"test_acc_mean"`
	TestAccStd       float64 `json:"test_acc_std"` // Sample standard deviation; 0 for a single run.
	TestLossMean     float64 `json:"test_loss_mean"`
	TestLossStd      float64 `json:"test_loss_std"`
	BestValMean      float64 `json:"best_val_acc_mean"`
	BestEpochMin     int     `json:"best_epoch_min"`
	BestEpochMax     int     `json:"best_epoch_max"`
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
		c := CellSummary{Hidden: k.h, LR: k.lr, Runs: len(g)}
		var acc, loss, val []float64
		for _, r := range g {
			if r.Diverged {
				if c.Diverged == 0 || r.DivergedEpoch < c.DivergedEpochMin {
					c.DivergedEpochMin = r.DivergedEpoch
				}
				c.Diverged++
			}
			if !math.IsNaN(r.TestAccuracy) {
				c.Tested++
				acc, loss = append(acc, r.TestAccuracy), append(loss, r.TestLoss)
			}
			if r.BestEpoch > 0 {
				if len(val) == 0 || r.BestEpoch < c.BestEpochMin {
					c.BestEpochMin = r.BestEpoch
				}
				c.BestEpochMax = max(c.BestEpochMax, r.BestEpoch)
				val = append(val, r.BestValAccuracy)
			}
		}
		c.TestAccMean, c.TestAccStd = meanStd(acc)
		c.TestLossMean, c.TestLossStd = meanStd(loss)
		c.BestValMean, _ = meanStd(val)
		cells = append(cells, c)
	}
	return cells
}

// meanStd returns the mean and sample standard deviation of v (NaN, 0 for no values).
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), 0
	}
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

// MarshalJSON is encoding/json's encoding, with non-finite numbers (a
// diverged run's) written as null.
func (s RunSummary) MarshalJSON() ([]byte, error) { return jsonfinite.Marshal(s) }

// MarshalJSON is encoding/json's encoding, with non-finite numbers (a
// diverged run's) written as null.
func (c CellSummary) MarshalJSON() ([]byte, error) { return jsonfinite.Marshal(c) }

// UnmarshalJSON reads what MarshalJSON writes, null numbers as NaN.
func (s *RunSummary) UnmarshalJSON(b []byte) error {
	type plain RunSummary
	return jsonfinite.Unmarshal(b, (*plain)(s))
}

// UnmarshalJSON reads what MarshalJSON writes, null numbers as NaN.
func (c *CellSummary) UnmarshalJSON(b []byte) error {
	type plain CellSummary
	return jsonfinite.Unmarshal(b, (*plain)(c))
}
