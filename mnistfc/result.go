package mnistfc

import (
	"fmt"
	"strings"

	"github.com/mnistfc/mnistfc/internal/finite"
	"github.com/mnistfc/mnistfc/internal/jsonfinite"
)

// Phase names the part of a run a batch belongs to.
type Phase string

// The phases of a training run.
const (
	PhaseTrain      Phase = "train"
	PhaseValidation Phase = "validation"
	PhaseTest       Phase = "test"
)

// StepStats are the numbers of one training step (one batch).
type StepStats struct {
	Epoch    int     `json:"epoch"`
	Step     int     `json:"step"` // 1-based within the epoch.
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"acc"`
}

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

// Add appends the numbers of one epoch.
func (h *History) Add(st EpochStats) {
	h.TrainAccuracies = append(h.TrainAccuracies, st.TrainAccuracy)
	h.TrainLosses = append(h.TrainLosses, st.TrainLoss)
	if st.Validated {
		h.ValAccuracies = append(h.ValAccuracies, st.ValAccuracy)
		h.ValLosses = append(h.ValLosses, st.ValLoss)
		h.ValEpochs = append(h.ValEpochs, st.Epoch)
	}
}

// Result is everything a training run produces.
type Result struct {
	Config  Config       `json:"config"`
	Network string       `json:"network"` // Network.Name.
	Backend string       `json:"backend"` // The backend configuration actually used.
	Epochs  []EpochStats `json:"epochs"`
	History History      `json:"history"`

	// Diverged is set when the training loss (or the validation loss)
	// became NaN or infinite; training stopped after DivergedEpoch.
	Diverged      bool `json:"diverged,omitempty"`
	DivergedEpoch int  `json:"diverged_epoch,omitempty"`
	// Interrupted is set when the run's context was cancelled (Ctrl-C);
	// training stopped after the last epoch in Epochs.
	Interrupted bool `json:"interrupted,omitempty"`

	BestEpoch int `json:"best_epoch"`
	// BestValAccuracy is the best validation accuracy rounded to 3 decimals,
	// the number the original compares and prints.
	BestValAccuracy float64 `json:"best_val_acc"`

	// Tested is false when no epoch produced a model to test (a run that
	// diverged or was interrupted in its first epoch); the Test fields are then zero.
	Tested          bool      `json:"tested"`
	TestLoss        float64   `json:"test_loss"`
	TestAccuracy    float64   `json:"test_acc"`
	TestPredictions []uint8   `json:"-"` // Predicted class of each test image, in test-set order.
	TestLabels      []uint8   `json:"-"` // True class of each test image.
	TestProbs       []float32 `json:"-"` // Class probabilities of each test image, NumClasses per image.

	Initial   Weights         `json:"-"` // Weights before the first step.
	Best      Weights         `json:"-"` // Weights of the best model.
	Snapshots map[int]Weights `json:"-"` // Weights at the end of the epochs asked for with KeepWeightsAt.

	SecondsPerEpoch float64 `json:"seconds_per_epoch"` // Mean training plus validation time per epoch.
	TrainSeconds    float64 `json:"train_seconds"`     // All epochs; the graphs are compiled before the first, outside this time.
	TestSeconds     float64 `json:"test_seconds"`      // Testing the best model.
}

// Divergence says where and how a diverged run diverged, e.g. "diverged
// at epoch 1 (train loss NaN)"; it is "" for a run that did not.
func (r *Result) Divergence() string {
	if !r.Diverged {
		return ""
	}
	var why []string
	for _, st := range r.Epochs {
		if st.Epoch != r.DivergedEpoch {
			continue
		}
		if !finite.Is(st.TrainLoss) {
			why = append(why, fmt.Sprintf("train loss %v", st.TrainLoss))
		}
		if st.Validated && !finite.Is(st.ValLoss) {
			why = append(why, fmt.Sprintf("validation loss %v", st.ValLoss))
		}
	}
	s := fmt.Sprintf("diverged at epoch %d", r.DivergedEpoch)
	if len(why) > 0 {
		s += " (" + strings.Join(why, ", ") + ")"
	}
	return s
}

// BestParams returns the best weights as Params, for runs of FullyConnected.
func (r *Result) BestParams() (*Params, error) { return r.Best.Params() }

// MarshalJSON is encoding/json's encoding, with non-finite numbers (a
// diverged run's) written as null.
func (s EpochStats) MarshalJSON() ([]byte, error) { return jsonfinite.Marshal(s) }

// MarshalJSON is encoding/json's encoding, with non-finite numbers (a
// diverged run's) written as null.
func (h History) MarshalJSON() ([]byte, error) { return jsonfinite.Marshal(h) }

// MarshalJSON is encoding/json's encoding, with non-finite numbers (a
// diverged run's) written as null.
func (r Result) MarshalJSON() ([]byte, error) { return jsonfinite.Marshal(r) }

// UnmarshalJSON reads what MarshalJSON writes, null numbers as NaN.
func (s *EpochStats) UnmarshalJSON(b []byte) error {
	type plain EpochStats
	return jsonfinite.Unmarshal(b, (*plain)(s))
}

// UnmarshalJSON reads what MarshalJSON writes, null numbers as NaN.
func (h *History) UnmarshalJSON(b []byte) error {
	type plain History
	return jsonfinite.Unmarshal(b, (*plain)(h))
}

// UnmarshalJSON reads what MarshalJSON writes, null numbers as NaN.
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	return jsonfinite.Unmarshal(b, (*plain)(r))
}
