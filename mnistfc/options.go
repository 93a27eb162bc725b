package mnistfc

import "io"

// Option changes how Train runs, or how Sweep runs and trains each of its
// runs.
type Option func(*options)

type options struct {
	data    *Data
	network *Network
	log     io.Writer
	onStep  func(StepStats)
	onEpoch func(EpochStats)
	onBatch func(phase Phase, done, total int)
	keep    map[int]bool
	// Sweep's.
	parallel int
	onRun    func(i int, r *Result)
	sweep    sweepOptions
	// pool, when set, lends finished runs to the next ones (Sweep).
	pool *runPool
}

// WithData trains on already loaded data instead of loading it from Config.DataDir.
// Loading once and sharing it is what a sweep does.
func WithData(d *Data) Option { return func(o *options) { o.data = d } }

// WithNetwork trains net instead of FullyConnected(Config.HiddenDim).
func WithNetwork(net Network) Option { return func(o *options) { o.network = &net } }

// WithLog prints the original notebook's lines ("Train epoch N: ...",
// "==== new best model! ...", the test results) to w.
func WithLog(w io.Writer) Option { return func(o *options) { o.log = w } }

// Combine makes one option of several, for packages that offer an option
// built from OnEpoch and OnBatch.
func Combine(opts ...Option) Option {
	return func(o *options) {
		for _, opt := range opts {
			opt(o)
		}
	}
}

// chain returns a function calling prev (if any), then fn.
func chain[T any](prev, fn func(T)) func(T) {
	if prev == nil {
		return fn
	}
	return func(v T) { prev(v); fn(v) }
}

// OnStep calls fn for every training step with its loss and accuracy. The
// steps' numbers stay on the backend until the epoch's last step, so the
// calls for an epoch come together, in order, at its end (OnBatch follows
// the steps as they run). Several OnStep options all run, in order.
func OnStep(fn func(StepStats)) Option {
	return func(o *options) { o.onStep = chain(o.onStep, fn) }
}

// OnEpoch calls fn after every epoch. Several OnEpoch options all run, in order.
func OnEpoch(fn func(EpochStats)) Option {
	return func(o *options) { o.onEpoch = chain(o.onEpoch, fn) }
}

// OnBatch calls fn after every batch, for progress bars. Several OnBatch
// options all run, in order.
func OnBatch(fn func(phase Phase, done, total int)) Option {
	return func(o *options) {
		if prev := o.onBatch; prev != nil {
			o.onBatch = func(p Phase, done, total int) { prev(p, done, total); fn(p, done, total) }
			return
		}
		o.onBatch = fn
	}
}

// KeepWeightsAt keeps a copy of the weights at the end of the given epochs
// in Result.Snapshots.
func KeepWeightsAt(epochs ...int) Option {
	return func(o *options) {
		for _, e := range epochs {
			o.keep[e] = true
		}
	}
}

// Parallel makes Sweep train up to n runs at a time; n < 1, or no Parallel
// option, means one per CPU core. Train ignores it.
func Parallel(n int) Option { return func(o *options) { o.parallel = n } }

// OnRun makes Sweep call fn after each run finishes, with the run's index
// in the configurations and its result, from one goroutine at a time.
// Several OnRun options all run, in order. Train ignores it.
func OnRun(fn func(i int, r *Result)) Option {
	return func(o *options) {
		if prev := o.onRun; prev != nil {
			o.onRun = func(i int, r *Result) { prev(i, r); fn(i, r) }
			return
		}
		o.onRun = fn
	}
}
