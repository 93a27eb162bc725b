//go:build linux && cgo && !noxla

package mnistfc

import "testing"

// TestTorchGoldenStepsXLACPU is TestTorchGoldenSteps on XLA's CPU plugin
// (skipped when it is not installed: `make test-xla`).
func TestTorchGoldenStepsXLACPU(t *testing.T) {
	if testing.Short() {
		t.Skip("trains one epoch twice; skipped with -short")
	}
	xlaCPUOrSkip(t)
	t.Setenv("GOMLX_BACKEND", "")
	checkTorchGoldenSteps(t, "xla:cpu")
}
