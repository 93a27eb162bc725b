package backends

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// execChildEnv makes the test binary, run again by TestExecWithKernels, a
// program that chooses its kernels as the command line does: it prints a
// line with its kernel environment, then re-executes itself when
// KernelChoice asks for it.
const execChildEnv = "MNISTFC_TEST_KERNEL_EXEC_CHILD"

// TestMain runs the probe child of Calibrate (TestCalibrate) and the
// re-executing child of TestExecWithKernels when the test binary is run as
// one of them, and the tests otherwise.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == KernelProbeCommand {
		if err := KernelProbe(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(execChildEnv) != "" {
		os.Exit(execChild())
	}
	os.Exit(m.Run())
}

// execChild is the program of TestExecWithKernels: it prints its kernel
// environment, and then, as the command line does, re-executes itself
// when KernelChoice asks for it (on any CPU, and never more than a few
// times, so that a loop shows as too many lines rather than hanging).
func execChild() int {
	n, _ := strconv.Atoi(os.Getenv(execChildEnv))
	fmt.Printf("%s=%q %s=%q\n", KernelEnv, os.Getenv(KernelEnv), KernelChosenEnv, os.Getenv(KernelChosenEnv))
	if n >= 4 {
		return 0
	}
	os.Setenv(execChildEnv, strconv.Itoa(n+1))
	hasAVX512 = func() bool { return true }
	calibrate = func(context.Context) (KernelTimes, error) {
		return KernelTimes{}, errors.New("no calibration in this test")
	}
	env, why, err := KernelChoice(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if len(env) > 0 {
		err := ExecWithKernels(env, why)
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// withCacheDir points os.UserCacheDir at a new temporary folder for the
// test and returns the kernel cache's path there.
func withCacheDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir) // Linux and the BSDs.
	t.Setenv("LocalAppData", dir)   // Windows.
	path, err := KernelCachePath()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(path, dir) {
		t.Skipf("the cache folder %s is not under the test's %s on this OS", path, dir)
	}
	return path
}

// fakeCPU makes the tests' CPU have AVX-512 (or not) and their calibration
// return t (or fail with err), counting the calibrations in *calls.
func fakeCPU(tb testing.TB, avx512 bool, t KernelTimes, err error, calls *int) {
	savedHas, savedCalibrate := hasAVX512, calibrate
	tb.Cleanup(func() { hasAVX512, calibrate = savedHas, savedCalibrate })
	hasAVX512 = func() bool { return avx512 }
	calibrate = func(context.Context) (KernelTimes, error) {
		*calls++
		if err != nil {
			return KernelTimes{}, err
		}
		return t, storeKernelTimes(t)
	}
}

// timed returns this machine's key with the given best times.
func timed(avx512, avx2 float64) KernelTimes {
	t := thisMachine()
	t.AVX512, t.AVX2 = avx512, avx2
	t.AVX512Runs, t.AVX2Runs = 10, 10
	return t
}

func TestParseCPUInfo(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"amd", "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\nstepping\t: 1\n\nprocessor\t: 1\nmodel name\t: Other\n",
			"AMD EPYC (family 25, model 17, stepping 1)"},
		{"no numbers", "model name\t: Some CPU\n", "Some CPU"},
		{"arm without model name", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseCPUInfo([]byte(tc.in)); got != tc.want {
				t.Errorf("parseCPUInfo = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestKernelCache: a calibration is kept per CPU, compute version and Go
// version; another of any of them is another machine, to measure again.
func TestKernelCache(t *testing.T) {
	path := withCacheDir(t)
	if _, found, err := loadKernelTimes(thisMachine()); found || err != nil {
		t.Fatalf("empty cache: found %v, error %v", found, err)
	}
	kept := timed(0.002, 0.001)
	if err := storeKernelTimes(kept); err != nil {
		t.Fatal(err)
	}
	other := kept
	other.CPU, other.AVX512 = "Another CPU", 0.003
	if err := storeKernelTimes(other); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		key   func(*KernelTimes)
		found bool
		want  float64 // AVX512 of the calibration found.
	}{
		{"this machine", func(*KernelTimes) {}, true, 0.002},
		{"another kept machine", func(k *KernelTimes) { k.CPU = "Another CPU" }, true, 0.003},
		{"another CPU", func(k *KernelTimes) { k.CPU += " v2" }, false, 0},
		{"another compute version", func(k *KernelTimes) { k.Compute = "v9.9.9" }, false, 0},
		{"another Go version", func(k *KernelTimes) { k.Go = "go9.9" }, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := thisMachine()
			tc.key(&key)
			got, found, err := loadKernelTimes(key)
			if err != nil || found != tc.found || got.AVX512 != tc.want {
				t.Errorf("loadKernelTimes = %+v, found %v, error %v; want found %v with AVX512 %v", got, found, err, tc.found, tc.want)
			}
		})
	}

	// Measuring a machine again replaces its calibration, and only its.
	again := timed(0.004, 0.001)
	if err := storeKernelTimes(again); err != nil {
		t.Fatal(err)
	}
	c, err := readKernelCache(path)
	if err != nil || len(c.Calibrations) != 2 {
		t.Fatalf("after measuring again: %d calibrations (error %v), want 2", len(c.Calibrations), err)
	}
	if got, _, _ := loadKernelTimes(thisMachine()); got.AVX512 != 0.004 {
		t.Errorf("after measuring again, AVX512 = %v, want 0.004", got.AVX512)
	}

	// A file that does not parse is no calibration, and the next one
	// replaces it.
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, found, err := loadKernelTimes(thisMachine()); found || err != nil {
		t.Errorf("a broken file: found %v, error %v; want neither", found, err)
	}
	if err := storeKernelTimes(kept); err != nil {
		t.Fatal(err)
	}
	if _, found, err := loadKernelTimes(thisMachine()); !found || err != nil {
		t.Errorf("stored over a broken file: found %v, error %v", found, err)
	}
}

func TestKernelPick(t *testing.T) {
	tests := []struct {
		name         string
		avx512, avx2 float64
		wantEnv      []string
		wantWhy      string
	}{
		{"AVX2 faster", 0.0119, 0.0100, []string{"GOMLX_GO_SIMD_AVX512=0"}, "AVX2 kernels: 1.19x faster than AVX-512 on this CPU, measured; GOMLX_GO_SIMD_AVX512=0"},
		{"AVX-512 faster", 0.0100, 0.0125, nil, "AVX-512 kernels: 1.25x faster than AVX2 on this CPU, measured"},
		{"AVX2 faster within the margin", 0.0101, 0.0100, nil, "AVX-512 kernels: GoMLX's default, as fast as AVX2"},
		{"AVX-512 faster within the margin", 0.0100, 0.0101, nil, "AVX-512 kernels: GoMLX's default, as fast as AVX2"},
		{"a tie", 0.0100, 0.0100, nil, "AVX-512 kernels: GoMLX's default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, why := timed(tc.avx512, tc.avx2).Pick()
			if !slices.Equal(env, tc.wantEnv) || !strings.HasPrefix(why, tc.wantWhy) {
				t.Errorf("Pick() = %q, %q; want %q, %q...", env, why, tc.wantEnv, tc.wantWhy)
			}
		})
	}
}

// TestKernelChoice: the user's KernelEnv wins, a choice made before stands,
// a CPU without AVX-512 has nothing to choose; otherwise the kept
// calibration picks the faster family, measured once when there is none.
func TestKernelChoice(t *testing.T) {
	avx2Faster, avx512Faster := timed(0.012, 0.010), timed(0.010, 0.012)
	anotherCPU := avx2Faster
	anotherCPU.CPU = "Another CPU"
	tests := []struct {
		name      string
		avx512    bool          // The CPU has AVX-512.
		env       []string      // NAME=value set for the test.
		kept      []KernelTimes // The cache's calibrations.
		measured  KernelTimes   // What a calibration measures.
		failure   error         // What a calibration fails with.
		wantEnv   []string
		wantWhy   string // A substring of why.
		wantCalls int    // Calibrations.
		wantErr   bool
		noCache   bool // The cache's folder cannot be made.
	}{
		{name: "no AVX-512", avx512: false, measured: avx2Faster},
		{name: "no AVX-512, with a calibration kept", avx512: false, kept: []KernelTimes{avx2Faster}},
		{name: "user's AVX-512 off", avx512: true, env: []string{"GOMLX_GO_SIMD_AVX512=0"}, measured: avx512Faster,
			wantWhy: "AVX2 kernels: GOMLX_GO_SIMD_AVX512=0 set in the environment"},
		{name: "user's AVX-512 on against the calibration", avx512: true, env: []string{"GOMLX_GO_SIMD_AVX512=1"}, kept: []KernelTimes{avx2Faster},
			wantWhy: "AVX-512 kernels: GOMLX_GO_SIMD_AVX512=1 set in the environment"},
		{name: "chosen before", avx512: true, env: []string{KernelChosenEnv + "=AVX2 kernels: chosen before"}, measured: avx2Faster,
			wantWhy: "chosen before"},
		{name: "kept: AVX2 faster", avx512: true, kept: []KernelTimes{avx2Faster},
			wantEnv: []string{"GOMLX_GO_SIMD_AVX512=0"}, wantWhy: "AVX2 kernels: 1.20x faster than AVX-512"},
		{name: "kept: AVX-512 faster", avx512: true, kept: []KernelTimes{avx512Faster},
			wantWhy: "AVX-512 kernels: 1.20x faster than AVX2"},
		{name: "nothing kept: measures", avx512: true, measured: avx2Faster,
			wantEnv: []string{"GOMLX_GO_SIMD_AVX512=0"}, wantWhy: "AVX2 kernels: 1.20x", wantCalls: 1},
		{name: "kept for another CPU only: measures", avx512: true, kept: []KernelTimes{anotherCPU}, measured: avx512Faster,
			wantWhy: "AVX-512 kernels: 1.20x", wantCalls: 1},
		{name: "the calibration fails", avx512: true, failure: errors.New("probe crashed"), wantCalls: 1, wantErr: true},
		{name: "no cache: no measuring", avx512: true, measured: avx2Faster, noCache: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := withCacheDir(t)
			t.Setenv(KernelEnv, "")
			t.Setenv(KernelChosenEnv, "")
			for _, kv := range tc.env {
				name, value, _ := strings.Cut(kv, "=")
				t.Setenv(name, value)
			}
			for _, k := range tc.kept {
				if err := storeKernelTimes(k); err != nil {
					t.Fatal(err)
				}
			}
			if tc.noCache {
				// A file where the cache's folder goes.
				if err := os.WriteFile(filepath.Dir(path), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			calls := 0
			fakeCPU(t, tc.avx512, tc.measured, tc.failure, &calls)
			var notes bytes.Buffer
			env, why, err := KernelChoice(&notes)
			if (err != nil) != tc.wantErr {
				t.Fatalf("KernelChoice: error %v, want one: %v", err, tc.wantErr)
			}
			if !slices.Equal(env, tc.wantEnv) {
				t.Errorf("env = %q, want %q", env, tc.wantEnv)
			}
			if !strings.Contains(why, tc.wantWhy) || (tc.wantWhy == "" && why != "") {
				t.Errorf("why = %q, want %q", why, tc.wantWhy)
			}
			if calls != tc.wantCalls {
				t.Errorf("%d calibrations, want %d", calls, tc.wantCalls)
			}
			if said := strings.Contains(notes.String(), "measuring the pure-Go kernels"); said != (tc.wantCalls > 0) {
				t.Errorf("notes %q: said it measures: %v, want %v", notes.String(), said, tc.wantCalls > 0)
			}
			if calls > 0 && tc.failure == nil {
				if _, found, _ := loadKernelTimes(thisMachine()); !found {
					t.Errorf("the calibration was not kept")
				}
			}
		})
	}
}

// TestKernelsLabel: what Label says of the pure-Go backend's kernels,
// without measuring.
func TestKernelsLabel(t *testing.T) {
	tests := []struct {
		name   string
		avx512 bool
		env    []string
		kept   []KernelTimes
		want   string // A substring of Kernels(); "" for none at all.
	}{
		{name: "no AVX-512", kept: []KernelTimes{timed(0.012, 0.010)}},
		{name: "chosen", avx512: true, env: []string{KernelChosenEnv + "=AVX2 kernels: the reason"}, want: "AVX2 kernels: the reason"},
		{name: "user's", avx512: true, env: []string{"GOMLX_GO_SIMD_AVX512=off"}, kept: []KernelTimes{timed(0.012, 0.010)},
			want: "AVX2 kernels: GOMLX_GO_SIMD_AVX512=off set in the environment; measured: AVX2 1.20x faster"},
		{name: "not measured", avx512: true, want: "GoMLX's default, not measured"},
		{name: "AVX-512 measured faster", avx512: true, kept: []KernelTimes{timed(0.010, 0.012)}, want: "AVX-512 kernels: 1.20x faster"},
		{name: "AVX2 measured faster, not chosen", avx512: true, kept: []KernelTimes{timed(0.012, 0.010)},
			want: "GoMLX's default, though AVX2 measured 1.20x faster"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withCacheDir(t)
			t.Setenv(KernelEnv, "")
			t.Setenv(KernelChosenEnv, "")
			for _, kv := range tc.env {
				name, value, _ := strings.Cut(kv, "=")
				t.Setenv(name, value)
			}
			for _, k := range tc.kept {
				if err := storeKernelTimes(k); err != nil {
					t.Fatal(err)
				}
			}
			calls := 0
			fakeCPU(t, tc.avx512, KernelTimes{}, errors.New("must not measure"), &calls)
			got := Kernels()
			if !strings.Contains(got, tc.want) || (tc.want == "" && got != "") {
				t.Errorf("Kernels() = %q, want %q", got, tc.want)
			}
			label := Label("go")
			if tc.want == "" && label != "go" || tc.want != "" && label != "go ("+got+")" {
				t.Errorf("Label(\"go\") = %q, want it to name the kernels %q", label, got)
			}
			if calls != 0 {
				t.Errorf("Kernels measured")
			}
		})
	}
}

func TestWithEnv(t *testing.T) {
	got := withEnv([]string{"A=1", "GOMLX_GO_SIMD_AVX512=1", "GOMLX_GO_SIMD_AVX512_X=2", "B="}, "GOMLX_GO_SIMD_AVX512=0", "C=3")
	want := []string{"A=1", "GOMLX_GO_SIMD_AVX512_X=2", "B=", "GOMLX_GO_SIMD_AVX512=0", "C=3"}
	if !slices.Equal(got, want) {
		t.Errorf("withEnv = %q, want %q", got, want)
	}
}

// TestExecWithKernels runs a program that re-executes itself as the
// command line does: once, with KernelEnv=0 and the no-loop marker, when
// the kept calibration says AVX2 is faster; never when the user's
// KernelEnv, or the marker, is set already, or AVX-512 is faster.
func TestExecWithKernels(t *testing.T) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skip("no /proc/self/exe on this OS")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, avx2Why := timed(0.012, 0.010).Pick()
	tests := []struct {
		name string
		kept KernelTimes
		env  []string
		want []string // The lines the programs print, one a run.
	}{
		{"AVX2 faster: runs again once", timed(0.012, 0.010), nil, []string{
			`GOMLX_GO_SIMD_AVX512="" MNISTFC_KERNELS_CHOSEN=""`,
			fmt.Sprintf(`GOMLX_GO_SIMD_AVX512="0" MNISTFC_KERNELS_CHOSEN=%q`, avx2Why),
		}},
		{"AVX-512 faster: runs once", timed(0.010, 0.012), nil, []string{
			`GOMLX_GO_SIMD_AVX512="" MNISTFC_KERNELS_CHOSEN=""`,
		}},
		{"the user's choice: runs once", timed(0.012, 0.010), []string{"GOMLX_GO_SIMD_AVX512=1"}, []string{
			`GOMLX_GO_SIMD_AVX512="1" MNISTFC_KERNELS_CHOSEN=""`,
		}},
		{"chosen before: runs once", timed(0.012, 0.010), []string{KernelChosenEnv + "=before"}, []string{
			`GOMLX_GO_SIMD_AVX512="" MNISTFC_KERNELS_CHOSEN="before"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withCacheDir(t)
			if err := storeKernelTimes(tc.kept); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exe)
			cmd.Env = withEnv(os.Environ(), append([]string{execChildEnv + "=1", KernelEnv + "=", KernelChosenEnv + "="}, tc.env...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			if !slices.Equal(got, tc.want) {
				t.Errorf("the program printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCalibrate runs the calibration on this machine: the test binary as
// the probe child, once per family and round.
func TestCalibrate(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the kernels; skipped with -short")
	}
	if !CanChooseKernels() {
		t.Skip("one kernel family here: no AVX-512 or no GOEXPERIMENT=simd")
	}
	path := withCacheDir(t)
	got, err := Calibrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !(got.AVX512 > 0 && got.AVX2 > 0) || got.AVX512Runs < probeRounds*probeMinRuns || got.AVX2Runs < probeRounds*probeMinRuns {
		t.Errorf("Calibrate() = %+v, want two positive times, each of %d steps or more", got, probeRounds*probeMinRuns)
	}
	_, why := got.Pick()
	t.Logf("AVX-512 %.3f ms, AVX2 %.3f ms: %s", got.AVX512*1e3, got.AVX2*1e3, why)
	if kept, found, err := loadKernelTimes(thisMachine()); !found || err != nil || kept.AVX512 != got.AVX512 {
		t.Errorf("kept in %s: %+v, found %v, error %v", filepath.Base(path), kept, found, err)
	}
}
