package notebook

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// BackendEnv names the environment variable that picks the notebooks'
// backend, as it picks the library's and the command line's: GoMLX's own,
// e.g. GOMLX_BACKEND=xla:cpu. Unset, they use the fastest installed
// (backends.Auto).
const BackendEnv = compute.ConfigEnvVar

// deprecatedBackendEnv names the notebooks' former variable for the
// backend. It is read when $GOMLX_BACKEND is unset, with a deprecation note
// on stderr; when both are set, $GOMLX_BACKEND wins.
const deprecatedBackendEnv = "MNISTFC_BACKEND"

// choice is the backend a cell's program trains on, and why.
type choice struct {
	name string
	why  string
	// problem is set when the environment named a backend that cannot
	// start: what went wrong and what to install. name is then the
	// fallback, and asked is what the environment named, "VAR=value".
	problem string
	asked   string
}

// chosen is the backend of this cell's program, decided once.
var chosen = sync.OnceValue(func() choice { return choose(os.Stderr) })

// choose decides the backend: the one the environment names (see
// backendFromEnv) when it starts, else the fastest installed; a backend
// that cannot start leaves a problem to show and the fallback. Notes about
// the environment go to w.
func choose(w io.Writer) choice {
	if dir := repositoryPlugin(); dir != "" {
		backends.SetXLADir(dir)
	}
	if env, name := backendFromEnv(w); name != "" {
		if _, err := backends.New(name); err != nil {
			c := auto()
			c.asked = env + "=" + name
			c.problem = fmt.Sprintf("$%s cannot be used: %v", c.asked, err)
			return c
		}
		return choice{name: name, why: "chosen by $" + env}
	}
	return auto()
}

// backendFromEnv returns the backend the environment names and the
// variable that names it: $GOMLX_BACKEND, else the deprecated
// $MNISTFC_BACKEND, else none (name ""). When $MNISTFC_BACKEND is set, it
// writes a one-line deprecation note to w, which says so when
// $GOMLX_BACKEND wins over it.
func backendFromEnv(w io.Writer) (env, name string) {
	name = strings.TrimSpace(os.Getenv(BackendEnv))
	old := strings.TrimSpace(os.Getenv(deprecatedBackendEnv))
	if old != "" {
		note := fmt.Sprintf("note: %s is deprecated; use %s", deprecatedBackendEnv, BackendEnv)
		if name != "" {
			note += fmt.Sprintf(" (both are set: %s=%s wins)", BackendEnv, name)
		}
		fmt.Fprintln(w, note)
	}
	if name != "" {
		return BackendEnv, name
	}
	if old != "" {
		return deprecatedBackendEnv, old
	}
	return "", ""
}

// auto is the choice of backends.Auto, with its reason.
func auto() choice {
	name := backends.Auto()
	switch name {
	case "xla:cuda":
		return choice{name: name, why: "picked: an NVIDIA GPU and XLA's PJRT CUDA plugin are installed"}
	case "xla:cpu":
		path, _ := backends.XLACPUPlugin()
		return choice{name: name, why: "picked: the fastest installed (XLA's PJRT CPU plugin " + path + ")"}
	}
	if !slices.Contains(compute.List(), "xla") {
		return choice{name: name, why: "picked: the cells are built without the XLA backend (it needs cgo, i.e. a C compiler, on linux)"}
	}
	why := "picked: no XLA plugin is installed"
	if _, searched := backends.XLACPUPlugin(); len(searched) > 0 {
		why += " (looked in " + strings.Join(searched, ", ") + ")"
	}
	return choice{name: name, why: why + "; `make xla-cpu` installs XLA's CPU plugin, about 2.3x as fast on a 2-core CPU (docs/performance.md)"}
}

// repositoryPlugin returns the repository's .tools/xla, where `make
// xla-cpu` installs XLA's CPU plugin, when the plugin is there, or "".
// choose gives it to the library (backends.SetXLADir), which looks there
// when $MNISTFC_XLA_DIR is unset. Cells run in GoNB's temporary folder, so
// the library's own search (above the current folder) does not find the
// repository; $GONB_DIR, the notebook's folder, is inside it.
func repositoryPlugin() string {
	root := repositoryRoot()
	if root == "" {
		return ""
	}
	dir := filepath.Join(root, ".tools", "xla")
	if _, err := os.Stat(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")); err != nil {
		return ""
	}
	return dir
}

// repositoryRoot returns the nearest folder at or above $GONB_DIR (the
// notebook's folder) that holds this project's go.mod, or "".
func repositoryRoot() string {
	dir := os.Getenv("GONB_DIR")
	if dir == "" {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/mnistfc/mnistfc\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// BackendName returns the backend the notebooks train on: the one
// $GOMLX_BACKEND names when it starts, else the fastest installed
// (backends.Auto: xla:cuda, xla:cpu, or go). $MNISTFC_BACKEND, deprecated,
// is read when $GOMLX_BACKEND is unset. When the backend named cannot be
// used, it says so once on stderr and returns the fallback, so that the
// notebook still runs (ShowBackend says why).
func BackendName() string {
	c := chosen()
	if c.problem != "" {
		warnOnce.Do(func() {
			fmt.Fprintf(os.Stderr, "note: $%s cannot be used (the backend cell says why); training on %s\n", c.asked, c.name)
		})
	}
	return c.name
}

var warnOnce sync.Once

// Backend returns the notebooks' backend, started once per cell.
func Backend() compute.Backend { return Must(backends.New(BackendName())) }

// ShowBackend prints the backend the cells train on, why it was picked,
// and what it is (GoMLX's description). When $GOMLX_BACKEND (or the
// deprecated $MNISTFC_BACKEND) names one that cannot start, it prints what
// went wrong and what to install, and that the cells train on the
// fallback.
func ShowBackend() {
	c := chosen()
	if c.problem != "" {
		fmt.Fprintf(os.Stderr, "%s\n", c.problem)
		fmt.Printf("The cells train on %s instead (%s).\n", c.name, c.why)
	} else {
		fmt.Printf("backend %s — %s\n", c.name, c.why)
	}
	// On every backend: runs are kept under keys computed on the pure-Go
	// backend, so the family decides which kept runs this kernel finds.
	if k := backends.Kernels(); k != "" {
		fmt.Printf("pure-Go kernels: %s\n", k)
	}
	fmt.Printf("%s\n", Backend().Description())
	if hint := backends.SpeedHint(c.name); hint != "" {
		fmt.Println(hint)
	}
}
