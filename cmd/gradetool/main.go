// Command gradetool is the Go side of the grader (scripts/grade.py): it
// reads a submission's code and judges what the submission's program
// observed. It never runs a submission's code itself.
//
//	gradetool build -root DIR -out DIR [-hidden DIR] < cells.json   # writes the program, prints its source.Program as JSON
//	gradetool judge -seed N [-reference FILE] < observations.jsonl  # prints the verdicts as JSON
//	gradetool shard -shard i/n|auto [-shard-count N] -jobs K   # which of K submissions this shard grades, as JSON
//
// The program that build writes is built and run in the sandbox, as
// "PROGRAM SEED 3>observations.jsonl".
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mnistfc/mnistfc/grading"
	"github.com/mnistfc/mnistfc/grading/source"
	"github.com/mnistfc/mnistfc/internal/shard"
)

// maxObservations bounds what judge reads of a submission's program.
const maxObservations = 16 << 20

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gradetool:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: gradetool build|judge [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	root := fs.String("root", ".", "the repository the program builds against")
	dir := fs.String("out", "", "the folder of the program (build)")
	hidden := fs.String("hidden", "", "a folder of the teacher's hidden checks (build)")
	reference := fs.String("reference", "", "the observations of the solution's program, for the hidden checks (judge)")
	seed := fs.Uint64("seed", 0, "the grading run's seed (judge)")
	shardFlag := fs.String("shard", "", "i/n, or auto: the job runner's (shard)")
	shardCount := fs.Int("shard-count", 0, "with -shard auto: the number of shards where the environment does not say it (shard)")
	jobs := fs.Int("jobs", 0, "how many submissions there are (shard)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", " ")
	switch args[0] {
	case "build":
		var cells []source.Cell
		if err := json.NewDecoder(in).Decode(&cells); err != nil {
			return fmt.Errorf("reading the cells: %w", err)
		}
		if *dir == "" {
			return fmt.Errorf("build needs -out")
		}
		p, err := source.Build(cells, *root, *dir, *hidden)
		if err != nil {
			return err
		}
		return enc.Encode(p)
	case "judge":
		observed := readObservations(in)
		verdicts, err := grading.Judge(*seed, observed)
		if err != nil {
			return err
		}
		if *reference != "" {
			f, err := os.Open(*reference)
			if err != nil {
				return err
			}
			defer f.Close()
			verdicts = append(verdicts, grading.JudgeHidden(observed, readObservations(f))...)
		}
		return enc.Encode(verdicts)
	case "shard":
		s, err := shard.Parse(*shardFlag, *shardCount, os.LookupEnv)
		if err != nil {
			return err
		}
		costs := make([]int64, *jobs) // Submissions cost about the same.
		for i := range costs {
			costs[i] = 1
		}
		mine := []int{}
		for i, k := range shard.Assign(costs, s.Count) {
			if k == s.Index-1 {
				mine = append(mine, i)
			}
		}
		return enc.Encode(map[string]any{"index": s.Index, "count": s.Count, "from": s.From, "jobs": mine})
	}
	return fmt.Errorf("unknown command %q: build, judge or shard", args[0])
}

// readObservations reads JSON lines of observations, at most
// maxObservations bytes; lines that are not observations are skipped.
func readObservations(in io.Reader) []grading.Observation {
	var observed []grading.Observation
	sc := bufio.NewScanner(io.LimitReader(in, maxObservations))
	sc.Buffer(make([]byte, 1<<20), maxObservations)
	for sc.Scan() {
		if o, err := grading.ReadObservation(sc.Bytes()); err == nil && o.Check != "" {
			observed = append(observed, o)
		}
	}
	return observed
}
