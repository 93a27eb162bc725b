// Command mnistfc trains the assignment's fully-connected MNIST network.
//
// Usage:
//
//	mnistfc train [flags]   train one network, write curves, weights, history and the model
//	mnistfc sweep [flags]   run the original seven experiments, or a grid, and print a table
//	mnistfc install-xla     download an XLA PJRT plugin for the XLA backend
//
// Run "mnistfc train -h" or "mnistfc sweep -h" for the flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `mnistfc trains a 784 -> H -> sigmoid -> 10 -> softmax network on MNIST with GoMLX.

Usage:
  mnistfc train [flags]   train one network; writes curves.png, weights.png, history.json, model.bin to -out
  mnistfc sweep [flags]   run the original notebook's seven experiments (or a grid) and print a table
  mnistfc install-xla     download an XLA PJRT plugin (-plugin cuda or cpu) for -backend xla:...
  mnistfc help            this message

"mnistfc train -h" and "mnistfc sweep -h" list the flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "train":
		err = runTrain(args, os.Stdout)
	case "sweep":
		err = runSweep(args, os.Stdout)
	case "install-xla":
		err = runInstallXLA(args, os.Stdout)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "mnistfc: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mnistfc: %v\n", err)
		os.Exit(1)
	}
}
