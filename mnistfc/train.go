package mnistfc

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// Data bundles the three sets a training run uses.
type Data struct {
	Train, Validation, Test *Dataset
}

// LoadData reads MNIST-like IDX files from dir (empty: the official MNIST
// files) and splits the training images into train and validation sets.
func LoadData(dir string, validationRatio float64, seed uint64) (*Data, error) {
	train, test, err := LoadMNIST(dir)
	if err != nil {
		return nil, err
	}
	tr, val, err := Split(train, validationRatio, seed)
	if err != nil {
		return nil, err
	}
	return &Data{Train: tr, Validation: val, Test: test}, nil
}

// Phase names the part of a run a batch belongs to.
type Phase string

// The phases of a training run.
const (
	PhaseTrain      Phase = "train"
	PhaseValidation Phase = "validation"
	PhaseTest       Phase = "test"
)

// EpochStats are the numbers of one epoch, as the original prints them.
type EpochStats struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_acc"`
	// Validated is false on epochs skipped by EvalEvery; the Val fields are then zero.
	Validated   bool    `json:"validated"`
	ValLoss     float64 `json:"val_loss,omitempty"`
	ValAccuracy float64 `json:"val_acc,omitempty"`
	// NewBest marks the epoch whose model became the best so far.
	NewBest bool    `json:"new_best,omitempty"`
	Seconds float64 `json:"seconds"` // Training plus validation time of the epoch.
}

// History holds the per-epoch curves, like the original's cur_acc_loss.
// The validation slices have one entry per validated epoch (ValEpochs).
type History struct {
	TrainAccuracies []float64 `json:"train_accuracies"`
	TrainLosses     []float64 `json:"train_losses"`
	ValAccuracies   []float64 `json:"val_accuracies"`
	ValLosses       []float64 `json:"val_losses"`
	ValEpochs       []int     `json:"val_epochs"`
}

// Result is everything a training run produces.
type Result struct {
	Config  Config       `json:"config"`
	Backend string       `json:"backend"` // The backend configuration actually used.
	Epochs  []EpochStats `json:"epochs"`
	History History      `json:"history"`

	BestEpoch int `json:"best_epoch"`
	// BestValAccuracy is the best validation accuracy rounded to 3 decimals,
	// the number the original compares and prints.
	BestValAccuracy float64 `json:"best_val_acc"`

	TestLoss        float64   `json:"test_loss"`
	TestAccuracy    float64   `json:"test_acc"`
	TestPredictions []uint8   `json:"-"` // Predicted class of each test image, in test-set order.
	TestLabels      []uint8   `json:"-"` // True class of each test image.
	TestProbs       []float32 `json:"-"` // Class probabilities of each test image, NumClasses per image.

	Best      *Params         `json:"-"` // Weights of the best model.
	Snapshots map[int]*Params `json:"-"` // Weights at the end of the epochs asked for with KeepWeightsAt.

	SecondsPerEpoch float64 `json:"seconds_per_epoch"` // Mean training plus validation time per epoch.
	TrainSeconds    float64 `json:"train_seconds"`     // All epochs, including the first one's compilation.
	TestSeconds     float64 `json:"test_seconds"`
}

// Option changes how Train runs.
type Option func(*options)

type options struct {
	data    *Data
	log     io.Writer
	onEpoch func(EpochStats)
	onBatch func(phase Phase, done, total int)
	keep    map[int]bool
}

// WithData trains on already loaded data instead of loading it from Config.DataDir.
// Loading once and sharing it is what a sweep does.
func WithData(d *Data) Option { return func(o *options) { o.data = d } }

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

// OnEpoch calls fn after every epoch. Several OnEpoch options all run, in order.
func OnEpoch(fn func(EpochStats)) Option {
	return func(o *options) {
		if prev := o.onEpoch; prev != nil {
			o.onEpoch = func(st EpochStats) { prev(st); fn(st) }
			return
		}
		o.onEpoch = fn
	}
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

// KeepWeightsAt keeps a copy of the weights at the end of the given epochs in Result.Snapshots.
func KeepWeightsAt(epochs ...int) Option {
	return func(o *options) {
		for _, e := range epochs {
			o.keep[e] = true
		}
	}
}

// Train trains the network as the original notebook's train() does: plain
// SGD on shuffled batches, validation every EvalEvery epochs, the best model
// kept when its validation accuracy (rounded to 3 decimals) beats the best
// so far by more than 0.001, and that model evaluated on the test set.
func Train(cfg Config, opts ...Option) (*Result, error) {
	o := &options{keep: map[int]bool{}}
	for _, opt := range opts {
		opt(o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	data := o.data
	if data == nil {
		var err error
		if data, err = LoadData(cfg.DataDir, cfg.ValidationRatio, cfg.Seed); err != nil {
			return nil, err
		}
	}
	backendName := ResolveBackendName(cfg.Backend)
	backend, err := NewBackend(backendName)
	if err != nil {
		return nil, err
	}
	net, err := newNetwork(backend, InitParams(cfg.HiddenDim, cfg.Seed), cfg.Softmax)
	if err != nil {
		return nil, err
	}

	res := &Result{Config: cfg, Backend: backendName, Snapshots: map[int]*Params{}}
	logf := func(format string, args ...any) {
		if o.log != nil {
			fmt.Fprintf(o.log, format, args...)
		}
	}
	// The validation batches are the same every epoch: cut them once.
	valSet, err := newBatchSet(backend, data.Validation, cfg.BatchSize)
	if err != nil {
		return nil, err
	}
	defer valSet.free()
	shuffle := rand.New(rand.NewPCG(cfg.Seed, 0x5a0ff1e))
	order := identity(data.Train.Len())
	bestAcc := -1.0
	start := time.Now()
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		epochStart := time.Now()
		shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		st := EpochStats{Epoch: epoch}
		batches := prefetch(backend, data.Train, splitIndices(order, cfg.BatchSize))
		st.TrainLoss, st.TrainAccuracy, err = runEpoch(batches.total, batches.next, PhaseTrain, o.onBatch,
			func(b *batch) (float64, float64, error) {
				defer b.free()
				return net.trainBatch(b, float32(cfg.LearningRate))
			})
		batches.stop()
		if err != nil {
			return nil, err
		}
		logf("Train epoch %d: accuracy %v, loss %v\n", epoch, st.TrainAccuracy, st.TrainLoss)
		res.History.TrainAccuracies = append(res.History.TrainAccuracies, st.TrainAccuracy)
		res.History.TrainLosses = append(res.History.TrainLosses, st.TrainLoss)

		if (epoch-1)%cfg.EvalEvery == 0 {
			st.Validated = true
			st.ValLoss, st.ValAccuracy, _, err = evaluate(net, valSet, PhaseValidation, o.onBatch)
			if err != nil {
				return nil, err
			}
			res.History.ValAccuracies = append(res.History.ValAccuracies, st.ValAccuracy)
			res.History.ValLosses = append(res.History.ValLosses, st.ValLoss)
			res.History.ValEpochs = append(res.History.ValEpochs, epoch)
			rounded := roundTo3(st.ValAccuracy)
			logf("Validation epoch %d: accuracy %v, loss %v\n", epoch, rounded, st.ValLoss)
			if improves(bestAcc, rounded) {
				bestAcc = rounded
				st.NewBest = true
				res.BestEpoch, res.BestValAccuracy = epoch, rounded
				if res.Best, err = net.params(); err != nil {
					return nil, err
				}
				logf("==== new best model! epoch %d, accuracy %v ====\n", epoch, rounded)
			}
		}
		if o.keep[epoch] {
			if res.Snapshots[epoch], err = net.params(); err != nil {
				return nil, err
			}
		}
		st.Seconds = time.Since(epochStart).Seconds()
		res.Epochs = append(res.Epochs, st)
		if o.onEpoch != nil {
			o.onEpoch(st)
		}
	}
	res.TrainSeconds = time.Since(start).Seconds()
	res.SecondsPerEpoch = res.TrainSeconds / float64(cfg.Epochs)

	testStart := time.Now()
	net.setParams(res.Best)
	testSet, err := newBatchSet(backend, data.Test, cfg.TestBatchSize)
	if err != nil {
		return nil, err
	}
	defer testSet.free()
	res.TestLoss, res.TestAccuracy, res.TestProbs, err = evaluate(net, testSet, PhaseTest, o.onBatch)
	if err != nil {
		return nil, err
	}
	res.TestSeconds = time.Since(testStart).Seconds()
	res.TestPredictions = ArgMaxRows(res.TestProbs)
	res.TestLabels = append([]uint8(nil), data.Test.Labels...)
	logf("===== Test Results =====\n")
	logf("Test Accuracy : %v\n", res.TestAccuracy)
	logf("Test Loss : %v\n", res.TestLoss)
	return res, nil
}

// evaluate runs the current weights over the batches of set and returns the
// mean loss and accuracy and the class probabilities of every example.
func evaluate(net *network, set *batchSet, phase Phase, onBatch func(Phase, int, int)) (loss, acc float64, probs []float32, err error) {
	probs = make([]float32, 0, set.examples*NumClasses)
	i := 0
	next := func() (*batch, error) { i++; return set.batches[i-1], nil }
	loss, acc, err = runEpoch(len(set.batches), next, phase, onBatch, func(b *batch) (float64, float64, error) {
		l, a, p, err := net.evalBatch(b)
		probs = append(probs, p...)
		return l, a, err
	})
	return loss, acc, probs, err
}

// identity returns the indices 0..n-1.
func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// ArgMaxRows returns, for probabilities laid out NumClasses per example, the most probable class of each example.
func ArgMaxRows(probs []float32) []uint8 {
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

// runEpoch runs step on total batches taken from next and returns the mean
// of the batches' losses and accuracies, as the original's np.mean over
// batches does.
func runEpoch(total int, next func() (*batch, error), phase Phase, onBatch func(Phase, int, int),
	step func(*batch) (loss, acc float64, err error)) (meanLoss, meanAcc float64, err error) {
	for i := range total {
		b, err := next()
		if err != nil {
			return 0, 0, err
		}
		loss, acc, err := step(b)
		if err != nil {
			return 0, 0, err
		}
		meanLoss += loss
		meanAcc += acc
		if onBatch != nil {
			onBatch(phase, i+1, total)
		}
	}
	return meanLoss / float64(total), meanAcc / float64(total), nil
}

// improves is the original's rule for a new best model: the validation
// accuracy, rounded to 3 decimals, beats the best so far by more than 0.001.
func improves(best, rounded float64) bool { return best+0.001 < rounded }

// roundTo3 rounds like numpy's np.round(x, 3): half to even on x·1000.
func roundTo3(x float64) float64 { return math.RoundToEven(x*1000) / 1000 }
