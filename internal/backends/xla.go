//go:build linux && cgo && !noxla

package backends

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/go-xla/pjrt"

	// XLA/PJRT backend, without its auto-installer: plugins must be installed locally.
	"github.com/gomlx/go-xla/compute/xla"
)

// disableXLAAutoInstall keeps go-xla from installing a missing plugin.
func disableXLAAutoInstall() { xla.EnableAutoInstall(false) }

// xlaCPUInstallHint says how to get the CPU plugin where the backend finds it.
// xlaBuild reports whether this build can run XLA (cgo on Linux, no noxla tag).
const xlaBuild = true

const xlaCPUInstallHint = "Install it with `make xla-cpu` (scripts/install-xla-cpu.sh: XLA's PJRT CPU plugin from the PyPI " +
	"wheel lammps-jax-pjrt-cpu, into <repo>/.tools/xla), set $" + XLADirEnv + " to a folder holding pjrt_c_api_cpu_plugin.so, " +
	"give its absolute path (-backend xla:/abs/path/pjrt_c_api_cpu_plugin.so), or, where the internet is reachable, " +
	"install go-xla's with `mnistfc install-xla -plugin cpu`. The default backend \"go\" needs no plugin."

// xlaCPUPluginDirs returns the folders where the XLA backend looks for the
// PJRT CPU plugin before go-xla's own search, in order: $MNISTFC_XLA_DIR,
// or, when it is unset, the folder given to SetXLADir; .tools/xla in this
// module's root, found by walking up from the current folder; and, next to
// the executable, ../.tools/xla (bin/mnistfc in the repository) and xla/.
// It is a variable so that tests can change it.
var xlaCPUPluginDirs = func() []string {
	var dirs []string
	if d := firstXLADir(); d != "" {
		dirs = append(dirs, d)
	}
	if wd, err := os.Getwd(); err == nil {
		if root := moduleRoot(wd); root != "" {
			dirs = append(dirs, filepath.Join(root, ".tools", "xla"))
		}
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			dirs = append(dirs, filepath.Join(filepath.Dir(exe), "..", ".tools", "xla"), filepath.Join(filepath.Dir(exe), "xla"))
		}
	}
	for i, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			dirs[i] = filepath.Clean(abs)
		}
	}
	return slices.Compact(dirs)
}

// firstXLADir returns the folder where the XLA backend looks first for the
// PJRT CPU plugin: $MNISTFC_XLA_DIR, else SetXLADir's, else "".
func firstXLADir() string {
	if d := os.Getenv(XLADirEnv); d != "" {
		return d
	}
	xlaDirMu.Lock()
	defer xlaDirMu.Unlock()
	return xlaDir
}

// moduleRoot returns the nearest folder at or above dir whose go.mod is this
// module's, or "" if there is none.
func moduleRoot(dir string) string {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for line := range strings.Lines(string(b)) {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == "github.com/mnistfc/mnistfc" {
					return dir
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// XLACPUPlugin returns the PJRT CPU plugin that "xla:cpu" uses from one of
// the project's places (see the README), or "" and the folders looked in
// when none of them has it; go-xla's own search comes after these.
func XLACPUPlugin() (path string, searched []string) {
	searched = xlaCPUPluginDirs()
	for _, d := range searched {
		p := filepath.Join(d, "pjrt_c_api_cpu_plugin.so")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, searched
		}
	}
	return "", searched
}

// xlaCPUInstalled says whether XLACPUPlugin finds a plugin.
func xlaCPUInstalled() bool {
	path, _ := XLACPUPlugin()
	return path != ""
}

// nvidiaDevice is the device file of NVIDIA's driver, present where a GPU
// can be used, and xlaPlugins lists the PJRT plugins go-xla finds; both are
// variables so that tests can change them.
var (
	nvidiaDevice = "/dev/nvidiactl"
	xlaPlugins   = pjrt.AvailablePlugins
)

// xlaCUDAInstalled says whether an NVIDIA GPU is present and go-xla finds a
// PJRT CUDA plugin ("cuda", or a versioned "cuda_..." name) where it looks
// ($PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla, /usr/local/lib/go-xla,
// the system library paths).
func xlaCUDAInstalled() bool {
	if _, err := os.Stat(nvidiaDevice); err != nil {
		return false
	}
	for name := range xlaPlugins() {
		if pjrt.IsCUDAName(name) {
			return true
		}
	}
	return false
}

// resolveXLAConfig returns the go-xla configuration for an
// "xla:<plugin>[,options]" backend name's config: for the plugin "cpu", the
// absolute path of the CPU plugin found in the project's places
// (XLACPUPlugin), else config itself. It reports, before GoMLX tries to load
// it, a plugin that is not installed. Plain "xla" lets go-xla pick among the
// plugins it finds, and means "cpu" when it finds none.
func resolveXLAConfig(config string) (string, error) {
	plugin, options, hasOptions := strings.Cut(config, ",")
	if plugin == "" {
		if len(pjrt.AvailablePlugins()) > 0 {
			return config, nil
		}
		plugin = "cpu"
	}
	if filepath.IsAbs(plugin) {
		if _, err := os.Stat(plugin); err != nil {
			return "", fmt.Errorf("XLA PJRT plugin: %w", err)
		}
		return config, nil
	}
	var searched []string
	if plugin == "cpu" {
		var path string
		if path, searched = XLACPUPlugin(); path != "" {
			if hasOptions {
				path += "," + options
			}
			return path, nil
		}
	}
	available := pjrt.AvailablePlugins()
	if _, ok := available[plugin]; ok {
		return config, nil
	}
	for name := range available {
		if strings.HasPrefix(name, plugin+"_") { // Versioned names, like "cpu_v0.83.1".
			return config, nil
		}
	}
	names := slices.Sorted(maps.Keys(available))
	places := ""
	if len(searched) > 0 {
		places = strings.Join(searched, ", ") + ", then "
	}
	msg := fmt.Sprintf("XLA PJRT plugin %q is not installed (plugins found: %v; searched %s$%s or ~/.local/lib/go-xla, /usr/local/lib/go-xla and the system library paths).",
		plugin, names, places, pjrt.PJRTPluginPathsEnv)
	switch {
	case pjrt.IsCUDAName(plugin):
		if _, err := os.Stat("/dev/nvidiactl"); err != nil {
			msg += " No NVIDIA GPU device was found (/dev/nvidiactl is missing)."
		}
		msg += " Install the CUDA plugin and its NVIDIA libraries with `mnistfc install-xla -plugin cuda`," +
			" or point to an installed one, e.g. a jax-cuda13-pjrt's xla_cuda_plugin.so: -backend xla:/abs/path/xla_cuda_plugin.so (see the README's GPU section)."
	case plugin == "cpu":
		msg += " " + xlaCPUInstallHint
	default:
		msg += " Install it with `mnistfc install-xla -plugin " + plugin + "`, set $" + pjrt.PJRTPluginPathsEnv +
			" to its folder, or give its absolute path: -backend xla:/abs/path/pjrt_c_api_" + plugin + "_plugin.so. The default backend \"go\" needs no plugin."
	}
	return "", errors.New(msg)
}
