package notebook

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/janpfeifer/gonb/gonbui"
	"github.com/mnistfc/mnistfc/internal/studentcode"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/runstore"
)

// Must returns v, or prints err and ends the cell's program with status 1
// (which also stops a headless run of the notebook). A panic of the
// notebook's own function is printed as what it panicked with.
func Must[T any](v T, err error) T {
	if err != nil {
		gonbui.Sync()
		var sp *studentcode.Panic
		if errors.As(err, &sp) {
			err = errors.New(studentcode.Reason(err))
		}
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	return v
}

// Exec builds the graph of fn (a function of *graph.Node values), runs it
// once on the notebooks' backend with args and returns its one output.
func Exec[F graph.ExecGraphFnOneOutput](fn F, args ...any) *tensors.Tensor {
	return Must(graph.ExecOnce(Backend(), safeFn(fn), args...))
}

// Data loads and splits the data of cfg (once per cell and setting).
func Data(cfg mnistfc.Config) *mnistfc.Data {
	key := dataKey{cfg.DataDir, cfg.ValidationRatio, cfg.Seed}
	if data[key] == nil {
		data[key] = Must(mnistfc.LoadData(cfg.DataDir, cfg.ValidationRatio, cfg.Seed))
	}
	return data[key]
}

// dataKey is what the split of Data depends on.
type dataKey struct {
	dir   string
	ratio float64
	seed  uint64
}

var data = map[dataKey]*mnistfc.Data{}

// Experiment trains net with cfg the way the assignment's cells do, and
// shows it: one output with the accuracy and loss curves, redrawn after
// every epoch (interactive where plotly.js is loaded, see Setup), and the
// progress bar; the original's per-epoch lines; the best validation
// accuracy.
//
// A run is kept on disk by what it computes (mnistfc.Fingerprint of cfg,
// with the notebooks' backend, and net): when the same settings and
// network ran before, in this kernel or an earlier one, Experiment shows
// that run again instead of training, and says so. An edited network or
// configuration trains again. Runs are kept in RunsDir.
//
// Interrupting the kernel (SIGINT) stops the run after the current epoch;
// the best model so far is tested and shown (and the run is not kept).
func Experiment(name string, cfg mnistfc.Config, net mnistfc.Network, opts ...RunOption) *mnistfc.Result {
	return run(name, cfg, net, true, opts)
}

// Run is Experiment with only a progress bar (or a line saying the run was
// kept): no per-epoch lines, no curves.
func Run(name string, cfg mnistfc.Config, net mnistfc.Network, opts ...RunOption) *mnistfc.Result {
	return run(name, cfg, net, false, opts)
}

// A RunOption changes what Experiment, Run and Kept train, keep and find.
type RunOption func(*runOptions)

type runOptions struct {
	weightsAt []int
}

// WeightsAt also keeps the weights at the end of the given epochs
// (Result.Snapshots; 0 for the initial weights). A run kept without them
// does not stand in for a run that asks for them.
func WeightsAt(epochs ...int) RunOption {
	return func(o *runOptions) { o.weightsAt = append(o.weightsAt, epochs...) }
}

// key returns the name a run of cfg and net is kept under, with opts.
func key(cfg mnistfc.Config, net mnistfc.Network, opts []RunOption) (string, *runOptions) {
	o := &runOptions{}
	for _, opt := range opts {
		opt(o)
	}
	k := Must(mnistfc.Fingerprint(cfg, net))
	if len(o.weightsAt) > 0 {
		epochs := slices.Sorted(slices.Values(o.weightsAt))
		k += "-weights" + strings.Trim(strings.ReplaceAll(fmt.Sprint(slices.Compact(epochs)), " ", "-"), "[]")
	}
	return k, o
}

func run(name string, cfg mnistfc.Config, net mnistfc.Network, verbose bool, opts []RunOption) *mnistfc.Result {
	net, cfg = studentcode.Network(net), withBackend(cfg)
	fingerprint, o := key(cfg, net, opts)
	k, announced := shown[fingerprint]
	if announced && !verbose {
		return k.Result // This cell has the run already and said where from.
	}
	if !announced {
		k, _ = loadRun(fingerprint)
	}
	if k != nil {
		res := k.Result
		shown[fingerprint] = k
		fmt.Printf("%s: kept from the run of %s on %s (same settings and network, %s in %.1f s): not trained again.\n",
			name, k.When.Format("2006-01-02 15:04"), res.Backend, plural(len(res.Epochs), "epoch"), res.TrainSeconds)
		if verbose {
			Must(0, res.WriteLog(os.Stdout))
			showResult(name, res)
		}
		return res
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	v := newView(name, cfg.Epochs, verbose)
	trainOpts := []mnistfc.Option{mnistfc.WithData(Data(cfg)), mnistfc.WithNetwork(net), v.option()}
	if verbose {
		trainOpts = append(trainOpts, mnistfc.WithLog(os.Stdout))
	}
	if len(o.weightsAt) > 0 {
		trainOpts = append(trainOpts, mnistfc.KeepWeightsAt(o.weightsAt...))
	}
	res := Must(mnistfc.Train(ctx, cfg, trainOpts...))
	v.finish(fmt.Sprintf("%s: %s in %.1f s on %s", name, plural(len(res.Epochs), "epoch"), res.TrainSeconds+res.TestSeconds, res.Backend))
	switch {
	case res.Interrupted:
		fmt.Printf("Interrupted after epoch %d of %d (not kept).\n", len(res.Epochs), cfg.Epochs)
	case res.Diverged:
		fmt.Printf("Diverged at epoch %d: the loss is no longer a finite number.\n", res.DivergedEpoch)
	}
	if !res.Interrupted {
		shown[fingerprint] = Must(saveRun(fingerprint, name, res))
	}
	if verbose {
		showSummary(res)
	}
	return res
}

// shown holds the runs that this cell's program (GoNB runs a new one for
// every cell) trained or loaded and announced, by key: Run returns them
// again without reading their files or saying so again.
var shown = map[string]*runstore.Entry{}

// withBackend returns cfg, on the notebooks' backend if it names none.
func withBackend(cfg mnistfc.Config) mnistfc.Config {
	if cfg.Backend == "" {
		cfg.Backend = BackendName()
	}
	return cfg
}

// plural returns "1 epoch", "2 epochs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// showResult shows a kept run as Experiment shows a new one: the curves,
// then the summary lines.
func showResult(name string, res *mnistfc.Result) {
	Curves([]mnistfc.History{res.History}, nil, name)
	showSummary(res)
}

// showSummary prints the speed and the best validation accuracy of a run.
func showSummary(res *mnistfc.Result) {
	gonbui.Sync()
	fmt.Printf("%s: %d epochs, %.2f s per epoch on backend %q\n", res.Network, len(res.Epochs), res.SecondsPerEpoch, res.Backend)
	fmt.Printf("Best val accuracy was %.3f at epoch %d\n", res.BestValAccuracy, res.BestEpoch)
}

// Kept returns the run of net with cfg that an Experiment or Run cell kept
// (the same settings and network, on the notebooks' backend), and whether
// there is one. It never trains.
func Kept(cfg mnistfc.Config, net mnistfc.Network, opts ...RunOption) (*mnistfc.Result, bool) {
	fingerprint, _ := key(withBackend(cfg), studentcode.Network(net), opts)
	k, ok := loadRun(fingerprint)
	if !ok {
		return nil, false
	}
	return k.Result, true
}

// Evaluate returns the loss and accuracy of m on d, on the notebooks' backend.
func Evaluate(m *mnistfc.Model, d *mnistfc.Dataset) (loss, acc float64) {
	loss, acc, err := guarded(m).Evaluate(d, BackendName())
	Must(0, err)
	return loss, acc
}

// guarded returns a copy of m whose network's functions are guarded.
func guarded(m *mnistfc.Model) *mnistfc.Model {
	c := *m
	c.Network = studentcode.Network(m.Network)
	return &c
}

// WeightChange returns the mean absolute change of each pixel's first-layer
// weights between initial and trained (over the hidden units), and a line
// of statistics: the mean change on the pixels marked blank and on the
// others, the mean size of an initial weight, and how far the blank pixels'
// changes are from background times the change of their unit's bias.
func WeightChange(trained, initial *mnistfc.Params, blank []bool, background float32) ([]float32, string) {
	change := make([]float32, mnistfc.NumPixels)
	var nBlank, nInked, sumBlank, sumInked, worst, size float64
	for j := range trained.Hidden {
		db := trained.B1[j] - initial.B1[j]
		w, w0 := trained.HiddenUnitWeights(j), initial.HiddenUnitWeights(j)
		for p := range w {
			d := w[p] - w0[p]
			change[p] += float32(math.Abs(float64(d))) / float32(trained.Hidden)
			size += math.Abs(float64(w0[p]))
			if blank[p] {
				nBlank, sumBlank = nBlank+1, sumBlank+math.Abs(float64(d))
				worst = max(worst, math.Abs(float64(d-background*db)))
			} else {
				nInked, sumInked = nInked+1, sumInked+math.Abs(float64(d))
			}
		}
	}
	stats := fmt.Sprintf("pixels that are background in every training image: %d of %d\n"+
		"mean |ΔW1|: %.4f on those pixels, %.4f on the others; mean |W1| at initialisation: %.4f\n"+
		"on those pixels, max |ΔW1 - x_bg·Δb1| = %.2g (float32 rounding)",
		int(nBlank)/trained.Hidden, mnistfc.NumPixels, sumBlank/max(nBlank, 1), sumInked/max(nInked, 1),
		size/float64(len(trained.W1)), worst)
	return change, stats
}
