//go:build linux && cgo && !noxla

package mnistfc

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/go-xla/pjrt"
)

// xlaCPUOrSkip returns the PJRT CPU plugin that "xla:cpu" uses from the
// project's places, or skips the test when there is none (`make test-xla`
// installs it first; with MNISTFC_XLA_REQUIRED=1, as there, it fails instead).
func xlaCPUOrSkip(t *testing.T) string {
	t.Helper()
	path, searched := XLACPUPlugin()
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
	data := officialData(t)
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

// TestXLACPUPluginPlaces checks where "xla:cpu" looks for the plugin, with
// empty stand-in files (nothing is loaded).
func TestXLACPUPluginPlaces(t *testing.T) {
	tmp := t.TempDir()
	fake := filepath.Join(tmp, "env", "pjrt_c_api_cpu_plugin.so")
	repo := filepath.Join(tmp, "repo")
	other := filepath.Join(tmp, "other")
	for _, d := range []string{filepath.Dir(fake), filepath.Join(repo, "a", "b"), filepath.Join(repo, ".tools", "xla"), filepath.Join(other, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fake, "")
	write(filepath.Join(repo, "go.mod"), "// The project.\nmodule github.com/mnistfc/mnistfc\n\ngo 1.27\n")
	write(filepath.Join(repo, ".tools", "xla", "pjrt_c_api_cpu_plugin.so"), "")
	write(filepath.Join(other, "go.mod"), "module example.com/other\n")

	if got := moduleRoot(filepath.Join(repo, "a", "b")); got != repo {
		t.Errorf("moduleRoot(repo/a/b) = %q, want %q", got, repo)
	}
	if got := moduleRoot(filepath.Join(other, "sub")); got != "" {
		t.Errorf("moduleRoot in another module = %q, want \"\"", got)
	}

	// $MNISTFC_XLA_DIR comes first, then the module root above the current folder.
	t.Chdir(filepath.Join(repo, "a", "b"))
	t.Setenv(XLADirEnv, filepath.Dir(fake))
	dirs := xlaCPUPluginDirs()
	if len(dirs) < 2 || dirs[0] != filepath.Dir(fake) || dirs[1] != filepath.Join(repo, ".tools", "xla") {
		t.Errorf("xlaCPUPluginDirs() = %v, want %s then %s first", dirs, filepath.Dir(fake), filepath.Join(repo, ".tools", "xla"))
	}
	if got, _ := XLACPUPlugin(); got != fake {
		t.Errorf("with $%s: XLACPUPlugin() = %q, want %q", XLADirEnv, got, fake)
	}
	if got, err := resolveXLAConfig("cpu,shared_buffers=false"); err != nil || got != fake+",shared_buffers=false" {
		t.Errorf("resolveXLAConfig(\"cpu,shared_buffers=false\") = %q, %v; want the plugin's path and the options", got, err)
	}
	t.Setenv(XLADirEnv, filepath.Join(tmp, "empty"))
	if got, _ := XLACPUPlugin(); got != filepath.Join(repo, ".tools", "xla", "pjrt_c_api_cpu_plugin.so") {
		t.Errorf("XLACPUPlugin() under the module root = %q", got)
	}
	// Other plugins and absolute paths go to go-xla unchanged.
	if got, err := resolveXLAConfig(fake + ",tf32=false"); err != nil || got != fake+",tf32=false" {
		t.Errorf("resolveXLAConfig(path) = %q, %v", got, err)
	}
}

// TestXLACPUMissing: without the plugin in any place, "xla:cpu" is an error
// that names `make xla-cpu` and the folders looked in.
func TestXLACPUMissing(t *testing.T) {
	for name := range pjrt.AvailablePlugins() {
		if name == "cpu" || strings.HasPrefix(name, "cpu_") {
			t.Skipf("go-xla finds a CPU plugin of its own on this machine (%q), so \"xla:cpu\" cannot be missing", name)
		}
	}
	empty := t.TempDir()
	saved := xlaCPUPluginDirs
	xlaCPUPluginDirs = func() []string { return []string{empty} }
	t.Cleanup(func() { xlaCPUPluginDirs = saved })
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		for _, w := range []string{`"cpu"`, "not installed", empty, "make xla-cpu", "install-xla", "xla:/abs/path"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", what, err, w)
			}
		}
	}
	_, err := resolveXLAConfig("cpu")
	check(`resolveXLAConfig("cpu")`, err)
	// Through NewBackend, with a name no other test has created a backend for.
	_, err = NewBackend("xla:cpu,tf32=false")
	check(`NewBackend("xla:cpu,tf32=false")`, err)
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
		res, err := Train(cfg, WithData(data), func(o *options) { o.resident, o.loop = &f.resident, &f.loop })
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

// AutoBackend picks xla:cpu exactly when a plugin file is where
// XLACPUPlugin looks (stand-in files: nothing is loaded), and says so.
func TestAutoBackend(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	dir := t.TempDir()
	saved := xlaCPUPluginDirs
	t.Cleanup(func() { xlaCPUPluginDirs = saved })
	xlaCPUPluginDirs = func() []string { return []string{dir} }
	if got := AutoBackend(); got != DefaultBackend {
		t.Errorf("no plugin: AutoBackend() = %q, want %q", got, DefaultBackend)
	}
	if err := os.WriteFile(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := AutoBackend(); got != "xla:cpu" {
		t.Errorf("plugin installed: AutoBackend() = %q, want xla:cpu", got)
	}

	// A CUDA plugin counts only where an NVIDIA device is present.
	savedDevice, savedPlugins := nvidiaDevice, xlaPlugins
	t.Cleanup(func() { nvidiaDevice, xlaPlugins = savedDevice, savedPlugins })
	xlaPlugins = func() map[string]string { return map[string]string{"cuda": "/x/pjrt_c_api_cuda_plugin.so"} }
	nvidiaDevice = filepath.Join(dir, "nvidiactl")
	if got := AutoBackend(); got != "xla:cpu" {
		t.Errorf("CUDA plugin, no GPU: AutoBackend() = %q, want xla:cpu", got)
	}
	if err := os.WriteFile(nvidiaDevice, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := AutoBackend(); got != "xla:cuda" {
		t.Errorf("CUDA plugin and a GPU: AutoBackend() = %q, want xla:cuda", got)
	}
	xlaPlugins = func() map[string]string { return map[string]string{"cpu": "/x/pjrt_c_api_cpu_plugin.so"} }
	if got := AutoBackend(); got != "xla:cpu" {
		t.Errorf("a GPU without a CUDA plugin: AutoBackend() = %q, want xla:cpu", got)
	}
	if got := BackendLabel(""); !strings.HasPrefix(got, "xla:cpu (picked") {
		t.Errorf("BackendLabel(\"\") = %q, want it to say xla:cpu was picked", got)
	}
	if got := BackendLabel("go"); got != "go" {
		t.Errorf("BackendLabel(\"go\") = %q", got)
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
