package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/mnistfc/sweepdir"
)

// runMerge puts the -out folders of a sweep's shards (or of any parts of
// one sweep) together (sweepdir.Merge) and prints the sweep's table.
func runMerge(args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("mnistfc merge", flag.ContinueOnError)
	out := fset.String("out", "", "if set, folder for the merged sweep: its runs, sweep.json, results.json, results.csv and (for a grid) heatmap.png, as one uninterrupted sweep writes them; never one of the folders merged")
	fset.Usage = func() {
		fmt.Fprintf(fset.Output(), "Usage: mnistfc merge [-out DIR] SHARD_DIR...\n\nPuts the -out folders of a sweep's shards (sweep -shard) together, as one sweep.\nA folder of an earlier version of mnistfc (with results.jsonl) is converted on the way.\n\n")
		fset.PrintDefaults()
	}
	var dirs []string
	for { // Flags may come after the folders too.
		if err := fset.Parse(args); err != nil {
			return usageError(err)
		}
		if fset.NArg() == 0 {
			break
		}
		dirs, args = append(dirs, fset.Arg(0)), fset.Args()[1:]
	}
	merged, err := sweepdir.Merge(dirs, *out, os.Stderr)
	if err != nil {
		return asUsage(err)
	}
	fmt.Fprintf(stdout, "Merged %d runs from %d folder(s)\n\n", len(merged.Runs), merged.Folders)
	sweepdir.WriteTable(stdout, mnistfc.Aggregate(merged.Runs), merged.Manifest.Seeds)
	if *out != "" {
		fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	}
	return nil
}
