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

	// XLA/PJRT backend, without its auto-installer: plugins must be installed locally.
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
)

// disableXLAAutoInstall keeps go-xla from installing a missing plugin.
func disableXLAAutoInstall() { xla.EnableAutoInstall(false) }

// xlaCPUInstallHint says how to get the CPU plugin where the backend finds it.
const xlaCPUInstallHint = "Install it with `make xla-cpu` (scripts/install-xla-cpu.sh: XLA's PJRT CPU plugin from the PyPI " +
	"wheel lammps-jax-pjrt-cpu, into <repo>/.tools/xla), set $" + XLADirEnv + " to a folder holding pjrt_c_api_cpu_plugin.so, " +
	"give its absolute path (-backend xla:/abs/path/pjrt_c_api_cpu_plugin.so), or, where the internet is reachable, " +
	"install go-xla's with `mnistfc install-xla -plugin cpu`. The default backend \"go\" needs no plugin."

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
