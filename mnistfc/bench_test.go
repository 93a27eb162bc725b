package mnistfc

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
)

// BenchmarkEpoch measures one epoch (training on 51000 images plus
// validation on 9000, hidden 100, batch 1000) on the backend named by
// $GOMLX_BACKEND (default "go"). It reports seconds per epoch and the
// process's peak resident memory.
//
//	GOEXPERIMENT=simd go test -run '^$' -bench Epoch -benchtime 5x ./mnistfc
func BenchmarkEpoch(b *testing.B) {
	data, err := LoadData("", 0.15, 0)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Epochs = 1
	// Compile the graphs once outside the timing.
	if _, err := Train(cfg, WithData(data)); err != nil {
		b.Fatal(err)
	}
	cfg.Epochs = b.N
	b.ResetTimer()
	res, err := Train(cfg, WithData(data))
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(res.SecondsPerEpoch, "s/epoch")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peakRSS-MiB")
}

// peakRSS returns the process's peak resident set size in bytes (Linux), or 0.
func peakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkTrainStep compares one SGD step on a batch of 1000 (hidden 100)
// taken by GoMLX's train.Trainer, as Train does, with the same step as a
// plain model.Exec of the loss and the optimizer's update (no metrics, no
// moving average): the cost of using the Trainer. The two alternate, step
// by step, so that a busy machine slows both alike; it reports the mean
// milliseconds per step of each.
//
//	GOEXPERIMENT=simd go test -run '^$' -bench TrainStep -benchtime 200x ./mnistfc
func BenchmarkTrainStep(b *testing.B) {
	data, err := LoadData("", 0.15, 0)
	if err != nil {
		b.Fatal(err)
	}
	backend, err := NewBackend("")
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	net := FullyConnected(cfg.HiddenDim)
	idx := identity(cfg.BatchSize)
	batch := func() *batch {
		bt, err := makeBatch(backend, data.Train, idx)
		if err != nil {
			b.Fatal(err)
		}
		return bt
	}
	withTrainer, err := newRun(cfg, net, backend, data, &options{keep: map[int]bool{}})
	if err != nil {
		b.Fatal(err)
	}
	defer withTrainer.free()
	plain, err := newRun(cfg, net, backend, data, &options{keep: map[int]bool{}})
	if err != nil {
		b.Fatal(err)
	}
	defer plain.free()
	opt, _ := newOptimizer(cfg)
	exec, err := model.NewExec(backend, plain.store, func(scope *model.Scope, x, labels *graph.Node) []*graph.Node {
		y := net.probabilities(net.Logits(scope, x), cfg.Softmax)
		loss := net.loss(y, oneHot(labels))
		opt.UpdateGraph(scope, x.Graph(), loss)
		return []*graph.Node{loss, Accuracy(y, oneHot(labels))}
	})
	if err != nil {
		b.Fatal(err)
	}
	trainerStep := func() {
		bt := batch()
		metrics, err := withTrainer.trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{bt.x}, Labels: []*tensors.Tensor{bt.y}})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range metrics {
			scalar(m)
		}
	}
	execStep := func() {
		bt := batch()
		defer bt.free()
		out, err := exec.Call(bt.x, bt.y)
		if err != nil {
			b.Fatal(err)
		}
		scalar(out[0])
		scalar(out[1])
	}
	trainerStep() // Compile both.
	execStep()
	var tTrainer, tExec time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		trainerStep()
		tTrainer += time.Since(start)
		start = time.Now()
		execStep()
		tExec += time.Since(start)
	}
	b.ReportMetric(float64(tTrainer.Microseconds())/1000/float64(b.N), "ms/trainer-step")
	b.ReportMetric(float64(tExec.Microseconds())/1000/float64(b.N), "ms/exec-step")
}
