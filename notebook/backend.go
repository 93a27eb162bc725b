package notebook

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// BackendEnv names the environment variable that picks the notebooks'
// backend, e.g. MNISTFC_BACKEND=xla:cpu; unset, they use the fastest
// installed (backends.Auto), as the command line does.
const BackendEnv = "MNISTFC_BACKEND"

// choice is the backend a cell's program trains on, and why.
type choice struct {
	name string
	why  string
	// problem is set when $MNISTFC_BACKEND named a backend that cannot
	// start: what went wrong and what to install. name is then the
	// fallback.
	problem string
}

// chosen is the backend of this cell's program, decided once.
var chosen = sync.OnceValue(choose)

// choose decides the backend: $MNISTFC_BACKEND when it starts, else the
// fastest installed; a backend that cannot start leaves a problem to show
// and the fallback.
func choose() choice {
	findRepositoryPlugin()
	if name := strings.TrimSpace(os.Getenv(BackendEnv)); name != "" {
		if _, err := backends.New(name); err != nil {
			c := auto()
			c.problem = fmt.Sprintf("$%s=%s cannot be used: %v", BackendEnv, name, err)
			return c
		}
		return choice{name: name, why: "chosen by $" + BackendEnv}
	}
	return auto()
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
	return choice{name: name, why: why + "; `make xla-cpu` installs XLA's CPU plugin, about twice as fast here"}
}

// findRepositoryPlugin points $MNISTFC_XLA_DIR at the repository's
// .tools/xla, where `make xla-cpu` installs XLA's CPU plugin, when it is
// unset and the plugin is there. Cells run in GoNB's temporary folder, so
// the library's own search (above the current folder) does not find the
// repository; $GONB_DIR, the notebook's folder, is inside it.
func findRepositoryPlugin() {
	if os.Getenv(backends.XLADirEnv) != "" {
		return
	}
	if root := repositoryRoot(); root != "" {
		dir := filepath.Join(root, ".tools", "xla")
		if _, err := os.Stat(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")); err == nil {
			_ = os.Setenv(backends.XLADirEnv, dir)
		}
	}
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

// BackendName returns the backend the notebooks train on:
// $MNISTFC_BACKEND when it names a backend that starts, else the fastest
// installed (backends.Auto: xla:cuda, xla:cpu, or go). When
// $MNISTFC_BACKEND cannot be used, it says so once on stderr and returns
// the fallback, so that the notebook still runs (ShowBackend says why).
func BackendName() string {
	c := chosen()
	if c.problem != "" {
		warnOnce.Do(func() {
			fmt.Fprintf(os.Stderr, "note: $%s=%s cannot be used (the backend cell says why); training on %s\n",
				BackendEnv, os.Getenv(BackendEnv), c.name)
		})
	}
	return c.name
}

var warnOnce sync.Once

// Backend returns the notebooks' backend, started once per cell.
func Backend() compute.Backend { return Must(backends.New(BackendName())) }

// ShowBackend prints the backend the cells train on, why it was picked,
// and what it is (GoMLX's description). When $MNISTFC_BACKEND names one
// that cannot start, it prints what went wrong and what to install, and
// that the cells train on the fallback.
func ShowBackend() {
	c := chosen()
	if c.problem != "" {
		fmt.Fprintf(os.Stderr, "%s\n", c.problem)
		fmt.Printf("The cells train on %s instead (%s).\n", c.name, c.why)
	} else {
		fmt.Printf("backend %s — %s\n", c.name, c.why)
	}
	fmt.Printf("%s\n", Backend().Description())
	if hint := backends.SpeedHint(c.name); hint != "" {
		fmt.Println(hint)
	}
}
