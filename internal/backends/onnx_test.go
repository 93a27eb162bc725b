//go:build onnx && linux && amd64 && cgo

package backends

import (
	"os"
	"path/filepath"
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
