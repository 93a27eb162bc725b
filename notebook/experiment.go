package notebook

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/janpfeifer/gonb/gonbui"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

// BackendEnv names the environment variable that picks the notebooks'
// backend, e.g. MNISTFC_BACKEND=xla:cpu; unset, they use "go".
const BackendEnv = "MNISTFC_BACKEND"

// Must returns v, or prints err and ends the cell's program with status 1
// (which also stops a headless run of the notebook).
func Must[T any](v T, err error) T {
	if err != nil {
		gonbui.Sync()
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	return v
}

// BackendName returns the backend the notebooks train on: $MNISTFC_BACKEND,
// or "go", GoMLX's pure-Go backend.
func BackendName() string {
	if name := strings.TrimSpace(os.Getenv(BackendEnv)); name != "" {
		return name
	}
	return mnistfc.DefaultBackend
}

// Backend returns the notebooks' backend, started once per cell.
func Backend() compute.Backend { return Must(mnistfc.NewBackend(BackendName())) }

// Exec builds the graph of fn (a function of *graph.Node values), runs it
// once on the notebooks' backend with args and returns its one output.
func Exec[F graph.ExecGraphFnOneOutput](fn F, args ...any) *tensors.Tensor {
	return Must(graph.ExecOnce(Backend(), fn, args...))
}

// Compare prints the largest absolute difference between our result and
// the library's, each a *tensors.Tensor or a []float32.
func Compare(name string, ours, library any) {
	a, b := values(ours), values(library)
	if len(a) != len(b) {
		Must(0, fmt.Errorf("%s: %d values against the library's %d", name, len(a), len(b)))
	}
	diff := 0.0
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i]-b[i])))
	}
	fmt.Printf("%s check: max |ours - library| = %.3g\n", name, diff)
}

// values returns the float32 values of a tensor or slice.
func values(v any) []float32 {
	switch v := v.(type) {
	case []float32:
		return v
	case *tensors.Tensor:
		return Must(tensors.CopyFlatData[float32](v))
	}
	return Must([]float32(nil), fmt.Errorf("cannot compare a %T", v))
}

// Versions prints the build settings and module versions the cells run with.
func Versions() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	var parts []string
	parts = append(parts, info.GoVersion)
	for _, s := range info.Settings {
		if s.Key == "-tags" || s.Key == "GOEXPERIMENT" {
			parts = append(parts, s.Key+"="+s.Value)
		}
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/gomlx/gomlx" || d.Path == "github.com/janpfeifer/gonb" {
			parts = append(parts, d.Path[strings.LastIndex(d.Path, "/")+1:]+" "+d.Version)
		}
	}
	fmt.Printf("%s; backend %s; %d epochs per experiment\n", strings.Join(parts, ", "), BackendName(), Epochs(35))
	if hint := mnistfc.SpeedHint(BackendName()); hint != "" {
		fmt.Println(hint)
	}
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

// Experiment trains net with cfg the way the assignment's cells do: a
// progress bar, the original's per-epoch lines, the accuracy and loss
// curves, the best validation accuracy. It keeps the run's summary and
// best model in the kernel's temporary folder under name, for later cells
// (Summary, Model).
//
// Interrupting the kernel (SIGINT) stops the run after the current epoch;
// the best model so far is tested and shown.
func Experiment(name string, cfg mnistfc.Config, net mnistfc.Network) *mnistfc.Result {
	return run(name, cfg, net, true)
}

// Run is Experiment with only a progress bar: no per-epoch lines, no curves.
func Run(name string, cfg mnistfc.Config, net mnistfc.Network) *mnistfc.Result {
	return run(name, cfg, net, false)
}

func run(name string, cfg mnistfc.Config, net mnistfc.Network, verbose bool) *mnistfc.Result {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := []mnistfc.Option{mnistfc.WithData(Data(cfg)), mnistfc.WithNetwork(net), mnistfc.WithContext(ctx), Progress(name, cfg.Epochs)}
	if verbose {
		opts = append(opts, mnistfc.WithLog(os.Stdout))
	}
	res := Must(mnistfc.Train(cfg, opts...))
	switch {
	case res.Interrupted:
		fmt.Printf("Interrupted after epoch %d of %d.\n", len(res.Epochs), cfg.Epochs)
	case res.Diverged:
		fmt.Printf("Diverged at epoch %d: the loss is no longer a finite number.\n", res.DivergedEpoch)
	}
	if verbose {
		fmt.Printf("%s: %d epochs, %.2f s per epoch on backend %q\n", res.Network, len(res.Epochs), res.SecondsPerEpoch, res.Backend)
		gonbui.Sync()
		PNG(plotting.Curves(res.History, name, plotting.PNG))
		gonbui.Sync()
		fmt.Printf("Best val accuracy was %.3f at epoch %d\n", res.BestValAccuracy, res.BestEpoch)
	}
	summary := Must(json.Marshal(res.Summary()))
	Must(0, mnistfc.WriteFileAtomic(TempPath(fileKey(name)+".json"), summary))
	if m := res.Model(net); m != nil {
		Must(0, mnistfc.SaveModel(TempPath(fileKey(name)+".model"), m))
	}
	return res
}

// Evaluate returns the loss and accuracy of m on d, on the notebooks' backend.
func Evaluate(m *mnistfc.Model, d *mnistfc.Dataset) (loss, acc float64) {
	loss, acc, err := m.Evaluate(d, BackendName())
	Must(0, err)
	return loss, acc
}

// Probabilities returns the class probabilities m gives every example of d.
func Probabilities(m *mnistfc.Model, d *mnistfc.Dataset) []float32 {
	_, probs, err := m.Predict(d, BackendName())
	Must(0, err)
	return probs
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

// Summary returns the summary an earlier Experiment cell kept under name,
// and whether there is one.
func Summary(name string) (mnistfc.RunSummary, bool) {
	var s mnistfc.RunSummary
	raw, err := os.ReadFile(TempPath(fileKey(name) + ".json"))
	if err != nil || json.Unmarshal(raw, &s) != nil {
		return s, false
	}
	return s, true
}

// Model returns the best model an earlier Experiment cell kept under name,
// with net as its network, or an error if that cell has not run.
func Model(name string, net mnistfc.Network) (*mnistfc.Model, error) {
	m, err := mnistfc.LoadModel(TempPath(fileKey(name) + ".model"))
	if err != nil {
		return nil, fmt.Errorf("experiment %q has not run in this kernel session: %w", name, err)
	}
	m.Network = net
	return m, nil
}

// fileKey turns an experiment's name into a file name.
func fileKey(name string) string {
	return "mnistfc-" + regexp.MustCompile(`[^A-Za-z0-9.]+`).ReplaceAllString(name, "_")
}
