package mnistfc

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	mnistOnce sync.Once
	mnistData *Data
	mnistErr  error
)

// officialData loads the official MNIST split once for all tests.
func officialData(t *testing.T) *Data {
	t.Helper()
	mnistOnce.Do(func() { mnistData, mnistErr = LoadData("", 0.15, 0) })
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	return mnistData
}

// trainingData is officialData for a test that trains on the whole of it:
// such a test is skipped with -short.
func trainingData(t *testing.T) *Data {
	t.Helper()
	if testing.Short() {
		t.Skip("trains on the full MNIST training set; skipped with -short")
	}
	return officialData(t)
}

func TestBestModelRule(t *testing.T) {
	// Validation accuracies from the original notebook's first experiment, epochs 17-22:
	// it printed "new best" at 0.16, 0.162, 0.164 and 0.167, not at the repeated 0.16 nor at 0.165.
	accs := []float64{0.16, 0.16, 0.162, 0.164, 0.165, 0.167}
	want := []bool{true, false, true, true, false, true}
	best := -1.0
	for i, a := range accs {
		got := improves(best, roundTo3(a))
		if got != want[i] {
			t.Errorf("accuracy %v after best %v: new best = %v, want %v", a, best, got, want[i])
		}
		if got {
			best = roundTo3(a)
		}
	}
	if roundTo3(0.92966666) != 0.93 || roundTo3(0.1625) != 0.162 {
		t.Errorf("roundTo3 does not round like numpy: %v %v", roundTo3(0.92966666), roundTo3(0.1625))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		field  string
		modify func(*Config)
	}{
		{"HiddenDim", func(c *Config) { c.HiddenDim = 0 }},
		{"LearningRate", func(c *Config) { c.LearningRate = 0 }},
		{"LearningRate", func(c *Config) { c.LearningRate = math.NaN() }},
		{"Epochs", func(c *Config) { c.Epochs = 0 }},
		{"BatchSize", func(c *Config) { c.BatchSize = -1 }},
		{"TestBatchSize", func(c *Config) { c.TestBatchSize = 0 }},
		{"ValidationRatio", func(c *Config) { c.ValidationRatio = 1.5 }},
		{"ValidationRatio", func(c *Config) { c.ValidationRatio = 0 }},
		{"EvalEvery", func(c *Config) { c.EvalEvery = 0 }},
		{"Softmax", func(c *Config) { c.Softmax = 7 }},
		{"Init", func(c *Config) { c.Init = "xavier" }},
		{"Optimizer", func(c *Config) { c.Optimizer = "momentum" }},
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, tc := range tests {
		c := DefaultConfig()
		tc.modify(&c)
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: got error %v, want a FieldError for %s", tc.field, err, tc.field)
		}
	}
}

func TestTrainShortRun(t *testing.T) {
	data := trainingData(t)
	cfg := DefaultConfig()
	cfg.Epochs = 2
	cfg.HiddenDim = 100
	cfg.LearningRate = 0.1
	var epochs []EpochStats
	batches := map[Phase]int{}
	var log strings.Builder
	res, err := Train(t.Context(), cfg, WithData(data), OnEpoch(func(s EpochStats) { epochs = append(epochs, s) }),
		OnBatch(func(p Phase, done, total int) { batches[p]++ }), KeepWeightsAt(1), WithLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	checkLogReplay(t, log.String(), res)
	if res.TestAccuracy < 0.80 {
		t.Errorf("test accuracy after 2 epochs = %.4f, want at least 0.80", res.TestAccuracy)
	}
	if len(epochs) != 2 || len(res.History.TrainLosses) != 2 || len(res.History.ValAccuracies) != 2 {
		t.Fatalf("got %d epoch callbacks, %d train losses, %d validation accuracies; want 2 each", len(epochs), len(res.History.TrainLosses), len(res.History.ValAccuracies))
	}
	if !(res.History.TrainLosses[1] < res.History.TrainLosses[0]) {
		t.Errorf("training loss did not decrease: %v", res.History.TrainLosses)
	}
	if !(res.History.ValAccuracies[1] > res.History.ValAccuracies[0]) || !(res.History.ValLosses[1] < res.History.ValLosses[0]) {
		t.Errorf("validation did not improve: accuracies %v, losses %v", res.History.ValAccuracies, res.History.ValLosses)
	}
	// 51000 training, 9000 validation and 10000 test images in batches of 1000.
	if want := map[Phase]int{PhaseTrain: 2 * 51, PhaseValidation: 2 * 9, PhaseTest: 10}; !reflect.DeepEqual(batches, want) {
		t.Errorf("batches per phase = %v, want %v", batches, want)
	}
	if res.Best == nil || res.BestEpoch < 1 || res.Snapshots[1] == nil {
		t.Fatalf("no best model (epoch %d) or no snapshot of epoch 1", res.BestEpoch)
	}
	correct := 0
	for i, p := range res.TestPredictions {
		if p == res.TestLabels[i] {
			correct++
		}
	}
	if got := float64(correct) / float64(len(res.TestLabels)); math.Abs(got-res.TestAccuracy) > 1e-4 {
		t.Errorf("test predictions give accuracy %v, result says %v", got, res.TestAccuracy)
	}

	// The saved model predicts the same classes.
	path := filepath.Join(t.TempDir(), "model.bin")
	if err := SaveModel(path, res.Model(FullyConnected(cfg.HiddenDim))); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Weights, res.Best) || m.Softmax != cfg.Softmax || m.Network.Name != res.Network {
		t.Fatal("loaded model differs from the saved one")
	}
	preds, _, err := m.Predict(data.Test, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(preds, res.TestPredictions) {
		t.Error("predictions of the loaded model differ from the test predictions of the run")
	}
}

func TestTrainIsReproducible(t *testing.T) {
	data := trainingData(t)
	cfg := DefaultConfig()
	cfg.Epochs = 2
	cfg.HiddenDim = 20
	cfg.Seed = 3
	a, err := Train(t.Context(), cfg, WithData(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(t.Context(), cfg, WithData(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.History, b.History) || a.TestLoss != b.TestLoss || !reflect.DeepEqual(a.Best, b.Best) {
		t.Errorf("same seed, different results:\n%+v\n%+v", a.History, b.History)
	}
	cfg.Seed = 4
	c, err := Train(t.Context(), cfg, WithData(data))
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.History, c.History) {
		t.Error("different seeds gave identical histories")
	}
}

func TestLoadModelErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bin")
	p := InitParams(InitTorch, 3, 1)
	if err := SaveModel(good, &Model{Network: FullyConnected(3), Weights: p.Weights(), Softmax: SoftmaxBatch, BatchSize: 10}); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(good)
	if err != nil || m.Softmax != SoftmaxBatch || m.BatchSize != 10 || m.Network.Name != FullyConnected(3).Name || !reflect.DeepEqual(m.Weights, p.Weights()) {
		t.Fatalf("round trip: %+v, %v", m, err)
	}
	raw, _ := os.ReadFile(good)
	tests := []struct {
		name, content, want string
	}{
		{"not a model", "hello\n", "not an mnistfc model"},
		{"truncated", string(raw[:len(raw)-8]), "truncated"},
		{"trailing data", string(raw) + "x", "after the weights"},
		{"bad header", modelMagic + "{\n", "bad header"},
		{"old format", "mnistfc-model v1\n{}\n", "format v1"},
		{"empty", "", "not an mnistfc model"},
		{"corrupt shape", modelMagic + `{"weights":[{"name":"w","dims":[-1]}]}` + "\n", "shape"},
	}
	for _, tc := range tests {
		path := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_"), []byte(tc.content))
		if _, err := LoadModel(path); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s and saying %q", tc.name, err, path, tc.want)
		}
	}
	if err := SaveModel(filepath.Join(dir, "none.bin"), &Model{}); err == nil {
		t.Error("saving a model without weights: no error")
	}
}

// TestTrainTorchInit checks that InitTorch starts from PyTorch's
// weights and that validation sees the trained weights.
func TestTrainTorchInit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Epochs, cfg.Init = 2, InitTorch
	res, err := Train(t.Context(), cfg, WithData(trainingData(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := InitParams(InitTorch, cfg.HiddenDim, cfg.Seed)
	got, err := res.Initial.Params()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("initial weights differ from InitParams(InitTorch, ...)'s (%v)", err)
	}
	if !(res.History.ValAccuracies[1] > res.History.ValAccuracies[0]) || res.BestEpoch != 2 {
		t.Errorf("validation accuracies %v, best epoch %d: want a rise and epoch 2", res.History.ValAccuracies, res.BestEpoch)
	}
	cfg.HiddenDim = 7
	if _, err := Train(t.Context(), cfg, WithData(trainingData(t)), WithNetwork(reluNetwork())); err == nil || !strings.Contains(err.Error(), "init") {
		t.Errorf("init torch with another network's variables: error %v, want one about init", err)
	}
}

// The two ways of feeding the training steps (the training set held by the
// backend, its batches gathered and normalised there, or batches
// normalised and copied on the host) give the same run, including a
// smaller last batch. The inputs are the same bit for bit
// (TestNormaliseGraph), and with batches of 1000 so is the run; with
// batches of 300 the pure-Go backend's steps differ in the last bits
// (a graph whose images are computed rather than passed in), so there
// the losses must agree within 1e-6, relative.
func TestResidentDataMatchesHostBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four runs on 4000 images")
	}
	full := officialData(t)
	span := func(n int) []int { return identity(n) }
	data := &Data{Train: full.Train.Subset(span(4000)), Validation: full.Validation.Subset(span(1000)), Test: full.Test.Subset(span(1000))}
	for _, tc := range []struct {
		batch int
		tol   float64
	}{{1000, 0}, {300, 1e-6}} {
		cfg := DefaultConfig()
		cfg.Epochs, cfg.BatchSize, cfg.TestBatchSize = 2, tc.batch, tc.batch
		var runs [2]*Result
		for i, resident := range []bool{false, true} {
			withFeed(t, func(f feed) feed { f.resident = resident; return f })
			res, err := Train(t.Context(), cfg, WithData(data))
			if err != nil {
				t.Fatalf("batch %d, resident %v: %v", tc.batch, resident, err)
			}
			runs[i] = res
		}
		host, dev := runs[0], runs[1]
		h, d := host.History, dev.History
		hl := append(append(slices.Clone(h.TrainLosses), h.ValLosses...), host.TestLoss)
		dl := append(append(slices.Clone(d.TrainLosses), d.ValLosses...), dev.TestLoss)
		for i := range hl {
			if math.Abs(hl[i]-dl[i]) > tc.tol*math.Abs(hl[i]) {
				t.Errorf("batch %d: losses %v with host batches, %v resident (tolerance %g)", tc.batch, hl, dl, tc.tol)
				break
			}
		}
		if !reflect.DeepEqual(h.TrainAccuracies, d.TrainAccuracies) || !reflect.DeepEqual(h.ValAccuracies, d.ValAccuracies) || host.TestAccuracy != dev.TestAccuracy {
			t.Errorf("batch %d: accuracies %v %v (test %v) with host batches, %v %v (test %v) resident", tc.batch,
				h.TrainAccuracies, h.ValAccuracies, host.TestAccuracy, d.TrainAccuracies, d.ValAccuracies, dev.TestAccuracy)
		}
		if h.TrainLosses[1] >= h.TrainLosses[0] {
			t.Errorf("batch %d: the training loss did not fall: %v", tc.batch, h.TrainLosses)
		}
	}
}

// checkSweepReusesRuns: a sweep's runs reuse each other's graphs and data
// (runPool) and still give what each run gives alone, with both inits.
func checkSweepReusesRuns(t *testing.T, backend string) {
	t.Helper()
	full := officialData(t)
	data := &Data{Train: full.Train.Subset(identity(3000)), Validation: full.Validation.Subset(identity(1000)), Test: full.Test.Subset(identity(1000))}
	base := DefaultConfig()
	base.Backend, base.Epochs = backend, 2
	var cfgs []Config
	for _, init := range []Init{InitDefault, InitTorch} {
		b := base
		b.Init = init
		cfgs = append(cfgs, Configs(b, Grid([]int{8, 16}, []float64{0.1, 0.5}), 2)...)
	}
	var reused atomic.Int64
	poolReused = func() { reused.Add(1) }
	t.Cleanup(func() { poolReused = nil })
	pool := newRunPool(2)
	defer pool.free()
	swept, err := Sweep(t.Context(), data, cfgs, Parallel(2), func(o *options) { o.pool = pool })
	if err != nil {
		t.Fatal(err)
	}
	if n := reused.Load(); n < int64(len(cfgs)/2) {
		t.Errorf("%s: %d of %d runs reused another's graphs", backend, n, len(cfgs))
	}
	for i, cfg := range cfgs {
		alone, err := Train(t.Context(), cfg, WithData(data))
		if err != nil {
			t.Fatal(err)
		}
		s := swept[i]
		if !reflect.DeepEqual(s.History, alone.History) || s.TestLoss != alone.TestLoss || !reflect.DeepEqual(s.Initial, alone.Initial) {
			t.Errorf("%s: hidden %d, lr %g, seed %d, init %s: swept %v (test loss %v), alone %v (test loss %v)", backend,
				cfg.HiddenDim, cfg.LearningRate, cfg.Seed, cfg.Init, s.History.ValAccuracies, s.TestLoss, alone.History.ValAccuracies, alone.TestLoss)
		}
	}
}

func TestSweepReusesRuns(t *testing.T) { checkSweepReusesRuns(t, "go") }

// withFeed makes feedFor's choice go through override until the test ends.
func withFeed(t *testing.T, override func(feed) feed) {
	t.Helper()
	feedOverride = override
	t.Cleanup(func() { feedOverride = nil })
}

// checkLogReplay checks that Result.WriteLog writes again what WithLog wrote
// while res trained.
func checkLogReplay(t *testing.T, logged string, res *Result) {
	t.Helper()
	var replay strings.Builder
	if err := res.WriteLog(&replay); err != nil {
		t.Fatal(err)
	}
	if logged == "" || replay.String() != logged {
		t.Errorf("WriteLog:\n%s\nwant what the run logged:\n%s", replay.String(), logged)
	}
}
