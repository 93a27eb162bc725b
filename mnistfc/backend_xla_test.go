//go:build linux && cgo && !noxla

package mnistfc

import (
	"math"
	"os"
	"testing"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// xlaCPUOrSkip returns the PJRT CPU plugin that "xla:cpu" uses from the
// project's places, or skips the test when there is none (`make test-xla`
// installs it first; with MNISTFC_XLA_REQUIRED=1, as there, it fails instead).
func xlaCPUOrSkip(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles XLA graphs for seconds each (make test-xla runs it)")
	}
	path, searched := backends.XLACPUPlugin()
	if path == "" && os.Getenv("MNISTFC_XLA_REQUIRED") == "1" {
		t.Fatalf("MNISTFC_XLA_REQUIRED=1 but no pjrt_c_api_cpu_plugin.so in %v", searched)
	}
	if path == "" {
		t.Skipf("XLA PJRT CPU plugin not installed (run `make test-xla`, or `make xla-cpu` first): no pjrt_c_api_cpu_plugin.so in %v", searched)
	}
	return path
}

// TestXLACPUMatchesGo trains the same short run on the pure-Go backend and
// on XLA's CPU plugin, found with no flag or environment variable: the
// curves must agree within 1e-4 (relative) and the test accuracy exactly.
func TestXLACPUMatchesGo(t *testing.T) {
	plugin := xlaCPUOrSkip(t)
	t.Logf("plugin: %s", plugin)
	t.Setenv("GOMLX_BACKEND", "")
	data := trainingData(t)
	cfg := DefaultConfig()
	cfg.Epochs = 2
	cfg.HiddenDim = 32
	goRes, xlaRes := trainOn(t, cfg, data, "go"), trainOn(t, cfg, data, "xla:cpu")
	near := func(name string, a, b []float64) {
		t.Helper()
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("%s: %d values on go, %d on xla:cpu", name, len(a), len(b))
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-4*math.Max(math.Abs(a[i]), 1e-12) {
				t.Errorf("%s[%d]: go %.7f, xla:cpu %.7f (relative difference %.2g)", name, i, a[i], b[i], math.Abs(a[i]-b[i])/math.Abs(a[i]))
			}
		}
	}
	g, x := goRes.History, xlaRes.History
	near("train losses", g.TrainLosses, x.TrainLosses)
	near("train accuracies", g.TrainAccuracies, x.TrainAccuracies)
	near("validation losses", g.ValLosses, x.ValLosses)
	near("validation accuracies", g.ValAccuracies, x.ValAccuracies)
	if goRes.TestAccuracy != xlaRes.TestAccuracy {
		t.Errorf("test accuracy: go %.4f, xla:cpu %.4f", goRes.TestAccuracy, xlaRes.TestAccuracy)
	}
	t.Logf("test accuracy %.4f on both; train losses go %v, xla:cpu %v", goRes.TestAccuracy, g.TrainLosses, x.TrainLosses)
}

// On xla:cpu the three ways of feeding the training steps (host batches,
// the resident training set one step per call, and all the full batches
// of an epoch in one While loop) give the same run within 1e-5, with a
// smaller last batch too.
func TestXLACPUFeedsAgree(t *testing.T) {
	xlaCPUOrSkip(t)
	full := officialData(t)
	data := &Data{Train: full.Train.Subset(identity(4000)), Validation: full.Validation.Subset(identity(1000)), Test: full.Test.Subset(identity(1000))}
	cfg := DefaultConfig()
	cfg.Backend, cfg.Epochs, cfg.BatchSize = "xla:cpu", 2, 300
	feeds := []struct {
		name           string
		resident, loop bool
	}{{"host batches", false, false}, {"resident, one step per call", true, false}, {"resident, While loop", true, true}}
	var base *Result
	for _, f := range feeds {
		withFeed(t, func(feed) feed { return feed{resident: f.resident, loop: f.loop} })
		res, err := Train(t.Context(), cfg, WithData(data))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if base == nil {
			base = res
			continue
		}
		got, want := append(res.History.TrainLosses, res.History.ValLosses...), append(base.History.TrainLosses, base.History.ValLosses...)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-5*math.Abs(want[i]) {
				t.Errorf("%s: losses %v, host batches %v", f.name, got, want)
				break
			}
		}
		if res.TestAccuracy != base.TestAccuracy {
			t.Errorf("%s: test accuracy %v, host batches %v", f.name, res.TestAccuracy, base.TestAccuracy)
		}
	}
}

// TestXLACPUSweepReusesRuns: checkSweepReusesRuns on xla:cpu (resident
// data, While loop).
func TestXLACPUSweepReusesRuns(t *testing.T) {
	xlaCPUOrSkip(t)
	checkSweepReusesRuns(t, "xla:cpu")
}

func TestXLACPUNormaliseGraph(t *testing.T) {
	xlaCPUOrSkip(t)
	checkNormaliseGraph(t, "xla:cpu", 1e-6)
}
