package backends

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// XLADirEnv names a folder where the XLA backend looks first for the PJRT
// CPU plugin, pjrt_c_api_cpu_plugin.so, for "xla:cpu" (and plain "xla").
const XLADirEnv = "MNISTFC_XLA_DIR"

// xlaCPUPluginDirs returns the folders where the XLA backend looks for the
// PJRT CPU plugin before go-xla's own search, in order: $MNISTFC_XLA_DIR;
// .tools/xla in this module's root, found by walking up from the current
// folder; and, next to the executable, ../.tools/xla (bin/mnistfc in the
// repository) and xla/. It is a variable so that tests can change it.
var xlaCPUPluginDirs = func() []string {
	var dirs []string
	if d := os.Getenv(XLADirEnv); d != "" {
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
