package mnistfc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/internal/finite"
	"github.com/mnistfc/mnistfc/mnistfc/torchcompat"
)

// Train trains a network as the original notebook's train() does: SGD
// (Config.Optimizer) on shuffled batches, validation every EvalEvery
// epochs, the best model kept when its validation accuracy (rounded to 3
// decimals) beats the best so far by more than 0.001, and that model
// evaluated on the test set.
//
// The network is FullyConnected(cfg.HiddenDim) unless WithNetwork gives
// another. Its gradients come from GoMLX's automatic differentiation and
// its updates from GoMLX's optimizers, in step graphs built as GoMLX's
// train.Trainer builds them; the steps' losses and accuracies stay on the
// backend until the epoch ends.
//
// A run whose loss becomes NaN or infinite stops at that epoch and is
// marked Diverged; a run whose ctx is cancelled (Ctrl-C) stops after the
// current epoch and is marked Interrupted. Both still test the best model
// so far and return a Result with a nil error.
func Train(ctx context.Context, cfg Config, opts ...Option) (*Result, error) {
	o := &options{keep: map[int]bool{}}
	for _, opt := range opts {
		opt(o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	net := FullyConnected(cfg.HiddenDim)
	if o.network != nil {
		net = *o.network
	}
	if err := net.check(); err != nil {
		return nil, err
	}
	data := o.data
	if data == nil {
		var err error
		if data, err = LoadData(cfg.DataDir, cfg.ValidationRatio, cfg.Seed); err != nil {
			return nil, err
		}
	}
	backendName := backends.Resolve(cfg.Backend)
	backend, err := backends.New(backendName)
	if err != nil {
		return nil, err
	}
	var r *run
	key, pooled := o.pool.key(cfg, backendName, data, o)
	if pooled {
		r = o.pool.take(key)
	}
	if r != nil {
		err = r.reset(cfg, o)
	} else {
		r, err = newRun(cfg, net, backend, data, o)
	}
	if err != nil {
		if r != nil {
			r.free()
		}
		return nil, err
	}
	if pooled {
		defer o.pool.put(key, r)
	} else {
		defer r.free()
	}
	r.res.Backend = backendName
	if err := r.trainEpochs(ctx); err != nil {
		return nil, err
	}
	if err := r.test(); err != nil {
		return nil, err
	}
	return r.res, nil
}

// run is the state of one call to Train.
type run struct {
	cfg     Config
	net     Network
	backend compute.Backend
	data    *Data
	o       *options
	res     *Result
	store   *model.Store
	steps   *trainSteps
	eval    *evaluator
	valSet  *deviceSet
	testSet *deviceSet             // Sent at the first test.
	torch   *torchcompat.Generator // With InitTorch: PyTorch's global generator after the initial weights, for the batch order.
}

func newRun(cfg Config, net Network, backend compute.Backend, data *Data, o *options) (*run, error) {
	store := model.NewStore()
	if err := seedStore(store, cfg.Seed); err != nil {
		return nil, err
	}
	torch, err := presetWeights(store, backend, cfg)
	if err != nil {
		return nil, err
	}
	opt, err := newOptimizer(cfg)
	if err != nil {
		return nil, err
	}
	eval := newEvaluator(backend, store, net, cfg.Softmax, true)
	r := &run{net: net, backend: backend, data: data, store: store, eval: eval, torch: torch}
	r.steps = &trainSteps{backend: backend, store: store, net: net, mode: cfg.Softmax, opt: opt,
		batchSize: cfg.BatchSize, host: data.Train, execs: map[int]*model.Exec{}}
	// The validation set, and on some backends the training set, go to the
	// backend once per run.
	f := feedFor(cfg)
	if f.resident {
		if r.steps.resident, err = upload(backend, data.Train, data.Train.Len()); err != nil {
			return nil, err
		}
	}
	if steps := data.Train.Len() / cfg.BatchSize; f.loop && steps > 0 {
		// SGD's variables are created now, so that the loop's body finds them.
		optimizer.LearningRateVar(store.RootScope(), dtypes.Float32, cfg.LearningRate)
		optimizer.GetGlobalStepVar(store)
		if r.steps.loop, err = r.steps.newLoop(steps); err != nil {
			r.free()
			return nil, err
		}
	}
	if r.valSet, err = upload(backend, data.Validation, r.evalRows()); err != nil {
		r.free()
		return nil, err
	}
	// Validating one batch initialises the network's variables, so that the
	// initial weights can be kept; it also compiles the evaluation graph.
	stats, probs, err := eval.pass(r.valSet, cfg.BatchSize, 1, PhaseValidation, nil)
	if err != nil {
		r.free()
		return nil, err
	}
	stats.FinalizeAll()
	probs.FinalizeAll()
	if err := r.steps.compile(data.Train.Len()); err != nil {
		r.free()
		return nil, err
	}
	if err := r.start(cfg, o); err != nil {
		r.free()
		return nil, err
	}
	if cfg.Init == InitTorch {
		if _, err := r.res.Initial.Params(); err != nil {
			r.free()
			return nil, fmt.Errorf("init %q needs the two-layer network's variables %s, %s, %s and %s with hidden size %d (network %q): %w",
				InitTorch, layer1Weights, layer1Biases, layer2Weights, layer2Biases, cfg.HiddenDim, net.Name, err)
		}
	}
	return r, nil
}

// seedStore seeds the store's initializers with the run's seed.
func seedStore(store *model.Store, seed uint64) error {
	store.SetParam(seedParam, int64(seed))
	if err := store.SetRNGStateFromSeed(int64(seed)); err != nil {
		return fmt.Errorf("seeding the initializers: %w", err)
	}
	return nil
}

// start makes r the run of cfg with options o: a new result, whose initial
// weights are the store's (and snapshot 0 if o keeps it).
func (r *run) start(cfg Config, o *options) error {
	r.cfg, r.o = cfg, o
	r.res = &Result{Config: cfg, Network: r.net.Name, Snapshots: map[int]Weights{}}
	var err error
	if r.res.Initial, err = storeWeights(r.store); err != nil {
		return err
	}
	if o.keep[0] {
		r.res.Snapshots[0] = r.res.Initial.clone()
	}
	return nil
}

// evalRows is the row count of the validation and test sets on the
// backend: the larger of the two, so that one compiled evaluation graph
// takes both (upload).
func (r *run) evalRows() int { return max(r.data.Validation.Len(), r.data.Test.Len()) }

func (r *run) free() {
	// The compiled graphs go with the run: a sweep compiles new ones per run.
	r.steps.finalize()
	r.eval.finalize()
	if r.steps.resident != nil {
		r.steps.resident.free()
	}
	for _, set := range []*deviceSet{r.valSet, r.testSet} {
		if set != nil {
			set.free()
		}
	}
}

// reset makes r, a finished run with the same graphs (see runPool.key),
// ready to train cfg: new initial weights, learning rate and step count,
// and a new result. The compiled graphs, the data on the backend and the
// spare batches stay.
func (r *run) reset(cfg Config, o *options) error {
	store := r.store
	if err := seedStore(store, cfg.Seed); err != nil {
		return err
	}
	r.torch = nil
	p := InitParams(InitDefault, cfg.HiddenDim, cfg.Seed) // What FullyConnected's initializers draw.
	if cfg.Init == InitTorch {
		p, r.torch = torchInit(cfg.HiddenDim, cfg.Seed)
	}
	if err := setWeights(store, p.Weights()); err != nil {
		return fmt.Errorf("setting the initial weights: %w", err)
	}
	// SGD's variables (runPool.key pools SGD runs only).
	if err := optimizer.LearningRateVar(store.RootScope(), dtypes.Float32, cfg.LearningRate).SetValue(tensors.FromScalar(float32(cfg.LearningRate))); err != nil {
		return fmt.Errorf("setting the learning rate: %w", err)
	}
	if err := optimizer.GetGlobalStepVar(store).SetValue(tensors.FromScalar(int64(0))); err != nil {
		return fmt.Errorf("resetting the step count: %w", err)
	}
	return r.start(cfg, o)
}

// newOptimizer returns the GoMLX optimizer named by cfg.Optimizer.
func newOptimizer(cfg Config) (optimizer.Interface, error) {
	switch cfg.Optimizer {
	case OptimizerSGD, "":
		// Plain SGD, as the original: GoMLX's SGD decays the rate by default.
		return optimizer.StochasticGradientDescent().WithDecay(false).WithLearningRate(cfg.LearningRate).Done(), nil
	case OptimizerAdam:
		return optimizer.Adam().LearningRate(cfg.LearningRate).Done(), nil
	}
	return nil, &FieldError{"Optimizer", cfg.Optimizer, `must be "sgd" or "adam"`}
}

// presetWeights sets the initial weights that cfg.Init asks for; with
// InitDefault the network's own initializers draw them. With InitTorch it
// returns PyTorch's generator after those draws, which then shuffles the
// batches.
func presetWeights(store *model.Store, backend compute.Backend, cfg Config) (*torchcompat.Generator, error) {
	if cfg.Init != InitTorch {
		return nil, nil
	}
	p, torch := torchInit(cfg.HiddenDim, cfg.Seed)
	for _, w := range p.Weights() {
		// Declared with an initializer and initialised now: when the network
		// declares the same variables, it replaces the initializer of those
		// that have no value yet.
		value := tensors.FromFlatDataAndDimensions(w.Values, w.Dims...)
		store.VariableWithShape("/"+w.Name, value.Shape(), func(g *graph.Graph, _ shapes.Shape) *graph.Node {
			return graph.Const(g, value)
		})
	}
	if err := store.InitializeVariables(backend, nil); err != nil {
		return nil, fmt.Errorf("init %s: %w", InitTorch, err)
	}
	return torch, nil
}

// trainEpochs runs the epochs, validating and keeping the best model, until
// the last epoch, a divergence or an interruption: ctx cancelled, which
// stops the run after the current epoch.
func (r *run) trainEpochs(ctx context.Context) error {
	cfg, res, o := r.cfg, r.res, r.o
	shuffle := rand.New(rand.NewPCG(cfg.Seed, 0x5a0ff1e))
	order := identity(r.data.Train.Len())
	bestAcc := -1.0
	start := time.Now()
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		epochStart := time.Now()
		if r.torch != nil {
			order = r.torch.EpochOrder(r.data.Train.Len())
		} else {
			shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		st := EpochStats{Epoch: epoch}
		var err error
		if st.TrainLoss, st.TrainAccuracy, err = r.trainEpoch(epoch, order); err != nil {
			return err
		}
		r.logf("%s", trainLine(st))
		diverged := !finite.Is(st.TrainLoss)
		if !diverged && (epoch-1)%cfg.EvalEvery == 0 {
			st.Validated = true
			if st.ValLoss, st.ValAccuracy, _, err = r.eval.evaluate(r.valSet, cfg.BatchSize, PhaseValidation, o.onBatch); err != nil {
				return err
			}
			if r.torch != nil {
				// Each pass over the original's validation DataLoader draws
				// its seed from the global generator, which moves the next
				// epoch's shuffle.
				r.torch.LoaderBaseSeed()
			}
			rounded := roundTo3(st.ValAccuracy)
			r.logf("%s", validationLine(st))
			diverged = !finite.Is(st.ValLoss)
			if !diverged && improves(bestAcc, rounded) {
				bestAcc = rounded
				st.NewBest = true
				res.BestEpoch, res.BestValAccuracy = epoch, rounded
				if res.Best, err = storeWeights(r.store); err != nil {
					return err
				}
				r.logf("%s", bestLine(st))
			}
		}
		if o.keep[epoch] {
			if res.Snapshots[epoch], err = storeWeights(r.store); err != nil {
				return err
			}
		}
		st.Seconds = time.Since(epochStart).Seconds()
		res.Epochs = append(res.Epochs, st)
		res.History.Add(st)
		if o.onEpoch != nil {
			o.onEpoch(st)
		}
		if diverged {
			res.Diverged, res.DivergedEpoch = true, epoch
			r.logf("%s", divergedLine(st))
			break
		}
		if ctx.Err() != nil && epoch < cfg.Epochs {
			res.Interrupted = true
			r.logf("%s", interruptedLine(epoch))
			break
		}
	}
	res.TrainSeconds = time.Since(start).Seconds()
	res.SecondsPerEpoch = res.TrainSeconds / float64(max(len(res.Epochs), 1))
	return nil
}

// trainEpoch takes one optimizer step per batch of the training set in the
// given order and returns the mean of the batches' losses and accuracies.
// The steps' statistics are read once, after the last step; OnStep
// callbacks run then.
func (r *run) trainEpoch(epoch int, order []int) (loss, acc float64, err error) {
	var onStep func(done, total int)
	if r.o.onBatch != nil {
		onStep = func(done, total int) { r.o.onBatch(PhaseTrain, done, total) }
	}
	losses, accs, err := r.steps.epoch(order, onStep)
	if err != nil {
		return 0, 0, fmt.Errorf("epoch %d: %w", epoch, err)
	}
	if r.o.onStep != nil {
		for i := range losses {
			r.o.onStep(StepStats{Epoch: epoch, Step: i + 1, Loss: losses[i], Accuracy: accs[i]})
		}
	}
	return mean(losses), mean(accs), nil
}

// test evaluates the best model on the test set.
func (r *run) test() error {
	res := r.res
	if res.Best == nil {
		r.logf("%s", testLines(res))
		return nil
	}
	start := time.Now()
	// The evaluation graph of the validations reads the store's variables:
	// set them to the best weights rather than compile another graph.
	if err := setWeights(r.store, res.Best); err != nil {
		return fmt.Errorf("restoring the best weights: %w", err)
	}
	var err error
	if r.testSet == nil {
		if r.testSet, err = upload(r.backend, r.data.Test, r.evalRows()); err != nil {
			return err
		}
	}
	if res.TestLoss, res.TestAccuracy, res.TestProbs, err = r.eval.evaluate(r.testSet, r.cfg.TestBatchSize, PhaseTest, r.o.onBatch); err != nil {
		return err
	}
	res.Tested = true
	res.TestSeconds = time.Since(start).Seconds()
	res.TestPredictions = argMaxRows(res.TestProbs)
	res.TestLabels = append([]uint8(nil), r.data.Test.Labels...)
	r.logf("%s", testLines(res))
	return nil
}

func (r *run) logf(format string, args ...any) {
	if r.o.log != nil {
		fmt.Fprintf(r.o.log, format, args...)
	}
}

// oneHot turns int32 labels [N] into one-hot float32 targets [N, NumClasses].
func oneHot(labels *graph.Node) *graph.Node {
	return graph.OneHot(labels, NumClasses, dtypes.Float32)
}

// identity returns the indices 0..n-1.
func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// argMaxRows returns, for probabilities laid out NumClasses per example, the most probable class of each example.
func argMaxRows(probs []float32) []uint8 {
	preds := make([]uint8, len(probs)/NumClasses)
	for i := range preds {
		row := probs[i*NumClasses : (i+1)*NumClasses]
		best := 0
		for c, p := range row {
			if p > row[best] {
				best = c
			}
		}
		preds[i] = uint8(best)
	}
	return preds
}

// improves is the original's rule for a new best model: the validation
// accuracy, rounded to 3 decimals, beats the best so far by more than 0.001.
func improves(best, rounded float64) bool { return best+0.001 < rounded }

// roundTo3 rounds like numpy's np.round(x, 3): half to even on x·1000.
func roundTo3(x float64) float64 { return math.RoundToEven(x*1000) / 1000 }
