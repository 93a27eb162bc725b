package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/internal/backends"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mnistfc-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "mnistfc")
	// The commands under test keep GoMLX's default kernels and never
	// measure them; kernels_test.go tests the choice.
	os.Setenv(backends.KernelChosenEnv, testKernels)
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("building the CLI: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// skipShort skips, with -short, a test whose commands train on the full
// MNIST training set.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("trains on the full MNIST training set; skipped with -short")
	}
}

// run executes the CLI and returns its stdout, stderr and exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCmd(t, exec.Command(binary, args...))
}

// runCmd is run for a prepared command (its environment, say).
func runCmd(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestInvalidFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	tests := []struct {
		args []string
		want []string // Substrings of stderr.
	}{
		{[]string{"train", "-hidden", "0"}, []string{"-hidden", "0"}},
		{[]string{"train", "-lr", "0"}, []string{"-lr", "0"}},
		{[]string{"train", "-lr", "-0.5"}, []string{"-lr", "-0.5"}},
		{[]string{"train", "-epochs", "0"}, []string{"-epochs", "0"}},
		{[]string{"train", "-val-ratio", "1.5"}, []string{"-val-ratio", "1.5"}},
		{[]string{"train", "-batch", "0"}, []string{"-batch"}},
		{[]string{"train", "-softmax", "column"}, []string{"-softmax", "column"}},
		{[]string{"train", "-data", missing}, []string{"-data", missing}},
		{[]string{"train", "-backend", "nosuch"}, []string{"-backend", "nosuch"}},
		{[]string{"train", "-hidden", "ten"}, []string{"-hidden"}},
		{[]string{"sweep", "-epochs", "0"}, []string{"-epochs"}},
		{[]string{"sweep", "-hiddens", "5,x"}, []string{"-hiddens", "x"}},
		{[]string{"sweep", "-lrs", "0"}, []string{"-lrs"}},
		{[]string{"sweep", "-seeds", "0"}, []string{"-seeds"}},
		{[]string{"bogus"}, []string{"unknown command", "bogus"}},
		{[]string{}, []string{"Usage"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := run(t, tc.args...)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero; stderr: %s", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
		})
	}
}

func TestTrainWritesResults(t *testing.T) {
	skipShort(t)
	out := t.TempDir()
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	stdout, stderr, code := run(t, "train", "-epochs", "1", "-hidden", "16", "-out", out, "-json", "-cpuprofile", profile)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	for _, want := range []string{"Train epoch 1: accuracy", "Validation epoch 1: accuracy", "==== new best model! epoch 1", "===== Test Results =====", "Test Accuracy : 0."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var summary map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("last line is not JSON: %q: %v", lines[len(lines)-1], err)
	}
	for _, key := range []string{"hidden", "lr", "epochs", "softmax", "backend", "best_epoch", "best_val_acc", "test_acc", "test_loss", "seconds_per_epoch"} {
		if _, ok := summary[key]; !ok {
			t.Errorf("JSON summary lacks %q: %v", key, summary)
		}
	}
	if summary["hidden"] != 16.0 || summary["softmax"] != "row" || summary["test_acc"].(float64) < 0.5 {
		t.Errorf("unexpected summary %v", summary)
	}
	for _, f := range []string{"curves.png", "weights.png", "history.json", "model.bin"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	// -cpuprofile writes a profile that go tool pprof reads.
	top, err := exec.Command("go", "tool", "pprof", "-top", binary, profile).CombinedOutput()
	if err != nil || !strings.Contains(string(top), "Type: cpu") {
		t.Errorf("-cpuprofile: go tool pprof: %v\n%s", err, top)
	}
}

func TestSweepGrid(t *testing.T) {
	skipShort(t)
	out := t.TempDir()
	stdout, stderr, code := run(t, "sweep", "-epochs", "1", "-hiddens", "4,8", "-lrs", "0.1", "-json", "-out", out)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	var runs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			runs = append(runs, m)
		}
	}
	if len(runs) != 2 {
		t.Fatalf("got %d JSON lines, want 2:\n%s", len(runs), stdout)
	}
	for _, f := range []string{"results.json", "results.csv", "heatmap.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestSweepMarkdownTable(t *testing.T) {
	skipShort(t)
	stdout, stderr, code := run(t, "sweep", "-epochs", "1", "-hiddens", "3", "-lrs", "0.5,0.05")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	for _, want := range []string{"| hidden | lr | test accuracy | test loss | best val accuracy | best epoch |", "| 3 | 0.5 |", "| 3 | 0.05 |"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}
