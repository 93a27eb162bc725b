package main

// Tests of train's diverged and interrupted runs and exit
// statuses, and helpers for the sweep tests in resume_test.go.

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// readJSON decodes a JSON file into a map.
func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestTrainDiverged: a NaN run writes its history (null for NaN), curves and
// summary, no model, says where it diverged, and exits with status 3.
func TestTrainDiverged(t *testing.T) {
	skipShort(t)
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "model.bin"), []byte("an earlier run's model"), 0o644)
	stdout, stderr, code := run(t, "train", "-lr", "1e6", "-epochs", "2", "-hidden", "16", "-json", "-out", out)
	if code != exitDiverged {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitDiverged, stderr)
	}
	if !strings.Contains(stderr, "diverged at epoch 1 (train loss NaN)") || !strings.Contains(stderr, "model.bin not written") {
		t.Errorf("stderr:\n%s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var summary map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, stdout)
	}
	if summary["diverged"] != true || summary["diverged_epoch"] != 1.0 || summary["test_acc"] != nil || summary["tested"] != false {
		t.Errorf("summary: %v", summary)
	}
	h := readJSON(t, filepath.Join(out, "history.json"))
	if h["diverged"] != true || h["diverged_epoch"] != 1.0 {
		t.Errorf("history.json: diverged %v at %v", h["diverged"], h["diverged_epoch"])
	}
	if losses := h["history"].(map[string]any)["train_losses"].([]any); len(losses) != 1 || losses[0] != nil {
		t.Errorf("history.json train_losses %v, want [null]", losses)
	}
	if s := readJSON(t, filepath.Join(out, "summary.json")); s["diverged"] != true {
		t.Errorf("summary.json: %v", s)
	}
	if !exists(filepath.Join(out, "curves.png")) {
		t.Error("curves.png not written")
	}
	for _, f := range []string{"model.bin", "weights.png"} {
		if exists(filepath.Join(out, f)) {
			t.Errorf("%s exists after a run with no model", f)
		}
	}
}

// lockedBuffer is a strings.Builder that a running command may write while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs the CLI in the background, with its stdout lines on a channel.
func start(t *testing.T, args ...string) (*exec.Cmd, <-chan string, *lockedBuffer) {
	t.Helper()
	return startCmd(t, exec.Command(binary, args...))
}

// startCmd is start for a prepared command (its environment, say).
func startCmd(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, <-chan string, *lockedBuffer) {
	t.Helper()
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, pipe)
		close(lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, lines, stderr
}

// waitFor reads lines until one contains s; it returns all lines read.
func waitFor(t *testing.T, lines <-chan string, s string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %q:\n%s", s, strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if strings.Contains(l, s) {
				return seen
			}
		case <-timeout:
			t.Fatalf("no %q in 2 minutes:\n%s", s, strings.Join(seen, "\n"))
		}
	}
}

// wait waits for cmd to exit (at most limit) and returns its exit code and
// the rest of its stdout.
func wait(t *testing.T, cmd *exec.Cmd, lines <-chan string, limit time.Duration) (int, string) {
	t.Helper()
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), strings.Join(rest, "\n")
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, strings.Join(rest, "\n")
	case <-time.After(limit):
		t.Fatalf("still running %v after the signal", limit)
	}
	return 0, ""
}

// TestTrainInterrupted: the first SIGINT finishes the epoch, tests the best
// model, writes every file marked interrupted, and exits with status 130.
func TestTrainInterrupted(t *testing.T) {
	skipShort(t)
	out := t.TempDir()
	cmd, lines, stderr := start(t, "train", "-epochs", "35", "-hidden", "16", "-out", out)
	waitFor(t, lines, "Train epoch 1")
	sent := time.Now()
	cmd.Process.Signal(os.Interrupt)
	code, rest := wait(t, cmd, lines, time.Minute)
	took := time.Since(sent)
	t.Logf("exited %v after SIGINT", took.Round(time.Millisecond))
	if code != exitInterrupted {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
	}
	if !strings.Contains(rest, "Test Accuracy") || !strings.Contains(stderr.String(), "interrupted after epoch") {
		t.Errorf("stdout after the signal:\n%s\nstderr:\n%s", rest, stderr)
	}
	h := readJSON(t, filepath.Join(out, "history.json"))
	if epochs := len(h["epochs"].([]any)); h["interrupted"] != true || h["tested"] != true || epochs >= 35 {
		t.Errorf("history.json: interrupted %v, tested %v, %d epochs", h["interrupted"], h["tested"], epochs)
	}
	for _, f := range []string{"curves.png", "weights.png", "model.bin", "summary.json"} {
		if !exists(filepath.Join(out, f)) {
			t.Errorf("%s not written", f)
		}
	}
}

// TestTrainInterruptedTwice: a second SIGINT quits at once.
func TestTrainInterruptedTwice(t *testing.T) {
	skipShort(t)
	cmd, lines, stderr := start(t, "train", "-epochs", "35", "-hidden", "16", "-out", t.TempDir())
	waitFor(t, lines, "Train epoch 1")
	cmd.Process.Signal(os.Interrupt)
	// A second signal sent before the first is handled may merge with it.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(stderr.String(), "interrupt:") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	code, _ := wait(t, cmd, lines, 30*time.Second)
	if code != exitInterrupted || !strings.Contains(stderr.String(), "quitting at once") {
		t.Errorf("exit code %d, stderr:\n%s", code, stderr)
	}
}

// TestUsageExitStatus: command-line mistakes exit with status 2, and
// "mnistfc help" lists the exit statuses.
func TestUsageExitStatus(t *testing.T) {
	for _, args := range [][]string{{"train", "-hidden", "0"}, {"train", "-no-such-flag"}, {"train", "extra"}, {"sweep", "-resume"}, {"sweep", "-seeds", "0"}, {"bogus"}} {
		if _, stderr, code := run(t, args...); code != exitUsage {
			t.Errorf("%v: exit code %d, want %d; stderr:\n%s", args, code, exitUsage, stderr)
		}
	}
	stdout, _, code := run(t, "help")
	if code != 0 || !strings.Contains(stdout, "130  interrupted") || !strings.Contains(stdout, "3    train: the run diverged") {
		t.Errorf("help: exit code %d:\n%s", code, stdout)
	}
}
