package mnistfc

import (
	"math"

	"github.com/mnistfc/mnistfc/internal/jsonfinite"
)

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

// SameOutcome reports whether s and o are the same outcome: every field
// but the timings, non-finite numbers alike.
func (s RunSummary) SameOutcome(o RunSummary) bool {
	s.Seconds, s.SecondsPerEpoch, o.Seconds, o.SecondsPerEpoch = 0, 0, 0, 0
	a, errA := s.MarshalJSON()
	b, errB := o.MarshalJSON()
	return errA == nil && errB == nil && string(a) == string(b)
}

// Result returns a Result with the numbers of s and no history, no
// predictions and no weights: what a run kept as a summary only can give.
// Its Summary is s.
func (s RunSummary) Result() *Result {
	return &Result{
		Config: Config{HiddenDim: s.Hidden, LearningRate: s.LR, Seed: s.Seed, Epochs: s.Epochs,
			Softmax: s.Softmax, Init: s.Init, Optimizer: s.Optimizer, Backend: s.Backend},
		Network: s.Network, Backend: s.Backend,
		Diverged: s.Diverged, DivergedEpoch: s.DivergedEpoch, Interrupted: s.Interrupted,
		BestEpoch: s.BestEpoch, BestValAccuracy: s.BestValAccuracy,
		Tested: s.Tested, TestAccuracy: s.TestAccuracy, TestLoss: s.TestLoss,
		SecondsPerEpoch: s.SecondsPerEpoch, TrainSeconds: s.Seconds,
	}
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
