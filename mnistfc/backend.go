package mnistfc

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"

	// The pure-Go backend: works everywhere, needs no download and no C library.
	_ "github.com/gomlx/compute/gobackend"
)

// DefaultBackend is GoMLX's pure-Go backend, used when neither the
// configuration nor $GOMLX_BACKEND names a backend and no faster one is
// installed (see AutoBackend).
const DefaultBackend = "go"

// XLADirEnv names a folder where the XLA backend looks first for the PJRT
// CPU plugin, pjrt_c_api_cpu_plugin.so, for "xla:cpu" (and plain "xla").
const XLADirEnv = "MNISTFC_XLA_DIR"

var (
	backendsMu sync.Mutex
	backends   = map[string]compute.Backend{}
)

// NewBackend returns the GoMLX compute backend for the given configuration
// string, such as "go", "xla:cpu", "xla:cuda" or "onnx" (ONNX Runtime on the
// CPU, compiled in with the build tag onnx). An empty name means
// $GOMLX_BACKEND, or DefaultBackend if that is unset too. Backends are
// created once per name and shared.
//
// It never downloads anything: the XLA backend must find its PJRT plugin
// installed locally ("xla:cpu" looks first where `make xla-cpu` puts it),
// and so must ONNX Runtime (see the README); a missing one is a clear error
// rather than a panic.
func NewBackend(name string) (compute.Backend, error) {
	name = ResolveBackendName(name)
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if b, ok := backends[name]; ok {
		return b, nil
	}
	kind, config, _ := strings.Cut(name, ":")
	available := compute.List()
	slices.Sort(available)
	if !slices.Contains(available, kind) {
		hint := ""
		switch kind {
		case "xla", "stablehlo":
			hint = " (the XLA backend needs a cgo build on linux without the noxla tag)"
		case "onnx", "onnxruntime":
			hint = " (the ONNX Runtime backend needs a cgo build on linux/amd64 with -tags onnx, e.g. `make build-onnx`)"
		}
		return nil, fmt.Errorf("backend %q is not compiled into this program%s; available: %s",
			name, hint, strings.Join(available, ", "))
	}
	goName := name // What GoMLX gets: "xla:cpu" becomes "xla:/abs/path/pjrt_c_api_cpu_plugin.so".
	switch kind {
	case "xla":
		resolved, err := resolveXLAConfig(config)
		if err != nil {
			return nil, err
		}
		goName = kind + ":" + resolved
	case "onnx", "onnxruntime":
		if err := checkONNX(config); err != nil {
			return nil, err
		}
	}
	b, err := newBackendNoPanic(goName)
	if err != nil {
		return nil, fmt.Errorf("starting backend %q: %w", name, err)
	}
	backends[name] = b
	return b, nil
}

// ResolveBackendName returns the backend configuration that NewBackend(name)
// uses: name, or if it is empty $GOMLX_BACKEND, or if that is unset too
// AutoBackend().
func ResolveBackendName(name string) string {
	if name == "" {
		name = os.Getenv(compute.ConfigEnvVar)
	}
	if name == "" {
		name = AutoBackend()
	}
	return name
}

// AutoBackend returns the fastest backend installed, in this build:
// "xla:cuda" when an NVIDIA GPU is present and a PJRT CUDA plugin is
// installed where go-xla looks for plugins; else "xla:cpu" when XLA's CPU
// plugin is installed where XLACPUPlugin looks (`make xla-cpu`); else
// DefaultBackend. It never downloads anything. Measured with BenchmarkEpoch
// on a 2-core CPU: xla:cpu 0.29-0.32 s/epoch, go 0.52-0.62.
func AutoBackend() string {
	switch {
	case xlaCUDAInstalled():
		return "xla:cuda"
	case xlaCPUInstalled():
		return "xla:cpu"
	}
	return DefaultBackend
}

// BackendLabel names the backend that name resolves to, saying so when
// it was picked automatically, for the lines programs print.
func BackendLabel(name string) string {
	resolved := ResolveBackendName(name)
	if name == "" && os.Getenv(compute.ConfigEnvVar) == "" {
		return resolved + " (picked: the fastest installed; -backend or $GOMLX_BACKEND to choose)"
	}
	return resolved
}

// newBackendNoPanic calls compute.NewWithConfig, turning a panic into an error.
func newBackendNoPanic(name string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return compute.NewWithConfig(name)
}

// SpeedHint returns a one-line suggestion when the named backend would run
// much slower than it could in this build (the pure-Go backend on amd64
// without GOEXPERIMENT=simd), or "" when there is nothing to say.
func SpeedHint(name string) string {
	kind, _, _ := strings.Cut(ResolveBackendName(name), ":")
	if kind == "go" && !SIMDBuild && runtime.GOARCH == "amd64" {
		return "note: built without GOEXPERIMENT=simd, so the pure-Go backend multiplies matrices without AVX; " +
			"training runs about 4x slower. Rebuild with GOEXPERIMENT=simd (see the README)."
	}
	return ""
}

// feed is how a run's training steps get their batches (see trainSteps).
type feed struct {
	// resident: the training set is on the backend for the whole run and
	// each step gathers its batch there; otherwise each step gets a batch
	// copied on the host while the previous step runs.
	resident bool
	// loop: all the full batches of an epoch in one call, a graph.While on
	// the device (trainSteps.newLoop); resident data only.
	loop bool
}

// feedFor returns the feed of a run of cfg: on XLA the training set stays
// on the device (on a GPU this is what keeps it busy) and, with SGD, an
// epoch is one call; the pure-Go backend and ONNX Runtime get host batches.
// Measured with BenchmarkEpoch, alternating, on a 2-core CPU: xla:cpu
// 0.37-0.44 s/epoch with host batches, 0.30-0.39 resident, 0.29-0.32 with
// the loop; go 0.59-0.61 with host batches vs 0.62-0.64 resident (the
// gather runs between steps instead of beside them); onnx 0.46-0.60 vs
// 1.70-2.02 (ONNX Runtime's Gather on the whole training set). The pure-Go
// backend fails on the loop. Tests override both through options.
func feedFor(cfg Config, o *options) feed {
	kind, _, _ := strings.Cut(ResolveBackendName(cfg.Backend), ":")
	xla := kind == "xla" || kind == "stablehlo"
	f := feed{resident: xla, loop: xla && (cfg.Optimizer == OptimizerSGD || cfg.Optimizer == "")}
	if o.resident != nil {
		f.resident = *o.resident
	}
	if o.loop != nil {
		f.loop = *o.loop
	}
	f.loop = f.loop && f.resident
	return f
}
