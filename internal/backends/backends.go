// Package backends starts the GoMLX compute backends that mnistfc trains
// on, by name ("go", "xla:cpu", "xla:cuda", "onnx", ...), and finds the
// plugins they need where this project installs them. It never downloads
// anything: a missing plugin is an error that says what to install.
//
// The pure-Go backend is always compiled in; XLA needs a cgo build on linux
// without the noxla tag, ONNX Runtime a cgo build on linux/amd64 with the
// onnx tag.
package backends

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

// Default is GoMLX's pure-Go backend, used when neither the configuration
// nor $GOMLX_BACKEND names a backend and no faster one is installed (see
// Auto).
const Default = "go"

// XLADirEnv names a folder where the XLA backend looks first for the PJRT
// CPU plugin, pjrt_c_api_cpu_plugin.so, for "xla:cpu" (and plain "xla").
const XLADirEnv = "MNISTFC_XLA_DIR"

var (
	xlaDirMu sync.Mutex
	xlaDir   string // See SetXLADir.
)

// SetXLADir names a folder where the XLA backend looks first for the PJRT
// CPU plugin when $MNISTFC_XLA_DIR is unset, as if it were set to dir
// (see XLACPUPlugin): for a program that knows where the plugin is
// installed but runs outside the repository, such as a notebook's cell in
// GoNB's temporary folder. It applies from then on, to Auto and to the
// backends started after it; an empty dir takes it back.
func SetXLADir(dir string) {
	xlaDirMu.Lock()
	defer xlaDirMu.Unlock()
	xlaDir = dir
}

var (
	startedMu sync.Mutex
	started   = map[string]compute.Backend{}
	// noAutoInstall turns off the download of missing plugins and
	// libraries by the backends that can do it, once, before the first
	// backend starts.
	noAutoInstall sync.Once
)

// New returns the GoMLX compute backend for the given configuration
// string, such as "go", "xla:cpu", "xla:cuda" or "onnx" (ONNX Runtime on the
// CPU, compiled in with the build tag onnx). An empty name means
// $GOMLX_BACKEND, or Auto() if that is unset too. Backends are created once
// per name and shared.
//
// It never downloads anything: the XLA backend must find its PJRT plugin
// installed locally ("xla:cpu" looks first where `make xla-cpu` puts it,
// see XLACPUPlugin), and so must ONNX Runtime (see the README); a missing
// one is a clear error rather than a panic.
func New(name string) (compute.Backend, error) {
	name = Resolve(name)
	startedMu.Lock()
	defer startedMu.Unlock()
	if b, ok := started[name]; ok {
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
	// Belt and braces: the checks above found what the backend needs, and
	// it must not try to download anything if it disagrees.
	noAutoInstall.Do(func() {
		disableXLAAutoInstall()
		disableONNXAutoInstall()
	})
	b, err := newNoPanic(goName)
	if err != nil {
		return nil, fmt.Errorf("starting backend %q: %w", name, err)
	}
	started[name] = b
	return b, nil
}

// Resolve returns the backend configuration that New(name) uses: name, or
// if it is empty $GOMLX_BACKEND, or if that is unset too Auto().
func Resolve(name string) string {
	if name == "" {
		name = os.Getenv(compute.ConfigEnvVar)
	}
	if name == "" {
		name = Auto()
	}
	return name
}

// IsXLA reports whether the backend that name resolves to is XLA's.
func IsXLA(name string) bool {
	kind, _, _ := strings.Cut(Resolve(name), ":")
	return kind == "xla" || kind == "stablehlo"
}

// Auto returns the fastest backend installed, in this build: "xla:cuda"
// when an NVIDIA GPU is present and a PJRT CUDA plugin is installed where
// go-xla looks for plugins; else "xla:cpu" when XLA's CPU plugin is
// installed where XLACPUPlugin looks (`make xla-cpu`); else Default. It
// never downloads anything. docs/performance.md compares the backends'
// speed.
func Auto() string {
	switch {
	case xlaCUDAInstalled():
		return "xla:cuda"
	case xlaCPUInstalled():
		return "xla:cpu"
	}
	return Default
}

// Label names the backend that name resolves to, saying so when it was
// picked automatically and, for the pure-Go backend on a CPU where it has
// two kernel families, which family it uses and why (Kernels), for the
// lines programs print.
func Label(name string) string {
	resolved := Resolve(name)
	label := resolved
	if name == "" && os.Getenv(compute.ConfigEnvVar) == "" {
		label += " (picked: the fastest installed; -backend or $GOMLX_BACKEND to choose)"
	}
	if kind, _, _ := strings.Cut(resolved, ":"); kind == Default {
		if k := Kernels(); k != "" {
			label += " (" + k + ")"
		}
	}
	return label
}

// newNoPanic calls compute.NewWithConfig, turning a panic into an error.
func newNoPanic(name string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return compute.NewWithConfig(name)
}

// SpeedHint returns a one-line suggestion when the named backend would run
// much slower than it could in this build, or "" when there is nothing to
// say: the pure-Go backend on amd64 without GOEXPERIMENT=simd, or picked
// automatically (name empty) where XLA's CPU plugin could be installed but
// is not. Its figures are those of docs/performance.md.
func SpeedHint(name string) string {
	kind, _, _ := strings.Cut(Resolve(name), ":")
	switch {
	case kind != Default:
		return ""
	case !SIMDBuild && runtime.GOARCH == "amd64":
		return "note: built without GOEXPERIMENT=simd, so the pure-Go backend multiplies matrices without AVX; " +
			"training runs about 4x slower. Rebuild with GOEXPERIMENT=simd (see the README)."
	case name == "" && os.Getenv(compute.ConfigEnvVar) == "" && xlaBuild && !xlaCPUInstalled():
		return "note: xla:cpu, XLA's CPU plugin, trains this network about 2.3x faster than the pure-Go backend on a 2-core CPU " +
			"(docs/performance.md); install it once with `make xla-cpu` and it becomes the default."
	}
	return ""
}
