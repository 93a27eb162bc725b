package backends

import (
	"os"
	"strings"
	"testing"
)

// TestNewBackend: an empty name is $GOMLX_BACKEND, else Auto's choice.
func TestNewBackend(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	b, err := New("")
	if err != nil {
		t.Fatalf("default backend: %v", err)
	}
	auto := Auto()
	if kind, _, _ := strings.Cut(auto, ":"); !strings.Contains(strings.ToLower(b.Name()), kind) {
		t.Errorf("default backend is %q (%s), want Auto's %q", b.Name(), b.Description(), auto)
	}
	if got := Resolve(""); got != auto {
		t.Errorf("Resolve(\"\") = %q, want Auto's %q", got, auto)
	}
	t.Setenv("GOMLX_BACKEND", "xla:cuda")
	if got := Resolve(""); got != "xla:cuda" {
		t.Errorf("with $GOMLX_BACKEND=xla:cuda, Resolve(\"\") = %q", got)
	}
	if got := Resolve("go"); got != "go" {
		t.Errorf("an explicit name must win over $GOMLX_BACKEND, got %q", got)
	}
	if !IsXLA("") || !IsXLA("xla:/abs/plugin.so") || IsXLA("go") || IsXLA("onnx") {
		t.Errorf("IsXLA: with $GOMLX_BACKEND=xla:cuda, \"\" and xla:... are XLA, go and onnx are not")
	}
}

func TestNewBackendErrors(t *testing.T) {
	// None of these may panic, hang or download: each must be a clear error.
	type errorCase struct {
		name string
		want []string
	}
	tests := []errorCase{
		{"nosuch", []string{`"nosuch"`, "not compiled", "available"}},
		{"xla:/no/such/plugin.so", []string{"/no/such/plugin.so"}},
	}
	if ONNXBuild {
		tests = append(tests, errorCase{"onnx:/no/such/libonnxruntime.so", []string{"/no/such/libonnxruntime.so", "make onnxruntime"}})
	} else {
		tests = append(tests, errorCase{"onnx", []string{`"onnx"`, "not compiled", "-tags onnx"}})
	}
	if _, err := os.Stat("/dev/nvidiactl"); err != nil {
		// Only meaningful without a GPU and plugin installed.
		tests = append(tests, errorCase{"xla:cuda", []string{`"cuda"`, "not installed", "install-xla"}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.name)
			if err == nil {
				t.Skip("backend available on this machine")
			}
			if strings.Contains(err.Error(), "not compiled") && strings.HasPrefix(tc.name, "xla") {
				t.Skipf("XLA not compiled into this build: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
