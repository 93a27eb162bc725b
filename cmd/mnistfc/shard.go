package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mnistfc/mnistfc/internal/shard"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// A sweep can be cut into n shards ("sweep -shard i/n"), each run by its
// own process, typically one task of a Slurm job array or one pod of a
// Kubernetes Indexed Job, and the shards' folders put back together with
// "mnistfc merge". Every run of the sweep is in exactly one shard; which
// one depends only on the sweep's runs and n (shard.Assign).

// runCost is the planner's cost of a run: its epochs times the
// multiply-adds of one image through the network, 784·H + 10·H (with the
// biases, 795·H + 10), plus the 784 pixels read and normalised per image,
// which a tiny hidden layer does not make free. Only ratios matter: a run
// of hidden 100 costs about 63 times one of hidden 1 of the same epochs,
// and 2 epochs twice one.
func runCost(c mnistfc.Config) int64 {
	h := int64(c.HiddenDim)
	return int64(c.Epochs) * (784 + 795*h + 10)
}

// shardRuns returns the indices in cfgs of the runs of shard s, in order.
func shardRuns(cfgs []mnistfc.Config, s shard.Shard) []int {
	costs := make([]int64, len(cfgs))
	for i, c := range cfgs {
		costs[i] = runCost(c)
	}
	var mine []int
	for i, k := range shard.Assign(costs, s.Count) {
		if k == s.Index-1 {
			mine = append(mine, i)
		}
	}
	return mine
}

// lookupEnv is os.LookupEnv; tests give parseShard their own.
var lookupEnv = os.LookupEnv

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:=+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shardFlags are the flags that choose a shard; sweep.json records the
// shard itself (planShard), not them.
var shardFlags = []string{"shard", "shard-count"}

// planShard is sweep.json's record of a shard.
type planShard struct {
	Index int   `json:"index"`
	Count int   `json:"count"`
	Runs  []int `json:"runs"` // Its runs, numbered from 1 as in results.jsonl.
	// Args are the flags the shard was given, less -shard, -shard-count,
	// -out, -resume and -json: with those, the command that runs a shard.
	Args []string `json:"args"`
}

// String is "i/n", or "none" for no shard (a whole sweep).
func (s *planShard) String() string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// runCount is the number of runs the folder of p holds when finished.
func (p *sweepPlan) runCount() int {
	if p.Shard != nil {
		return len(p.Shard.Runs)
	}
	return len(p.Runs)
}

// newPlanShard records shard s, whose runs are mine (indices in the
// sweep's runs), with the flags set in fset.
func newPlanShard(fset *flag.FlagSet, s shard.Shard, mine []int) *planShard {
	p := &planShard{Index: s.Index, Count: s.Count, Runs: []int{}}
	for _, i := range mine {
		p.Runs = append(p.Runs, i+1)
	}
	fset.Visit(func(f *flag.Flag) {
		if !slices.Contains(append([]string{"out", "resume", "json"}, shardFlags...), f.Name) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				p.Args = append(p.Args, "-"+f.Name+"="+f.Value.String())
			} else {
				p.Args = append(p.Args, "-"+f.Name, f.Value.String())
			}
		}
	})
	return p
}

// command is the command line that runs shard k of n of the sweep whose
// shard is p (its flags, in dir): what to re-run to finish it.
func (p *planShard) command(k, n int, dir string) string {
	args := []string{"mnistfc", "sweep"}
	for _, a := range p.Args {
		args = append(args, shellQuote(a))
	}
	return strings.Join(append(args, "-shard", fmt.Sprintf("%d/%d", k, n), "-resume", "-out", shellQuote(dir)), " ")
}

// pickShard returns the shard that -shard and -shard-count name (nil for
// none) and the indices in cfgs of its runs (all of them for none), and
// says on stderr which shard it is and where it came from.
func pickShard(value string, count int, cfgs []mnistfc.Config) (*shard.Shard, []int, error) {
	if value == "" {
		if count != 0 {
			return nil, nil, fmt.Errorf("-shard-count %d: only with -shard auto", count)
		}
		all := make([]int, len(cfgs))
		for i := range all {
			all[i] = i
		}
		return nil, all, nil
	}
	s, err := shard.Parse(value, count, lookupEnv)
	if err != nil {
		return nil, nil, err
	}
	mine := shardRuns(cfgs, s)
	var cost, all int64
	for i, c := range cfgs {
		all += runCost(c)
		if slices.Contains(mine, i) {
			cost += runCost(c)
		}
	}
	fmt.Fprintf(os.Stderr, "mnistfc: shard %s (from %s): %d of the sweep's %d runs, %.1f%% of its cost\n", s, s.From, len(mine), len(cfgs), 100*float64(cost)/float64(max(all, 1)))
	if len(mine) == 0 {
		fmt.Fprintf(os.Stderr, "mnistfc: shard %s has no runs: the sweep has %d runs for %d shards\n", s, len(cfgs), s.Count)
	}
	return &s, mine, nil
}
