//go:build onnx && linux && amd64 && cgo

package mnistfc

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// onnxOrSkip returns the installed ONNX Runtime library, or skips the test
// when there is none (`make test-onnx` installs it first).
func onnxOrSkip(t *testing.T) string {
	t.Helper()
	lib, err := ONNXLibrary("")
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
	data := officialData(t)
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

func TestONNXLibrary(t *testing.T) {
	lib := onnxOrSkip(t)
	if got, err := ONNXLibrary(lib); err != nil || got != lib {
		t.Errorf("ONNXLibrary(%q) = %q, %v", lib, got, err)
	}
	if got, err := ONNXLibrary("log=2," + lib); err != nil || got != lib {
		t.Errorf("ONNXLibrary(\"log=2,%s\") = %q, %v", lib, got, err)
	}
}

func TestONNXLibraryErrors(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", "")
	missing := filepath.Join(home, ".local", "lib", "onnxruntime", "libonnxruntime.so")
	tests := []struct {
		config, env string
		want        []string
	}{
		{"", "", []string{missing, "not installed", "make onnxruntime"}},
		{"/no/such/libonnxruntime.so", "", []string{"/no/such/libonnxruntime.so", "make onnxruntime"}},
		{"", "/no/env/libonnxruntime.so", []string{"/no/env/libonnxruntime.so", "ONNXRUNTIME_SHARED_LIBRARY_PATH"}},
	}
	for _, tc := range tests {
		t.Run(tc.config+"|"+tc.env, func(t *testing.T) {
			t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", tc.env)
			_, err := ONNXLibrary(tc.config)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	// A library placed at the default path is found.
	if err := os.MkdirAll(filepath.Dir(missing), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(missing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ONNXLibrary(""); err != nil || got != missing {
		t.Errorf("ONNXLibrary(\"\") with %s present = %q, %v", missing, got, err)
	}
}
