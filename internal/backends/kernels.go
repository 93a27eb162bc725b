package backends

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute/support/envutil"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
)

// The pure-Go backend has two families of matrix-product kernels on amd64
// CPUs with AVX-512: its AVX-512 kernels, GoMLX's default there, and its
// AVX2 kernels. Which one is faster depends on the CPU (docs/performance.md
// has the measurements), so this file measures both on the network's own
// shapes, once per machine, and keeps the result. GoMLX reads KernelEnv
// when the program starts, so a program switches family only by starting
// again with KernelEnv set: ExecWithKernels.

// KernelEnv is GoMLX's variable that turns the pure-Go backend's AVX-512
// kernels off ("0") or leaves them on ("1", the default where the CPU has
// AVX-512). Set by the user to a value that is not empty, it always wins
// over the calibration.
const KernelEnv = envutil.GoBackendSIMD_AVX512

// KernelChosenEnv marks a process whose kernel family ExecWithKernels
// chose: its value says which family and why, for Kernels. KernelChoice
// never chooses again in a process that has it, so a program never
// re-executes itself in a loop.
const KernelChosenEnv = "MNISTFC_KERNELS_CHOSEN"

// KernelProbeCommand is the hidden first argument with which Calibrate
// runs the program again, once per kernel family. A program that calls
// Calibrate or KernelChoice must call KernelProbe, and nothing else, when
// its first argument is KernelProbeCommand.
const KernelProbeCommand = "internal-kernel-probe"

// kernelMargin is how much shorter the AVX2 kernels' best time must be for
// the AVX2 family to replace GoMLX's default: a tie keeps the default.
const kernelMargin = 0.03

// The calibration's shapes: a training step of the assignment's network,
// batch 1000, 784 inputs, hidden size 100, 10 classes.
const (
	probeBatch   = 1000
	probeInputs  = 784
	probeHidden  = 100
	probeClasses = 10
)

// Each probe child warms up, then times steps for probeBudget (at least
// probeMinRuns steps); Calibrate runs probeRounds children per family,
// alternating, and keeps each family's best step.
const (
	probeWarmup  = 3
	probeMinRuns = 5
	probeBudget  = 50 * time.Millisecond
	probeRounds  = 5
	probeTimeout = 2 * time.Minute
)

// KernelTimes is one calibration of the pure-Go backend's kernel families:
// the best time of one training step's matrix products with each, on one
// CPU with one version of GoMLX's compute module and of Go.
type KernelTimes struct {
	CPU     string  `json:"cpu"`            // The CPU: model, family, model number, stepping, logical CPUs.
	Compute string  `json:"compute"`        // The version of github.com/gomlx/compute.
	Go      string  `json:"go"`             // The Go version the program was built with.
	AVX512  float64 `json:"avx512_seconds"` // Best step with the AVX-512 kernels.
	AVX2    float64 `json:"avx2_seconds"`   // Best step with the AVX2 kernels.
	// Steps timed with each family, all rounds together.
	AVX512Runs int       `json:"avx512_runs"`
	AVX2Runs   int       `json:"avx2_runs"`
	Measured   time.Time `json:"measured"`
}

// sameMachine reports whether t was measured on the CPU and with the
// versions of k.
func (t KernelTimes) sameMachine(k KernelTimes) bool {
	return t.CPU == k.CPU && t.Compute == k.Compute && t.Go == k.Go
}

// Pick returns the family t says is faster: the environment to add for it
// (KernelEnv=0 for AVX2; nothing for AVX-512, GoMLX's default) and a
// line that says which and why, such as "AVX2 kernels: 1.19x faster than
// AVX-512 on this CPU, measured; GOMLX_GO_SIMD_AVX512=0". AVX2 wins only
// when it is faster by more than kernelMargin: a tie keeps GoMLX's default.
func (t KernelTimes) Pick() (env []string, why string) {
	if t.AVX2 < t.AVX512*(1-kernelMargin) {
		return []string{KernelEnv + "=0"}, fmt.Sprintf("AVX2 kernels: %.2fx faster than AVX-512 on this CPU, measured; %s=0", t.AVX512/t.AVX2, KernelEnv)
	}
	if t.AVX512 < t.AVX2*(1-kernelMargin) {
		return nil, fmt.Sprintf("AVX-512 kernels: %.2fx faster than AVX2 on this CPU, measured", t.AVX2/t.AVX512)
	}
	return nil, fmt.Sprintf("AVX-512 kernels: GoMLX's default, as fast as AVX2 on this CPU (within %.0f%%), measured", kernelMargin*100)
}

// Variables for the tests.
var (
	// hasAVX512 reports whether there is a family to choose: an amd64 CPU
	// with AVX-512 and a build with GOEXPERIMENT=simd.
	hasAVX512 = cpuHasAVX512
	// calibrate measures both families (Calibrate).
	calibrate = Calibrate
	// cpuinfo is the file that names the CPU.
	cpuinfo = "/proc/cpuinfo"
)

// CanChooseKernels reports whether the pure-Go backend has two kernel
// families to choose from in this program: an amd64 CPU with AVX-512 and a
// build with GOEXPERIMENT=simd. Elsewhere KernelChoice and Kernels have
// nothing to say and Calibrate nothing to measure.
func CanChooseKernels() bool { return hasAVX512() }

// KernelChoice returns the pure-Go backend's kernel family for a program
// about to start: the environment to add (empty when GoMLX's default is
// the faster family or there is nothing to change) and a line that says
// which family and why. There is nothing to choose, and it returns no
// line, where the CPU has no AVX-512 or the build has no GOEXPERIMENT=simd.
// A KernelEnv the user set wins, and so does a choice made before
// (KernelChosenEnv): it returns no environment for them. Otherwise it
// follows the kept calibration (KernelCachePath), and when there is none
// for this CPU and these versions it calibrates first, with a line on
// notes. An error means the calibration failed or could not be kept: the
// program goes on with GoMLX's default.
func KernelChoice(notes io.Writer) (env []string, why string, err error) {
	if !hasAVX512() {
		return nil, "", nil
	}
	if why := os.Getenv(KernelChosenEnv); why != "" {
		return nil, why, nil
	}
	if v := os.Getenv(KernelEnv); v != "" {
		return nil, userKernels(v), nil
	}
	t, found, err := loadKernelTimes(thisMachine())
	if err != nil {
		return nil, "", err
	}
	if !found {
		// A calibration that cannot be kept would run again every time.
		if err := cacheFolder(); err != nil {
			return nil, "", err
		}
		fmt.Fprintln(notes, "mnistfc: measuring the pure-Go kernels on this CPU (once) ...")
		if t, err = calibrate(context.Background()); err != nil {
			return nil, "", err
		}
	}
	env, why = t.Pick()
	return env, why, nil
}

// userKernels describes the family a KernelEnv value set by the user picks.
func userKernels(v string) string {
	switch lower := strings.ToLower(v); {
	case envutil.FalseValues.Has(lower):
		return fmt.Sprintf("AVX2 kernels: %s=%s set in the environment", KernelEnv, v)
	case envutil.TrueValues.Has(lower):
		return fmt.Sprintf("AVX-512 kernels: %s=%s set in the environment", KernelEnv, v)
	}
	return fmt.Sprintf("%s=%q set in the environment", KernelEnv, v)
}

// Kernels describes the pure-Go backend's kernel family in this process
// and why, for the line that names the backend (Label), without measuring
// anything: the choice of ExecWithKernels, a KernelEnv set by the user, or
// the kept calibration; "" where there is nothing to choose (see
// KernelChoice).
func Kernels() string {
	if !hasAVX512() {
		return ""
	}
	if why := os.Getenv(KernelChosenEnv); why != "" {
		return why
	}
	t, found, err := loadKernelTimes(thisMachine())
	found = found && err == nil
	if v := os.Getenv(KernelEnv); v != "" {
		why := userKernels(v)
		if found {
			why += "; measured: " + t.faster()
		}
		return why
	}
	if !found {
		return "AVX-512 kernels: GoMLX's default, not measured on this CPU (mnistfc calibrate)"
	}
	env, why := t.Pick()
	if len(env) > 0 {
		return fmt.Sprintf("AVX-512 kernels: GoMLX's default, though AVX2 measured %.2fx faster on this CPU (%s for them)", t.AVX512/t.AVX2, strings.Join(env, " "))
	}
	return why
}

// faster says which family t measured faster and by how much, such as
// "AVX2 1.19x faster than AVX-512 on this CPU".
func (t KernelTimes) faster() string {
	if t.AVX2 < t.AVX512 {
		return fmt.Sprintf("AVX2 %.2fx faster than AVX-512 on this CPU", t.AVX512/t.AVX2)
	}
	return fmt.Sprintf("AVX-512 %.2fx faster than AVX2 on this CPU", t.AVX2/t.AVX512)
}

// ExecWithKernels runs the program again, in place of this process, with
// env added to its environment and KernelChosenEnv=why, so that GoMLX
// reads the family KernelChoice chose when it starts. It returns only when
// that fails.
func ExecWithKernels(env []string, why string) error {
	exe := "/proc/self/exe"
	if _, err := os.Stat(exe); err != nil {
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("finding this program to run it again with %s: %w", strings.Join(env, " "), err)
		}
	}
	environ := withEnv(os.Environ(), append(slices.Clone(env), KernelChosenEnv+"="+why)...)
	if err := execProgram(exe, os.Args, environ); err != nil {
		return fmt.Errorf("running %s again with %s: %w", exe, strings.Join(env, " "), err)
	}
	return nil
}

// withEnv returns environ with the NAME=value entries of set in place of
// those of the same names.
func withEnv(environ []string, set ...string) []string {
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(set, func(s string) bool { return strings.HasPrefix(s, name+"=") }) {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// KernelCachePath returns the file that keeps the calibrations of this
// user's machines: kernels.json in mnistfc's folder of os.UserCacheDir.
func KernelCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the folder for the kernel calibration: %w", err)
	}
	return filepath.Join(dir, "mnistfc", "kernels.json"), nil
}

// cacheFolder makes the folder of KernelCachePath, if needed.
func cacheFolder() error {
	path, err := KernelCachePath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("keeping the kernel calibration: %w", err)
	}
	return nil
}

// kernelCache is the content of KernelCachePath: one calibration per CPU
// and versions, for a cache folder that several machines share.
type kernelCache struct {
	Calibrations []KernelTimes `json:"calibrations"`
}

// loadKernelTimes returns the kept calibration of the machine k names
// (CPU and versions), if any. A file that does not parse counts as none.
func loadKernelTimes(k KernelTimes) (t KernelTimes, found bool, err error) {
	path, err := KernelCachePath()
	if err != nil {
		return t, false, err
	}
	c, err := readKernelCache(path)
	if err != nil {
		return t, false, err
	}
	for _, t := range c.Calibrations {
		if t.sameMachine(k) && t.AVX512 > 0 && t.AVX2 > 0 {
			return t, true, nil
		}
	}
	return t, false, nil
}

// readKernelCache reads the calibrations in path: none when the file is
// missing or does not parse.
func readKernelCache(path string) (kernelCache, error) {
	var c kernelCache
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading the kernel calibration: %w", err)
	}
	if json.Unmarshal(data, &c) != nil {
		return kernelCache{}, nil
	}
	return c, nil
}

// storeKernelTimes keeps t in KernelCachePath, in place of the calibration
// of the same machine.
func storeKernelTimes(t KernelTimes) error {
	path, err := KernelCachePath()
	if err != nil {
		return err
	}
	if err := cacheFolder(); err != nil {
		return err
	}
	c, err := readKernelCache(path)
	if err != nil {
		return err
	}
	c.Calibrations = slices.DeleteFunc(c.Calibrations, t.sameMachine)
	c.Calibrations = append(c.Calibrations, t)
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("keeping the kernel calibration: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n')); err != nil {
		return fmt.Errorf("keeping the kernel calibration: %w", err)
	}
	return nil
}

// thisMachine returns the key of this machine's calibration: the CPU and
// the versions of GoMLX's compute module and of Go (the other fields are
// zero).
func thisMachine() KernelTimes {
	return KernelTimes{CPU: cpuName(), Compute: computeVersion(), Go: runtime.Version()}
}

// cpuName names this CPU for the calibration's key: from /proc/cpuinfo
// where there is one, else the OS and architecture; with the number of
// logical CPUs the backend runs on.
func cpuName() string {
	name := runtime.GOOS + "/" + runtime.GOARCH
	if data, err := os.ReadFile(cpuinfo); err == nil {
		if n := parseCPUInfo(data); n != "" {
			name = n
		}
	}
	return fmt.Sprintf("%s; %d CPUs", name, runtime.NumCPU())
}

// parseCPUInfo returns the first processor's model name, family, model and
// stepping in a /proc/cpuinfo, such as "AMD EPYC (family 25, model 17,
// stepping 1)", or "" when it has no model name.
func parseCPUInfo(data []byte) string {
	fields := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := s.Text()
		if strings.TrimSpace(line) == "" && len(fields) > 0 {
			break // The end of the first processor.
		}
		k, v, ok := strings.Cut(line, ":")
		if k = strings.TrimSpace(k); ok && fields[k] == "" {
			fields[k] = strings.TrimSpace(v)
		}
	}
	name := fields["model name"]
	if name == "" {
		return ""
	}
	var ids []string
	for _, k := range []string{"cpu family", "model", "stepping"} {
		if v := fields[k]; v != "" {
			ids = append(ids, strings.TrimPrefix(k, "cpu ")+" "+v)
		}
	}
	if len(ids) > 0 {
		name += " (" + strings.Join(ids, ", ") + ")"
	}
	return name
}

// computeVersion returns the version of github.com/gomlx/compute this
// program is built with, "unknown" when the build has no module
// information.
func computeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range info.Deps {
		if m.Path != "github.com/gomlx/compute" {
			continue
		}
		if r := m.Replace; r != nil {
			if r.Version != "" {
				return r.Version
			}
			return r.Path
		}
		return m.Version
	}
	return "unknown"
}

// probeReport is what a probe child writes: its family and its best step.
type probeReport struct {
	AVX512  bool    `json:"avx512"`
	Seconds float64 `json:"seconds"`
	Runs    int     `json:"runs"`
}

// Calibrate measures the pure-Go backend's two kernel families on this
// machine now and keeps the result in KernelCachePath for KernelChoice. It
// runs this program again, probeRounds times per family, alternating, with
// the first argument KernelProbeCommand and KernelEnv set for the family
// (see KernelProbe), and keeps each family's best step.
func Calibrate(ctx context.Context) (KernelTimes, error) {
	t := thisMachine()
	if !hasAVX512() {
		return t, errors.New("no kernel family to choose: the CPU has no AVX-512 or the program was built without GOEXPERIMENT=simd")
	}
	exe, err := os.Executable()
	if err != nil {
		return t, fmt.Errorf("finding this program to measure the kernels: %w", err)
	}
	for round := range probeRounds {
		order := []bool{true, false}
		if round%2 == 1 {
			order = []bool{false, true}
		}
		for _, avx512 := range order {
			r, err := runProbe(ctx, exe, avx512)
			if err != nil {
				return t, err
			}
			best, runs := &t.AVX2, &t.AVX2Runs
			if avx512 {
				best, runs = &t.AVX512, &t.AVX512Runs
			}
			if *best == 0 || r.Seconds < *best {
				*best = r.Seconds
			}
			*runs += r.Runs
		}
	}
	t.Measured = time.Now().UTC().Truncate(time.Second)
	if err := storeKernelTimes(t); err != nil {
		return t, err
	}
	return t, nil
}

// runProbe runs exe's probe with the AVX-512 kernels on or off and returns
// its report.
func runProbe(ctx context.Context, exe string, avx512 bool) (probeReport, error) {
	family, value := "AVX2", "0"
	if avx512 {
		family, value = "AVX-512", "1"
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, KernelProbeCommand)
	cmd.Env = withEnv(os.Environ(), KernelEnv+"="+value)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return probeReport{}, fmt.Errorf("measuring the %s kernels (%s %s): %w: %s", family, exe, KernelProbeCommand, err, strings.TrimSpace(stderr.String()))
	}
	var r probeReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return r, fmt.Errorf("measuring the %s kernels: %s %s did not report: %w (output %q)", family, exe, KernelProbeCommand, err, stdout.String())
	}
	if r.AVX512 != avx512 || !(r.Seconds > 0) {
		return r, fmt.Errorf("measuring the %s kernels: %s %s reported %+v", family, exe, KernelProbeCommand, r)
	}
	return r, nil
}

// KernelProbe is the work of a program run with the first argument
// KernelProbeCommand (see Calibrate): it times the matrix products of one
// training step of the network (forward, and the gradients' transposed
// products) on the pure-Go backend with the kernel family KernelEnv
// selects, and writes its best step as JSON to w.
func KernelProbe(w io.Writer) error {
	on, err := envutil.ReadBool(KernelEnv, true)
	if err != nil {
		return fmt.Errorf("kernel probe: %w", err)
	}
	backend, err := New("go")
	if err != nil {
		return fmt.Errorf("kernel probe: %w", err)
	}
	e, err := graph.NewExec(backend, stepProducts)
	if err != nil {
		return fmt.Errorf("kernel probe: compiling the step's products: %w", err)
	}
	defer e.Finalize()
	var inputs []*tensors.Tensor
	defer func() {
		for _, t := range inputs {
			t.FinalizeAll()
		}
	}()
	for i, dims := range [][]int{
		{probeBatch, probeInputs},   // x
		{probeHidden, probeInputs},  // w1, one row per hidden unit
		{probeClasses, probeHidden}, // w2
		{probeBatch, probeHidden},   // h, the hidden layer's activations
		{probeHidden, probeBatch},   // The gradient of the hidden layer's pre-activations.
		{probeClasses, probeBatch},  // The gradient of the logits.
	} {
		data := make([]float32, dims[0]*dims[1])
		for j := range data {
			data[j] = float32((j*7+i*13)%101-50) / 500
		}
		t := tensors.FromFlatDataAndDimensions(data, dims...)
		inputs = append(inputs, t)
		if err := t.ToDevice(backend, 0); err != nil {
			return fmt.Errorf("kernel probe: sending the inputs to the backend: %w", err)
		}
	}
	args := make([]any, len(inputs))
	for i, t := range inputs {
		args[i] = t
	}
	step := func() (time.Duration, error) {
		start := time.Now()
		outs, err := e.Exec(args...)
		if err != nil {
			return 0, fmt.Errorf("kernel probe: %w", err)
		}
		elapsed := time.Since(start)
		for _, o := range outs {
			o.FinalizeAll()
		}
		return elapsed, nil
	}
	for range probeWarmup {
		if _, err := step(); err != nil {
			return err
		}
	}
	r := probeReport{AVX512: on}
	best := time.Duration(0)
	for start := time.Now(); r.Runs < probeMinRuns || time.Since(start) < probeBudget; r.Runs++ {
		d, err := step()
		if err != nil {
			return err
		}
		if best == 0 || d < best {
			best = d
		}
	}
	r.Seconds = best.Seconds()
	return json.NewEncoder(w).Encode(r)
}

// stepProducts builds the matrix products of one training step as
// mnistfc's layers compute them, each (W·xᵀ)ᵀ (bench/gomatmul times the
// same five alone): the forward W1·xᵀ and W2·hᵀ, the weights' gradients
// dZ1·x and dZ2·h, and the hidden layer's gradient dZ2ᵀ·W2.
func stepProducts(in []*graph.Node) []*graph.Node {
	x, w1, w2, h, dz1, dz2 := in[0], in[1], in[2], in[3], in[4], in[5]
	return []*graph.Node{
		graph.DotGeneral(w1, []int{1}, nil, x, []int{1}, nil),   // [hidden, batch]
		graph.DotGeneral(w2, []int{1}, nil, h, []int{1}, nil),   // [classes, batch]
		graph.DotGeneral(dz1, []int{1}, nil, x, []int{0}, nil),  // [hidden, inputs]
		graph.DotGeneral(dz2, []int{1}, nil, h, []int{0}, nil),  // [classes, hidden]
		graph.DotGeneral(dz2, []int{0}, nil, w2, []int{0}, nil), // [batch, hidden]
	}
}
