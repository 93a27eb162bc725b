// Command mnistfc trains the assignment's fully-connected MNIST network.
//
// Usage:
//
//	mnistfc train [flags]   train one network, write curves, weights, history and the model
//	mnistfc sweep [flags]   run the original seven experiments, or a grid, and print a table
//	mnistfc merge DIR...    put the folders of a sweep's shards (sweep -shard i/n) together
//	mnistfc install-xla     download an XLA PJRT plugin for the XLA backend
//	mnistfc calibrate       measure the pure-Go backend's two kernel families on this CPU
//
// Run "mnistfc train -h" or "mnistfc sweep -h" for the flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/mnistfc/mnistfc/internal/backends"
)

const usage = `mnistfc trains a 784 -> H -> sigmoid -> 10 -> softmax network on MNIST with GoMLX.

Usage:
  mnistfc train [flags]   train one network; writes curves.png, weights.png, history.json, summary.json, model.bin to -out
  mnistfc sweep [flags]   run the original notebook's seven experiments (or a grid) and print a table
  mnistfc merge [-out DIR] DIR...
                          put the -out folders of a sweep's shards together: the same table and
                          files as one sweep; names missing runs and the shard to re-run
  mnistfc install-xla     download an XLA PJRT plugin (-plugin cuda or cpu) for -backend xla:...
  mnistfc calibrate [-print-env]
                          measure the pure-Go backend's AVX-512 and AVX2 kernels on this CPU again
                          and keep the pick; -print-env prints only what the pick needs in the
                          environment (GOMLX_GO_SIMD_AVX512=0, or nothing), for launch scripts
  mnistfc help            this message

"mnistfc train -h" and "mnistfc sweep -h" list the flags.

Shards: "sweep -shard i/n -out DIR" runs part i of n of the sweep (the parts
balanced by cost, epochs x hidden size); "-shard auto" takes i and n from a
Slurm job array (SLURM_ARRAY_TASK_ID, _MIN, _COUNT) or a Kubernetes Indexed
Job (JOB_COMPLETION_INDEX, with -shard-count N or MNISTFC_SHARD_COUNT=N).
Each shard resumes with -resume; "merge" puts their folders together.

Kernels: on a CPU with AVX-512, train on the pure-Go backend, and sweep and
merge on any (they key runs by what the network computes on it), use
whichever of its kernel families, AVX-512 or AVX2, is faster here, measured
once per machine (about a second, kept in the user's cache folder); they run
themselves again with GOMLX_GO_SIMD_AVX512=0 when AVX2 wins. A
GOMLX_GO_SIMD_AVX512 set by the user always wins.

Ctrl-C (SIGINT) or SIGTERM stops gracefully: train finishes its epoch, tests
the best model so far and writes every output, marked interrupted; sweep
finishes the runs in flight, keeps them in -out (one file per run), and
"sweep -resume" finishes it later. A second Ctrl-C quits at once.

Exit status:
  0    done
  1    error (data, backend, files, a failed run, a merge with runs missing)
  2    bad command line (unknown command or flag, bad value, -out holding another shard,
       merge of folders of other sweeps)
  3    train: the run diverged (loss NaN or infinite); the epochs that ran are written
  130  interrupted (Ctrl-C or SIGTERM); what finished is written
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(exitUsage)
	}
	cmd, args := os.Args[1], os.Args[2:]
	if cmd == "train" || cmd == "sweep" || cmd == "merge" {
		useFasterKernels(cmd, args, os.Stderr)
	}
	var err error
	switch cmd {
	case backends.KernelProbeCommand: // Calibrate's child.
		err = backends.KernelProbe(os.Stdout)
	case "train":
		err = runTrain(args, os.Stdout)
	case "sweep":
		err = runSweep(args, os.Stdout)
	case "merge":
		err = runMerge(args, os.Stdout)
	case "install-xla":
		err = runInstallXLA(args, os.Stdout)
	case "calibrate":
		err = runCalibrate(args, os.Stdout, os.Stderr)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "mnistfc: unknown command %q\n\n%s", cmd, usage)
		os.Exit(exitUsage)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(exitOK)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mnistfc: %v\n", err)
		os.Exit(exitStatus(err))
	}
}
