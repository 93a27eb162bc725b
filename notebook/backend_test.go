package notebook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// The backend comes from $MNISTFC_BACKEND when it starts, else from
// backends.Auto; a backend that cannot start leaves a problem that
// says what to install, and the fallback.
func TestChoose(t *testing.T) {
	t.Setenv("GONB_DIR", "")
	for _, tc := range []struct {
		env, want   string
		problem     []string // Substrings of the problem; nil: none.
		whyContains string
	}{
		{"", backends.Auto(), nil, "picked:"},
		{"go", "go", nil, "chosen by $" + BackendEnv},
		{"nosuch", backends.Auto(), []string{"$MNISTFC_BACKEND=nosuch cannot be used", `backend "nosuch" is not compiled into this program`}, "picked:"},
		{"xla:/nonexistent/pjrt_c_api_cpu_plugin.so", backends.Auto(), []string{"cannot be used"}, "picked:"},
	} {
		t.Setenv(BackendEnv, tc.env)
		c := choose()
		if c.name != tc.want || !strings.Contains(c.why, tc.whyContains) {
			t.Errorf("%s=%q: backend %q (%s), want %q (%s)", BackendEnv, tc.env, c.name, c.why, tc.want, tc.whyContains)
		}
		if (c.problem != "") != (tc.problem != nil) {
			t.Errorf("%s=%q: problem %q, want one: %v", BackendEnv, tc.env, c.problem, tc.problem != nil)
		}
		for _, p := range tc.problem {
			if !strings.Contains(c.problem, p) {
				t.Errorf("%s=%q: problem %q lacks %q", BackendEnv, tc.env, c.problem, p)
			}
		}
	}
}

// Cells run in GoNB's temporary folder: the repository, and its XLA plugin,
// are found from the notebook's folder.
func TestRepositoryPlugin(t *testing.T) {
	root := t.TempDir()
	nb := filepath.Join(root, "notebooks")
	plugin := filepath.Join(root, ".tools", "xla", "pjrt_c_api_cpu_plugin.so")
	for _, dir := range []string{nb, filepath.Dir(plugin)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/mnistfc/mnistfc\n\ngo 1.27\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GONB_DIR", nb)
	if got := repositoryRoot(); got != root {
		t.Errorf("repositoryRoot() = %q, want %q", got, root)
	}
	t.Setenv(backends.XLADirEnv, "")
	findRepositoryPlugin()
	if got := os.Getenv(backends.XLADirEnv); got != "" {
		t.Errorf("no plugin yet: $%s = %q, want it unset", backends.XLADirEnv, got)
	}
	if err := os.WriteFile(plugin, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	findRepositoryPlugin()
	if got := os.Getenv(backends.XLADirEnv); got != filepath.Dir(plugin) {
		t.Errorf("$%s = %q, want %q", backends.XLADirEnv, got, filepath.Dir(plugin))
	}
	t.Setenv("GONB_DIR", t.TempDir())
	if got := repositoryRoot(); got != "" {
		t.Errorf("outside the repository: repositoryRoot() = %q, want none", got)
	}
}
