package mnistfc

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/internal/finite"
)

// reluNetwork is a user-defined network: two hidden ReLU layers with He
// initialisation, 784 -> 256 -> 128 -> 10.
func reluNetwork() Network {
	relu := func(x *graph.Node) *graph.Node { return graph.Max(x, graph.ZerosLike(x)) }
	return Network{
		Name: "784-256-relu-128-relu-10",
		Logits: func(scope *model.Scope, x *graph.Node) *graph.Node {
			h := relu(HeLinear(scope.In("hidden1"), x, 256))
			h = relu(HeLinear(scope.In("hidden2"), h, 128))
			return HeLinear(scope.In("output"), h, NumClasses)
		},
	}
}

func TestTrainUserNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for 10 epochs")
	}
	cfg := DefaultConfig()
	cfg.Epochs = 10
	res, err := Train(t.Context(), cfg, WithData(trainingData(t)), WithNetwork(reluNetwork()))
	if err != nil {
		t.Fatal(err)
	}
	if res.TestAccuracy < 0.90 {
		t.Errorf("two hidden ReLU layers, lr 0.1, 10 epochs: test accuracy %.4f, want at least 0.90", res.TestAccuracy)
	}
	if res.Network != "784-256-relu-128-relu-10" || len(res.Best) != 6 || res.Best.NumParameters() != 784*256+256+256*128+128+128*10+10 {
		t.Errorf("network %q with %d weights (%d values), want the user's 6 variables", res.Network, len(res.Best), res.Best.NumParameters())
	}
	t.Logf("test accuracy %.4f, %.2f s/epoch", res.TestAccuracy, res.SecondsPerEpoch)
}

func TestNetworkIgnoringInputCannotLearn(t *testing.T) {
	// Logits from a bias alone: the best it can do is to always answer the most common class.
	blind := Network{Name: "blind", Logits: func(scope *model.Scope, x *graph.Node) *graph.Node {
		return Linear(scope.In("bias"), graph.ZerosLike(x), NumClasses)
	}}
	cfg := DefaultConfig()
	cfg.Epochs = 3
	res, err := Train(t.Context(), cfg, WithData(trainingData(t)), WithNetwork(blind))
	if err != nil {
		t.Fatal(err)
	}
	if res.TestAccuracy > 0.2 {
		t.Errorf("a network that ignores its input reached test accuracy %.4f, want at most 0.2", res.TestAccuracy)
	}
}

func TestTrainAdam(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Epochs, cfg.Optimizer, cfg.LearningRate = 1, OptimizerAdam, 1e-3
	res, err := Train(t.Context(), cfg, WithData(trainingData(t)))
	if err != nil {
		t.Fatal(err)
	}
	if res.TestAccuracy < 0.85 {
		t.Errorf("Adam, lr 1e-3, 1 epoch: test accuracy %.4f, want at least 0.85", res.TestAccuracy)
	}
}

func TestTrainDiverges(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Epochs, cfg.LearningRate, cfg.Softmax = 4, 1e6, SoftmaxBatch
	var log strings.Builder
	res, err := Train(t.Context(), cfg, WithData(trainingData(t)), WithLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	checkLogReplay(t, log.String(), res)
	if !res.Diverged || res.DivergedEpoch < 1 || len(res.Epochs) != res.DivergedEpoch || res.DivergedEpoch == cfg.Epochs && !math.IsNaN(res.History.TrainLosses[len(res.History.TrainLosses)-1]) {
		t.Fatalf("lr 1e6: diverged %v at epoch %d after %d epochs, train losses %v", res.Diverged, res.DivergedEpoch, len(res.Epochs), res.History.TrainLosses)
	}
	if last := res.History.TrainLosses[len(res.History.TrainLosses)-1]; finite.Is(last) && (len(res.History.ValLosses) == 0 || finite.Is(res.History.ValLosses[len(res.History.ValLosses)-1])) {
		t.Errorf("diverged, but the last losses are finite: %v %v", res.History.TrainLosses, res.History.ValLosses)
	}
}

func TestTrainInterrupted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Epochs, cfg.HiddenDim = 30, 16
	ctx, cancel := context.WithCancel(t.Context())
	var log strings.Builder
	res, err := Train(ctx, cfg, WithData(trainingData(t)), WithLog(&log), OnEpoch(func(st EpochStats) {
		if st.Epoch == 2 {
			cancel()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	checkLogReplay(t, log.String(), res)
	if !res.Interrupted || len(res.Epochs) != 2 || !res.Tested || res.TestAccuracy < 0.5 {
		t.Errorf("cancelled in epoch 2: interrupted %v after %d epochs, tested %v (accuracy %.3f)", res.Interrupted, len(res.Epochs), res.Tested, res.TestAccuracy)
	}
}
