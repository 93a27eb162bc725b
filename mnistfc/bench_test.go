package mnistfc

import (
	"os"
	"strconv"
	"strings"
	"testing"
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
	if _, err := Train(b.Context(), cfg, WithData(data)); err != nil {
		b.Fatal(err)
	}
	cfg.Epochs = b.N
	b.ResetTimer()
	res, err := Train(b.Context(), cfg, WithData(data))
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
