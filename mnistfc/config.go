package mnistfc

import (
	"fmt"
	"math"
)

// Config holds everything that defines a training run. Its first fields
// mirror the original notebook's args dictionary.
type Config struct {
	HiddenDim       int         `json:"hidden"`           // Hidden layer size H.
	LearningRate    float64     `json:"lr"`               // Plain SGD step size.
	BatchSize       int         `json:"batch_size"`       // Training (and validation) batch size.
	TestBatchSize   int         `json:"test_batch_size"`  // Test batch size.
	Epochs          int         `json:"epochs"`           // Number of passes over the training set.
	ValidationRatio float64     `json:"validation_ratio"` // Share of the 60000 training images kept for validation, in (0, 1).
	EvalEvery       int         `json:"eval_every"`       // Validate on epochs 1, 1+EvalEvery, 1+2·EvalEvery, ...
	Seed            uint64      `json:"seed"`             // Seeds the split, the initial weights and the shuffling.
	Softmax         SoftmaxMode `json:"softmax"`          // SoftmaxRow (correct) or SoftmaxBatch (the original's).
	Init            Init        `json:"init"`             // InitDefault (the network's own initializers) or InitTorch (PyTorch's weights and batch order).
	Optimizer       Optimizer   `json:"optimizer"`        // OptimizerSGD (plain SGD, the original's) or OptimizerAdam.
	Backend         string      `json:"backend"`          // GoMLX backend, e.g. "go" or "xla:cuda"; empty: $GOMLX_BACKEND, else the fastest installed.
	DataDir         string      `json:"data_dir"`         // Folder of IDX files; empty: the official MNIST files of the GoMNIST module.
}

// DefaultConfig returns the original notebook's settings with hidden size
// 100 and learning rate 0.1, its best experiment.
func DefaultConfig() Config {
	return Config{
		HiddenDim:       100,
		LearningRate:    0.1,
		BatchSize:       1000,
		TestBatchSize:   1000,
		Epochs:          35,
		ValidationRatio: 0.15,
		EvalEvery:       1,
		Seed:            0,
		Softmax:         SoftmaxRow,
		Init:            InitDefault,
		Optimizer:       OptimizerSGD,
	}
}

// Init selects the initial weights of a run and, with them, the order of
// its batches (Config.Init). Its values are the spellings of the command
// line's -init and of the JSON files; the empty Init means InitDefault.
type Init string

// Initialisations.
const (
	// InitDefault draws the initial weights with the network's own
	// initializers, seeded with Config.Seed, and shuffles the batches with
	// a generator seeded with it too.
	InitDefault Init = "default"
	// InitTorch starts FullyConnected from the weights that
	// torch.manual_seed(Seed) followed by the original's nn.Linear layers
	// draw on the CPU, and shuffles the batches like its DataLoader (see
	// package torchcompat).
	InitTorch Init = "torch"
)

// Optimizer selects how a run updates the weights (Config.Optimizer). Its
// values are the spellings of the command line's -optimizer and of the
// JSON files; the empty Optimizer means OptimizerSGD.
type Optimizer string

// Optimizers.
const (
	OptimizerSGD  Optimizer = "sgd"  // Plain SGD, w ← w - lr·∇w, as in the original.
	OptimizerAdam Optimizer = "adam" // Adam, GoMLX's optimizer.Adam with LearningRate as its step size.
)

// FieldError reports an invalid Config field.
type FieldError struct {
	Field  string // Name of the Config field, e.g. "HiddenDim".
	Value  any    // The rejected value.
	Reason string // What a valid value looks like.
}

// Error says which field is invalid, its value and why.
func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid %s %v: %s", e.Field, e.Value, e.Reason)
}

// Validate returns a *FieldError for the first invalid field, or nil.
func (c Config) Validate() error {
	positive := func(field string, v int) error {
		if v < 1 {
			return &FieldError{field, v, "must be at least 1"}
		}
		return nil
	}
	for _, err := range []error{
		positive("HiddenDim", c.HiddenDim),
		positive("BatchSize", c.BatchSize),
		positive("TestBatchSize", c.TestBatchSize),
		positive("Epochs", c.Epochs),
		positive("EvalEvery", c.EvalEvery),
	} {
		if err != nil {
			return err
		}
	}
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		return &FieldError{"LearningRate", c.LearningRate, "must be a positive number"}
	}
	if !(c.ValidationRatio > 0 && c.ValidationRatio < 1) {
		return &FieldError{"ValidationRatio", c.ValidationRatio, "must be strictly between 0 and 1"}
	}
	if c.Init != "" && c.Init != InitDefault && c.Init != InitTorch {
		return &FieldError{"Init", c.Init, `must be "default" or "torch"`}
	}
	if c.Optimizer != "" && c.Optimizer != OptimizerSGD && c.Optimizer != OptimizerAdam {
		return &FieldError{"Optimizer", c.Optimizer, `must be "sgd" or "adam"`}
	}
	if c.Softmax != SoftmaxRow && c.Softmax != SoftmaxBatch {
		return &FieldError{"Softmax", c.Softmax, `must be "row" or "batch"`}
	}
	return nil
}
