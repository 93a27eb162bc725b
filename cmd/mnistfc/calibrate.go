package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// runCalibrate measures the pure-Go backend's two kernel families again
// and prints both timings and the pick; with -print-env it prints only the
// environment that the pick needs (from the kept calibration, measured
// once when there is none), one NAME=value a line, for launch scripts.
func runCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mnistfc calibrate", flag.ContinueOnError)
	printEnv := fs.Bool("print-env", false, "print only the environment the faster kernel family needs (GOMLX_GO_SIMD_AVX512=0, or nothing), measuring only when no calibration is kept")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("unexpected argument %q (see \"%s -h\")", fs.Arg(0), fs.Name()))
	}
	if *printEnv {
		env, _, err := backends.KernelChoice(stderr)
		if err != nil {
			return err
		}
		for _, kv := range env {
			fmt.Fprintln(stdout, kv)
		}
		return nil
	}
	if !backends.CanChooseKernels() {
		fmt.Fprintln(stdout, "Nothing to measure: the pure-Go backend has one kernel family here (no AVX-512 on this CPU, or a build without GOEXPERIMENT=simd).")
		return nil
	}
	fmt.Fprintln(stderr, "mnistfc: measuring the pure-Go kernels on this CPU ...")
	t, err := backends.Calibrate(context.Background())
	if err != nil {
		return err
	}
	_, why := t.Pick()
	path, _ := backends.KernelCachePath()
	fmt.Fprintf(stdout, "Pure-Go backend, the matrix products of one training step (batch 1000, 784 -> 100 -> 10), best step:\n")
	fmt.Fprintf(stdout, "  AVX-512 kernels  %7.3f ms  (best of %d)\n", t.AVX512*1e3, t.AVX512Runs)
	fmt.Fprintf(stdout, "  AVX2 kernels     %7.3f ms  (best of %d)\n", t.AVX2*1e3, t.AVX2Runs)
	fmt.Fprintf(stdout, "Pick: %s\n", why)
	fmt.Fprintf(stdout, "CPU: %s; compute %s, %s\n", t.CPU, t.Compute, t.Go)
	fmt.Fprintf(stdout, "Kept in %s\n", path)
	if v := os.Getenv(backends.KernelEnv); v != "" {
		fmt.Fprintf(stdout, "Note: %s=%s is set in the environment; it wins over the pick.\n", backends.KernelEnv, v)
	}
	return nil
}

// useFasterKernels runs this program again, in place of this process, with
// the pure-Go backend's faster kernel family (backends.KernelChoice) when
// it is not GoMLX's default, for a command that trains on the pure-Go
// backend or that computes run keys (sweep and merge, whatever the backend:
// mnistfc.Fingerprint probes the network on the pure-Go backend, so every
// process that keys runs for one store must use the same family). It
// returns when there is nothing to change, or with a note on stderr when
// the choice fails, and the program goes on with the default.
func useFasterKernels(cmd string, args []string, stderr io.Writer) {
	if kind, _, _ := strings.Cut(backends.Resolve(backendArg(args)), ":"); cmd == "train" && kind != backends.Default {
		return
	}
	env, why, err := backends.KernelChoice(stderr)
	if err == nil && len(env) > 0 {
		err = backends.ExecWithKernels(env, why) // Returns only on failure.
	}
	if err != nil {
		fmt.Fprintf(stderr, "mnistfc: note: %v; the pure-Go backend keeps GoMLX's default kernels\n", err)
	}
}

// backendArg returns the value of the last -backend flag in a command's
// arguments (-backend NAME or -backend=NAME, with one dash or two), "" when
// they have none.
func backendArg(args []string) string {
	name := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		flagName, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || flagName != "backend" {
			continue
		}
		switch {
		case hasValue:
			name = value
		case i+1 < len(args):
			i++
			name = args[i]
		}
	}
	return name
}
