package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// testKernels is the kernel choice the commands under test start with
// (TestMain), so that they keep GoMLX's default and never measure.
const testKernels = "GoMLX's default kernels (the tests' choice)"

func TestBackendArg(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-epochs", "4", "-hidden", "100"}, ""},
		{[]string{"-backend", "go"}, "go"},
		{[]string{"-backend=xla:cpu", "-epochs", "1"}, "xla:cpu"},
		{[]string{"--backend", "onnx"}, "onnx"},
		{[]string{"--backend=go"}, "go"},
		{[]string{"-backend", "go", "-backend", "xla:cpu"}, "xla:cpu"},
		{[]string{"-backends", "go"}, ""},
		{[]string{"-backend"}, ""},
		{[]string{"--", "-backend", "go"}, ""},
	}
	for _, tc := range tests {
		if got := backendArg(tc.args); got != tc.want {
			t.Errorf("backendArg(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// kernelsCmd is the CLI run with args as a user runs it: the kernel choice
// on (no choice made before, no GOMLX_GO_SIMD_AVX512), its cache in the
// folder cache ($XDG_CACHE_HOME: see skipNoXDG), and env added.
func kernelsCmd(cache string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), backends.KernelChosenEnv+"=", backends.KernelEnv+"=", "XDG_CACHE_HOME="+cache)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// skipNoXDG skips a test on an OS whose os.UserCacheDir is not
// $XDG_CACHE_HOME, where kernelsCmd cannot give the CLI a cache of the
// test's own.
func skipNoXDG(t *testing.T) {
	t.Helper()
	switch runtime.GOOS {
	case "darwin", "ios", "windows", "plan9":
		t.Skip("the user's cache folder is not $XDG_CACHE_HOME on " + runtime.GOOS)
	}
}

// TestKernelsOnlyForGo: a command on another backend never measures the
// pure-Go kernels.
func TestKernelsOnlyForGo(t *testing.T) {
	skipNoXDG(t)
	cache := t.TempDir()
	_, stderr, code := runCmd(t, kernelsCmd(cache, nil, "train", "-backend", "nosuch"))
	if code != exitUsage || strings.Contains(stderr, "measuring") {
		t.Errorf("train -backend nosuch: exit code %d, want %d, and no measuring:\n%s", code, exitUsage, stderr)
	}
	if _, err := os.Stat(filepath.Join(cache, "mnistfc", "kernels.json")); err == nil {
		t.Errorf("train -backend nosuch kept a kernel calibration")
	}
}

// TestKernelChoiceCLI: train on the pure-Go backend measures the kernels
// once and keeps the result, runs with the faster family (the backend line
// says which and why), and leaves a GOMLX_GO_SIMD_AVX512 of the user's
// alone; calibrate measures again, and -print-env prints what the pick
// needs.
func TestKernelChoiceCLI(t *testing.T) {
	skipShort(t)
	skipNoXDG(t)
	cache := t.TempDir()
	kept := filepath.Join(cache, "mnistfc", "kernels.json")
	train := func(env ...string) (backendLine, stderr string) {
		t.Helper()
		stdout, stderr, code := runCmd(t, kernelsCmd(cache, env, "train", "-epochs", "1", "-hidden", "4", "-backend", "go", "-out", t.TempDir()))
		if code != 0 {
			t.Fatalf("train: exit code %d:\n%s", code, stderr)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(line, "Training hidden") {
				return line, stderr
			}
		}
		t.Fatalf("train printed no backend line:\n%s", stdout)
		return "", ""
	}

	line, stderr := train()
	if !backends.CanChooseKernels() {
		if strings.Contains(stderr, "measuring") || !strings.HasSuffix(line, "backend go") {
			t.Errorf("one kernel family here, yet train measured, or named kernels: %q\n%s", line, stderr)
		}
		stdout, stderr, code := runCmd(t, kernelsCmd(cache, nil, "calibrate", "-print-env"))
		if code != 0 || stdout != "" {
			t.Errorf("calibrate -print-env: exit code %d, stdout %q, want nothing:\n%s", code, stdout, stderr)
		}
		t.Skip("one kernel family here: no AVX-512 or no GOEXPERIMENT=simd")
	}
	if !strings.Contains(stderr, "mnistfc: measuring the pure-Go kernels on this CPU (once) ...") {
		t.Errorf("the first train did not say it measures:\n%s", stderr)
	}
	if !strings.Contains(line, "backend go (AVX") || !strings.Contains(line, "measured") {
		t.Errorf("the backend line does not say which kernels, measured: %q", line)
	}
	if _, stderr := train(); strings.Contains(stderr, "measuring") {
		t.Errorf("the second train measured again:\n%s", stderr)
	}

	// setTimes rewrites the kept calibration with the given best times.
	setTimes := func(avx512, avx2 float64) {
		t.Helper()
		data, err := os.ReadFile(kept)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string][]map[string]any
		if err := json.Unmarshal(data, &c); err != nil || len(c["calibrations"]) != 1 {
			t.Fatalf("%s: %v\n%s", kept, err, data)
		}
		c["calibrations"][0]["avx512_seconds"], c["calibrations"][0]["avx2_seconds"] = avx512, avx2
		if data, err = json.Marshal(c); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(kept, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name         string
		avx512, avx2 float64
		env          []string
		want         string
	}{
		{"AVX2 faster", 0.002, 0.001, nil, "backend go (AVX2 kernels: 2.00x faster than AVX-512 on this CPU, measured; GOMLX_GO_SIMD_AVX512=0)"},
		{"AVX-512 faster", 0.001, 0.002, nil, "backend go (AVX-512 kernels: 2.00x faster than AVX2 on this CPU, measured)"},
		{"the user's choice wins", 0.002, 0.001, []string{"GOMLX_GO_SIMD_AVX512=1"}, "backend go (AVX-512 kernels: GOMLX_GO_SIMD_AVX512=1 set in the environment; measured: AVX2 2.00x faster than AVX-512 on this CPU)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setTimes(tc.avx512, tc.avx2)
			if line, stderr := train(tc.env...); !strings.HasSuffix(line, tc.want) || strings.Contains(stderr, "measuring") {
				t.Errorf("backend line %q, want it to end with %q; stderr:\n%s", line, tc.want, stderr)
			}
		})
	}

	// -print-env follows the kept calibration, and the user's choice.
	for _, tc := range []struct {
		avx512, avx2 float64
		env          []string
		want         string
	}{
		{0.002, 0.001, nil, "GOMLX_GO_SIMD_AVX512=0\n"},
		{0.001, 0.002, nil, ""},
		{0.002, 0.001, []string{"GOMLX_GO_SIMD_AVX512=1"}, ""},
	} {
		setTimes(tc.avx512, tc.avx2)
		stdout, stderr, code := runCmd(t, kernelsCmd(cache, tc.env, "calibrate", "-print-env"))
		if code != 0 || stdout != tc.want || strings.Contains(stderr, "measuring") {
			t.Errorf("calibrate -print-env with AVX-512 %v s, AVX2 %v s, %q: exit code %d, stdout %q, want %q; stderr:\n%s",
				tc.avx512, tc.avx2, tc.env, code, stdout, tc.want, stderr)
		}
	}

	// calibrate measures again and says so.
	setTimes(0.001, 0.002)
	stdout, stderr, code := runCmd(t, kernelsCmd(cache, nil, "calibrate"))
	if code != 0 {
		t.Fatalf("calibrate: exit code %d:\n%s", code, stderr)
	}
	for _, want := range []string{"AVX-512 kernels ", "AVX2 kernels ", " ms  (best of ", "Pick: AVX", "Kept in " + kept} {
		if !strings.Contains(stdout, want) {
			t.Errorf("calibrate's output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "2.00x") {
		t.Errorf("calibrate did not measure again:\n%s", stdout)
	}
	wantEnv := ""
	if strings.Contains(stdout, "GOMLX_GO_SIMD_AVX512=0") {
		wantEnv = "GOMLX_GO_SIMD_AVX512=0\n"
	}
	if stdout, _, _ := runCmd(t, kernelsCmd(cache, nil, "calibrate", "-print-env")); stdout != wantEnv {
		t.Errorf("calibrate -print-env after calibrate printed %q, want %q", stdout, wantEnv)
	}
}
