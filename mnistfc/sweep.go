package mnistfc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/mnistfc/mnistfc/internal/shard"
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

// ErrSweepStopped is wrapped by the error of Sweep when its context was
// cancelled before every run had started.
var ErrSweepStopped = errors.New("sweep stopped")

// A RunStore keeps finished runs by key (RunKey). Package runstore's
// Store is the one the command line and the notebooks share.
type RunStore interface {
	// Result returns the run kept under key, or nil and no error when
	// there is none.
	Result(key string) (*Result, error)
	// Keep keeps r under key; name says where it comes from.
	Keep(key, name string, r *Result) error
}

// sweepOptions are the options only Sweep reads.
type sweepOptions struct {
	store  RunStore
	resume bool
	onPlan func(SweepPlan)
}

// Keep makes Sweep keep every run it finishes in store, under its RunKey,
// as it finishes. A run that cannot be kept stops the sweep as a
// cancellation does, and Sweep returns that error.
func Keep(store RunStore) Option {
	return func(o *options) { o.sweep.store, o.sweep.resume = store, false }
}

// Resume is Keep, and Sweep does not train the runs store already holds:
// it returns them as kept.
func Resume(store RunStore) Option {
	return func(o *options) { o.sweep.store, o.sweep.resume = store, true }
}

// SweepPlan says what Sweep found in its store before training.
type SweepPlan struct {
	Kept  []int // Indices in the configurations of the runs the store held (Resume).
	Train []int // Indices of the runs to train, costliest first.
	// Damaged holds an error for each kept run that did not read back:
	// the run is trained again and replaces it.
	Damaged []error
}

// OnPlan makes Sweep call fn once, before it trains anything.
func OnPlan(fn func(SweepPlan)) Option { return func(o *options) { o.sweep.onPlan = fn } }

// RunKey returns the key under which Sweep keeps the run of cfg and net
// trained on data split with splitSeed: Fingerprint(cfg, net), followed by
// "-split" and the seed when splitSeed is not cfg.Seed (a Train of cfg
// splits with cfg.Seed).
func RunKey(cfg Config, net Network, splitSeed uint64) (string, error) {
	k, err := Fingerprint(cfg, net)
	if err != nil {
		return "", err
	}
	if splitSeed != cfg.Seed {
		k += fmt.Sprintf("-split%d", splitSeed)
	}
	return k, nil
}

// runCost is the relative cost of a run: its epochs times the
// multiply-adds of one image through the network, 784·H + 10·H (with the
// biases, 795·H + 10), plus the 784 pixels read and normalised per image,
// which a tiny hidden layer does not make free.
func runCost(c Config) int64 {
	return int64(c.Epochs) * (784 + 795*int64(c.HiddenDim) + 10)
}

// Shard returns the indices in cfgs of the runs of shard index (from 1)
// of count, in order. Every run is in exactly one shard, the shards are
// balanced by cost (epochs times the network's size), and which shard a
// run is in depends only on cfgs and count: each process of a cluster job
// computes its own part.
func Shard(cfgs []Config, index, count int) []int {
	costs := make([]int64, len(cfgs))
	for i, c := range cfgs {
		costs[i] = runCost(c)
	}
	var mine []int
	for i, k := range shard.Assign(costs, count) {
		if k == index-1 {
			mine = append(mine, i)
		}
	}
	return mine
}

// ShardCost returns the share of the cost of cfgs that the runs at
// indices take, in [0, 1].
func ShardCost(cfgs []Config, indices []int) float64 {
	var part, all int64
	for i, c := range cfgs {
		all += runCost(c)
		if slices.Contains(indices, i) {
			part += runCost(c)
		}
	}
	return float64(part) / float64(max(all, 1))
}

// Sweep trains every configuration on the same data and returns the
// results in the order of cfgs. It trains up to Parallel runs at a time,
// the costliest first, and calls OnRun as each run finishes; the other
// options apply to every run. With Keep or Resume it keeps each run in a
// RunStore, and with Resume it returns the runs the store holds instead of
// training them; data must then come from LoadData with the settings of
// every configuration (its split seed is part of the keys).
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
	keys, plan, err := sweepPlan(data, cfgs, o, results)
	if err != nil {
		return nil, err
	}
	if o.sweep.onPlan != nil {
		o.sweep.onPlan(plan)
	}
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
	// The runs in flight do not see ctx's cancellation; a run that cannot
	// be kept cancels the rest.
	runCtx := context.WithoutCancel(ctx)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	started := 0
	for _, i := range plan.Train {
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
			mu.Lock()
			defer mu.Unlock()
			if o.sweep.store != nil {
				name := fmt.Sprintf("sweep run %d of %d (hidden %d, lr %g, seed %d)", i+1, len(cfgs), cfg.HiddenDim, cfg.LearningRate, cfg.Seed)
				if err := o.sweep.store.Keep(keys[i], name, r); err != nil {
					errs[i] = fmt.Errorf("run %d: %w", i+1, err)
					cancel(errs[i])
				}
			}
			if done != nil {
				done(i, r)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return results, err
		}
	}
	if started < len(plan.Train) {
		return results, fmt.Errorf("%w after %d of %d runs: %w", ErrSweepStopped, len(plan.Kept)+started, len(cfgs), context.Cause(ctx))
	}
	return results, nil
}

// sweepPlan returns the keys of the runs of cfgs (with a store) and what
// to train, costliest first, and puts the runs the store holds in results.
func sweepPlan(data *Data, cfgs []Config, o *options, results []*Result) ([]string, SweepPlan, error) {
	var plan SweepPlan
	keys := make([]string, len(cfgs))
	for i, cfg := range cfgs {
		if o.sweep.store == nil {
			plan.Train = append(plan.Train, i)
			continue
		}
		if data == nil || data.split == nil {
			return nil, plan, errors.New("sweep: keeping runs needs data from LoadData (the keys name its split)")
		}
		if sp := data.split; cfg.DataDir != sp.dir || cfg.ValidationRatio != sp.ratio {
			return nil, plan, fmt.Errorf("sweep: run %d reads data %q with validation ratio %g, the data given is %q with %g: a sweep uses one data set",
				i+1, cfg.DataDir, cfg.ValidationRatio, sp.dir, sp.ratio)
		}
		net := FullyConnected(cfg.HiddenDim)
		if o.network != nil {
			net = *o.network
		}
		k, err := RunKey(cfg, net, data.split.seed)
		if err != nil {
			return nil, plan, fmt.Errorf("sweep: run %d: %w", i+1, err)
		}
		keys[i] = k
		if o.sweep.resume {
			r, err := o.sweep.store.Result(k)
			switch {
			case err != nil:
				plan.Damaged = append(plan.Damaged, err)
			case r != nil:
				results[i] = r
				plan.Kept = append(plan.Kept, i)
				continue
			}
		}
		plan.Train = append(plan.Train, i)
	}
	// The costliest runs first, so that a long run does not start last
	// and leave the other cores idle at the end.
	slices.SortStableFunc(plan.Train, func(a, b int) int { return cmp.Compare(runCost(cfgs[b]), runCost(cfgs[a])) })
	return keys, plan, nil
}

// IsOriginal reports whether (hidden, lr) is one of the original notebook's seven experiments.
func IsOriginal(hidden int, lr float64) bool {
	return slices.Contains(OriginalExperiments(), Experiment{hidden, lr})
}
