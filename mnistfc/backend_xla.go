//go:build linux && cgo && !noxla

package mnistfc

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
	_ "github.com/gomlx/go-xla/compute/xla"
)

func init() {
	// Belt and braces: never let go-xla try to download a plugin at run time.
	if _, ok := os.LookupEnv("GOMLX_NO_AUTO_INSTALL"); !ok {
		_ = os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	}
}

// checkXLAPlugin reports, before GoMLX tries to load it, whether the PJRT
// plugin named by an "xla:<plugin>[,options]" configuration is installed.
func checkXLAPlugin(config string) error {
	plugin, _, _ := strings.Cut(config, ",")
	if plugin == "" {
		plugin = "cpu"
	}
	if filepath.IsAbs(plugin) {
		if _, err := os.Stat(plugin); err != nil {
			return fmt.Errorf("XLA PJRT plugin: %w", err)
		}
		return nil
	}
	available := pjrt.AvailablePlugins()
	if _, ok := available[plugin]; ok {
		return nil
	}
	for name := range available {
		if strings.HasPrefix(name, plugin+"_") { // Versioned names, like "cpu_v0.83.1".
			return nil
		}
	}
	names := slices.Sorted(maps.Keys(available))
	msg := fmt.Sprintf("XLA PJRT plugin %q is not installed (plugins found: %v; searched $%s or ~/.local/lib/go-xla, /usr/local/lib/go-xla and the system library paths).",
		plugin, names, pjrt.PJRTPluginPathsEnv)
	if pjrt.IsCUDAName(plugin) {
		if _, err := os.Stat("/dev/nvidiactl"); err != nil {
			msg += " No NVIDIA GPU device was found (/dev/nvidiactl is missing)."
		}
		msg += " Install the CUDA plugin and its NVIDIA libraries with `mnistfc install-xla -plugin cuda`," +
			" or point to an installed one, e.g. a jax-cuda13-pjrt's xla_cuda_plugin.so: -backend xla:/abs/path/xla_cuda_plugin.so (see the README's GPU section)."
	} else {
		msg += " Install it with `mnistfc install-xla -plugin " + plugin + "`, set $" + pjrt.PJRTPluginPathsEnv +
			" to its folder, or give its absolute path: -backend xla:/abs/path/pjrt_c_api_" + plugin + "_plugin.so. The default backend \"go\" needs no plugin."
	}
	return errors.New(msg)
}
