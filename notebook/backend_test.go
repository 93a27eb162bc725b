package notebook

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// The backend comes from $GOMLX_BACKEND when it starts, else from
// backends.Auto; a backend that cannot start leaves a problem that
// says what to install, and the fallback.
func TestChoose(t *testing.T) {
	t.Setenv("GONB_DIR", "")
	t.Setenv(deprecatedBackendEnv, "")
	for _, tc := range []struct {
		env, want   string
		problem     []string // Substrings of the problem; nil: none.
		whyContains string
	}{
		{"", backends.Auto(), nil, "picked:"},
		{"go", "go", nil, "chosen by $GOMLX_BACKEND"},
		{"nosuch", backends.Auto(), []string{"$GOMLX_BACKEND=nosuch cannot be used", `backend "nosuch" is not compiled into this program`}, "picked:"},
		{"xla:/nonexistent/pjrt_c_api_cpu_plugin.so", backends.Auto(), []string{"cannot be used"}, "picked:"},
	} {
		t.Setenv(BackendEnv, tc.env)
		var notes strings.Builder
		c := choose(&notes)
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
		if notes.Len() != 0 {
			t.Errorf("%s=%q: notes %q, want none", BackendEnv, tc.env, notes.String())
		}
	}
}

// $MNISTFC_BACKEND is read when $GOMLX_BACKEND is unset, with a
// deprecation note; when both are set, $GOMLX_BACKEND wins and the note
// says so.
func TestDeprecatedBackendEnv(t *testing.T) {
	t.Setenv("GONB_DIR", "")
	for _, tc := range []struct {
		gomlx, old, wantEnv, wantName, wantNote string
	}{
		{"", "", "", "", ""},
		{"go", "", BackendEnv, "go", ""},
		{"", "go", deprecatedBackendEnv, "go", "note: MNISTFC_BACKEND is deprecated; use GOMLX_BACKEND\n"},
		{"go", "nosuch", BackendEnv, "go", "note: MNISTFC_BACKEND is deprecated; use GOMLX_BACKEND (both are set: GOMLX_BACKEND=go wins)\n"},
	} {
		t.Setenv(BackendEnv, tc.gomlx)
		t.Setenv(deprecatedBackendEnv, tc.old)
		var notes strings.Builder
		env, name := backendFromEnv(&notes)
		if env != tc.wantEnv || name != tc.wantName || notes.String() != tc.wantNote {
			t.Errorf("GOMLX_BACKEND=%q MNISTFC_BACKEND=%q: %q=%q, note %q; want %q=%q, note %q",
				tc.gomlx, tc.old, env, name, notes.String(), tc.wantEnv, tc.wantName, tc.wantNote)
		}
	}
	t.Setenv(BackendEnv, "")
	t.Setenv(deprecatedBackendEnv, "nosuch")
	if c := choose(io.Discard); !strings.Contains(c.problem, "$MNISTFC_BACKEND=nosuch cannot be used") {
		t.Errorf("MNISTFC_BACKEND=nosuch: problem %q", c.problem)
	}
	t.Setenv(deprecatedBackendEnv, "go")
	if c := choose(io.Discard); c.name != "go" || c.why != "chosen by $MNISTFC_BACKEND" {
		t.Errorf("MNISTFC_BACKEND=go: backend %q (%s)", c.name, c.why)
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
	if got := repositoryPlugin(); got != "" {
		t.Errorf("no plugin yet: repositoryPlugin() = %q, want none", got)
	}
	if err := os.WriteFile(plugin, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := repositoryPlugin(); got != filepath.Dir(plugin) {
		t.Errorf("repositoryPlugin() = %q, want %q", got, filepath.Dir(plugin))
	}
	t.Setenv("GONB_DIR", t.TempDir())
	if got := repositoryRoot(); got != "" {
		t.Errorf("outside the repository: repositoryRoot() = %q, want none", got)
	}
}
