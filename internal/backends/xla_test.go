//go:build linux && cgo && !noxla

package backends

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/go-xla/pjrt"
)

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
	// SetXLADir's folder takes the place of $MNISTFC_XLA_DIR when that is
	// unset; the variable wins over it.
	t.Cleanup(func() { SetXLADir("") })
	SetXLADir(filepath.Join(tmp, "empty"))
	t.Setenv(XLADirEnv, filepath.Dir(fake))
	if dirs := xlaCPUPluginDirs(); dirs[0] != filepath.Dir(fake) || dirs[1] != filepath.Join(repo, ".tools", "xla") {
		t.Errorf("with $%s and SetXLADir: xlaCPUPluginDirs() = %v, want %s then %s first", XLADirEnv, dirs, filepath.Dir(fake), filepath.Join(repo, ".tools", "xla"))
	}
	t.Setenv(XLADirEnv, "")
	SetXLADir(filepath.Dir(fake))
	if got, _ := XLACPUPlugin(); got != fake {
		t.Errorf("with SetXLADir: XLACPUPlugin() = %q, want %q", got, fake)
	}
	SetXLADir("")
	if got, _ := XLACPUPlugin(); got != filepath.Join(repo, ".tools", "xla", "pjrt_c_api_cpu_plugin.so") {
		t.Errorf("SetXLADir(\"\"): XLACPUPlugin() = %q, want the module root's", got)
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
	// Through New, with a name no other test has created a backend for.
	_, err = New("xla:cpu,tf32=false")
	check(`New("xla:cpu,tf32=false")`, err)
}

// Auto picks xla:cpu exactly when a plugin file is where
// XLACPUPlugin looks (stand-in files: nothing is loaded), and says so.
func TestAutoBackend(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	dir := t.TempDir()
	saved := xlaCPUPluginDirs
	t.Cleanup(func() { xlaCPUPluginDirs = saved })
	xlaCPUPluginDirs = func() []string { return []string{dir} }
	if got := Auto(); got != Default {
		t.Errorf("no plugin: Auto() = %q, want %q", got, Default)
	}
	if err := os.WriteFile(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Auto(); got != "xla:cpu" {
		t.Errorf("plugin installed: Auto() = %q, want xla:cpu", got)
	}

	// A CUDA plugin counts only where an NVIDIA device is present.
	savedDevice, savedPlugins := nvidiaDevice, xlaPlugins
	t.Cleanup(func() { nvidiaDevice, xlaPlugins = savedDevice, savedPlugins })
	xlaPlugins = func() map[string]string { return map[string]string{"cuda": "/x/pjrt_c_api_cuda_plugin.so"} }
	nvidiaDevice = filepath.Join(dir, "nvidiactl")
	if got := Auto(); got != "xla:cpu" {
		t.Errorf("CUDA plugin, no GPU: Auto() = %q, want xla:cpu", got)
	}
	if err := os.WriteFile(nvidiaDevice, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Auto(); got != "xla:cuda" {
		t.Errorf("CUDA plugin and a GPU: Auto() = %q, want xla:cuda", got)
	}
	xlaPlugins = func() map[string]string { return map[string]string{"cpu": "/x/pjrt_c_api_cpu_plugin.so"} }
	if got := Auto(); got != "xla:cpu" {
		t.Errorf("a GPU without a CUDA plugin: Auto() = %q, want xla:cpu", got)
	}
	if got := Label(""); !strings.HasPrefix(got, "xla:cpu (picked") {
		t.Errorf("Label(\"\") = %q, want it to say xla:cpu was picked", got)
	}
	if got := Label("go"); got != "go" && !strings.HasPrefix(got, "go (") {
		t.Errorf("Label(\"go\") = %q", got)
	}
}

// SpeedHint names `make xla-cpu` when the pure-Go backend was picked
// automatically and XLA's CPU plugin is missing, and says nothing when the
// plugin is there or the user chose the backend.
func TestSpeedHintXLA(t *testing.T) {
	if !SIMDBuild {
		t.Skip("without GOEXPERIMENT=simd the hint is about SIMD")
	}
	for name := range pjrt.AvailablePlugins() {
		if name == "cpu" || strings.HasPrefix(name, "cpu_") {
			t.Skipf("go-xla finds a CPU plugin of its own on this machine (%q)", name)
		}
	}
	t.Setenv("GOMLX_BACKEND", "")
	t.Setenv("MNISTFC_BACKEND", "")
	saved := xlaCPUPluginDirs
	t.Cleanup(func() { xlaCPUPluginDirs = saved })
	withPlugin := t.TempDir()
	if err := os.WriteFile(filepath.Join(withPlugin, "pjrt_c_api_cpu_plugin.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, name string
		want      bool
	}{
		{t.TempDir(), "", true},  // Picked automatically (go), no plugin.
		{t.TempDir(), "go", false}, // Chosen by the user.
		{withPlugin, "go", false},
	} {
		xlaCPUPluginDirs = func() []string { return []string{tc.dir} }
		hint := SpeedHint(tc.name)
		if got := strings.Contains(hint, "make xla-cpu"); got != tc.want {
			t.Errorf("plugin in %s, name %q: hint %q, want one: %v", tc.dir, tc.name, hint, tc.want)
		}
	}
}
