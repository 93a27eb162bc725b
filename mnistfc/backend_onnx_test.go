//go:build onnx && linux && amd64 && cgo

package mnistfc

import (
	"math"
	"reflect"
	"testing"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// onnxOrSkip returns the installed ONNX Runtime library, or skips the test
// when there is none (`make test-onnx` installs it first).
func onnxOrSkip(t *testing.T) string {
	t.Helper()
	lib, err := backends.ONNXLibrary("")
	if err != nil {
		t.Skipf("ONNX Runtime not installed (run `make test-onnx`): %v", err)
	}
	return lib
}

// TestONNXMatchesGo trains the same short run on the pure-Go backend and on
// ONNX Runtime: the two must agree to float32 rounding, and two ONNX runs
// with the same seed must give the same numbers.
func TestONNXMatchesGo(t *testing.T) {
	onnxOrSkip(t)
	data := trainingData(t)
	cfg := DefaultConfig()
	cfg.Epochs = 2
	cfg.HiddenDim = 20
	cfg.Seed = 5
	goRes, onnxRes, again := trainOn(t, cfg, data, "go"), trainOn(t, cfg, data, "onnx"), trainOn(t, cfg, data, "onnx")
	if onnxRes.Backend != "onnx" {
		t.Errorf("Result.Backend = %q, want onnx", onnxRes.Backend)
	}
	if !reflect.DeepEqual(onnxRes.History, again.History) || onnxRes.TestLoss != again.TestLoss {
		t.Errorf("onnx: same seed, different results:\n%+v\n%+v", onnxRes.History, again.History)
	}
	near := func(name string, a, b []float64) {
		t.Helper()
		if len(a) != len(b) {
			t.Fatalf("%s: %d values on go, %d on onnx", name, len(a), len(b))
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-4*math.Max(1, math.Abs(a[i])) {
				t.Errorf("%s[%d]: go %.7f, onnx %.7f", name, i, a[i], b[i])
			}
		}
	}
	near("train losses", goRes.History.TrainLosses, onnxRes.History.TrainLosses)
	near("validation losses", goRes.History.ValLosses, onnxRes.History.ValLosses)
	near("validation accuracies", goRes.History.ValAccuracies, onnxRes.History.ValAccuracies)
	near("test", []float64{goRes.TestLoss, goRes.TestAccuracy}, []float64{onnxRes.TestLoss, onnxRes.TestAccuracy})
}
