package main

// Tests of sweeps that go wrong: a diverging cell, a sweep killed with
// SIGKILL then resumed, a sweep interrupted with SIGINT.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mnistfc/mnistfc/mnistfc/runstore"
)

// TestSweepDivergingCell: a grid with a diverging learning rate keeps the
// good run, shows the other as diverged, and writes every file.
func TestSweepDivergingCell(t *testing.T) {
	skipShort(t)
	out := t.TempDir()
	stdout, stderr, code := run(t, "sweep", "-hiddens", "16", "-lrs", "1e6,0.1", "-epochs", "1", "-out", out)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	for _, want := range []string{"| 16 | 1e+06 | diverged (epoch 1) |", "| 16 | 0.1 | 0."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "1 of 2 runs diverged") {
		t.Errorf("stderr:\n%s", stderr)
	}
	res := readJSON(t, filepath.Join(out, "results.json"))
	runs := res["runs"].([]any)
	if len(runs) != 2 {
		t.Fatalf("results.json has %d runs", len(runs))
	}
	bad, good := runs[0].(map[string]any), runs[1].(map[string]any)
	if bad["diverged"] != true || bad["test_acc"] != nil || good["diverged"] != nil || good["test_acc"].(float64) < 0.5 {
		t.Errorf("runs: %v", runs)
	}
	if n := countRuns(t, out); n != 2 {
		t.Errorf("%d runs kept, want 2 (the diverged one too)", n)
	}
	for _, f := range []string{"results.csv", "heatmap.png", "sweep.json"} {
		if !exists(filepath.Join(out, f)) {
			t.Errorf("%s not written", f)
		}
	}
}

// resultsByRun returns the test accuracies of results.json's runs, by hidden/lr/seed.
func resultsByRun(t *testing.T, dir string) map[string]any {
	t.Helper()
	m := map[string]any{}
	for _, r := range readJSON(t, filepath.Join(dir, "results.json"))["runs"].([]any) {
		r := r.(map[string]any)
		b, _ := json.Marshal([]any{r["hidden"], r["lr"], r["seed"]})
		m[string(b)] = r["test_acc"]
	}
	return m
}

// countRuns returns the number of runs kept in a sweep's folder.
func countRuns(t *testing.T, dir string) int {
	files, err := filepath.Glob(filepath.Join(dir, "*"+runstore.Ext))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// TestSweepKilledThenResumed: a sweep killed with SIGKILL keeps the runs it
// finished; a new sweep without -resume is refused; -resume skips the kept
// runs, trains a damaged one again, and ends with the results of an
// uninterrupted sweep.
func TestSweepKilledThenResumed(t *testing.T) {
	skipShort(t)
	args := []string{"sweep", "-hiddens", "4,8", "-lrs", "0.1,0.5", "-epochs", "1"}
	killed, whole := t.TempDir(), t.TempDir()
	cmd, lines, _ := start(t, append(args, "-out", killed)...)
	waitFor(t, lines, "[2/4]")
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	kept := countRuns(t, killed)
	if kept < 2 || kept >= 4 {
		t.Fatalf("%d runs kept after SIGKILL after the second, want 2 or 3", kept)
	}
	// A kept run damaged on disk (cut short) is said and trained again.
	files, _ := filepath.Glob(filepath.Join(killed, "*"+runstore.Ext))
	if err := os.Truncate(files[0], 100); err != nil {
		t.Fatal(err)
	}

	if _, stderr, code := run(t, append(args, "-out", killed)...); code == 0 || !strings.Contains(stderr, "unfinished sweep") || !strings.Contains(stderr, "-resume") {
		t.Errorf("a new sweep over an unfinished one: exit code %d, stderr:\n%s", code, stderr)
	}
	stdout, stderr, code := run(t, append(args, "-resume", "-out", killed)...)
	if code != 0 {
		t.Fatalf("-resume: exit code %d: %s", code, stderr)
	}
	if want := fmt.Sprintf("skipped %d run(s)", kept-1); !strings.Contains(stdout, want) || !strings.Contains(stderr, "damaged run file "+files[0]) {
		t.Errorf("-resume: stdout lacks %q or stderr the damaged file:\n%s\n%s", want, stdout, stderr)
	}
	if !exists(files[0] + ".damaged") {
		t.Error("the damaged file was not kept aside")
	}
	if n := countRuns(t, killed); n != 4 {
		t.Errorf("%d runs kept after -resume, want 4", n)
	}
	if _, stderr, code := run(t, append(args, "-out", whole)...); code != 0 {
		t.Fatalf("uninterrupted sweep: exit code %d: %s", code, stderr)
	}
	got, want := resultsByRun(t, killed), resultsByRun(t, whole)
	if len(got) != 4 {
		t.Errorf("resumed results.json has %d runs, want 4", len(got))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("run %s: test accuracy %v resumed, %v uninterrupted", k, got[k], v)
		}
	}
	for _, f := range []string{"results.csv", "heatmap.png"} {
		if !exists(filepath.Join(killed, f)) {
			t.Errorf("%s not written", f)
		}
	}
}

// TestSweepInterrupted: SIGINT lets the run in flight finish, keeps it,
// exits with status 130, and -resume finishes the sweep.
func TestSweepInterrupted(t *testing.T) {
	skipShort(t)
	out := t.TempDir()
	args := []string{"sweep", "-hiddens", "4,8,12", "-lrs", "0.1", "-epochs", "1", "-parallel", "1", "-out", out}
	cmd, lines, stderr := start(t, args...)
	waitFor(t, lines, "[1/3]")
	cmd.Process.Signal(os.Interrupt)
	code, rest := wait(t, cmd, lines, time.Minute)
	if code != exitInterrupted || !strings.Contains(stderr.String(), "-resume") {
		t.Fatalf("exit code %d; stdout:\n%s\nstderr:\n%s", code, rest, stderr)
	}
	kept := countRuns(t, out)
	if kept < 1 || kept > 2 || exists(filepath.Join(out, "results.json")) {
		t.Errorf("%d runs kept (want 1 or 2: the finished one and the one in flight), results.json written: %v", kept, exists(filepath.Join(out, "results.json")))
	}
	stdout, stderr2, code := run(t, append(args, "-resume")...)
	if code != 0 || !strings.Contains(stdout, "skipped") || len(resultsByRun(t, out)) != 3 {
		t.Errorf("-resume: exit code %d:\n%s\n%s", code, stdout, stderr2)
	}
}
