package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// A sweep can be cut into n shards ("sweep -shard i/n"), each run by its
// own process, typically one task of a Slurm job array or one pod of a
// Kubernetes Indexed Job, and the shards' folders put back together with
// "mnistfc merge". Every run of the sweep is in exactly one shard; which
// one depends only on the sweep's runs and n (assignShards).

// shardCountEnv holds the number of shards where the job runner's
// environment does not say it (a Kubernetes Indexed Job sets only
// JOB_COMPLETION_INDEX); -shard-count takes precedence over it.
const shardCountEnv = "MNISTFC_SHARD_COUNT"

// shard is one part of a sweep: Index from 1 to Count.
type shard struct {
	Index, Count int
	From         string // Where it came from, for messages: "-shard 2/4", "SLURM_ARRAY_TASK_ID=1, ...".
}

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

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

// assignShards puts run i (cost costs[i]) into shard assign[i], in
// 0..n-1, by greedy longest processing time: runs by decreasing cost (ties
// by index), each into the shard with the least cost so far (ties: the
// lowest shard). It is deterministic and pure. The costliest shard exceeds
// the cheapest by at most the cost of one run, and is within 4/3 of the
// best possible split.
func assignShards(costs []int64, n int) []int {
	order := make([]int, len(costs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(costs[b], costs[a]) })
	load := make([]int64, n)
	assign := make([]int, len(costs))
	for _, i := range order {
		k := 0
		for j := 1; j < n; j++ {
			if load[j] < load[k] {
				k = j
			}
		}
		assign[i] = k
		load[k] += costs[i]
	}
	return assign
}

// shardRuns returns the indices in cfgs of the runs of shard s, in order.
func shardRuns(cfgs []mnistfc.Config, s shard) []int {
	costs := make([]int64, len(cfgs))
	for i, c := range cfgs {
		costs[i] = runCost(c)
	}
	var mine []int
	for i, k := range assignShards(costs, s.Count) {
		if k == s.Index-1 {
			mine = append(mine, i)
		}
	}
	return mine
}

// parseShard reads the value of -shard: "i/n" (1 <= i <= n), or "auto",
// which reads the job runner's environment (resolveAutoShard), with
// -shard-count as count (0: not given). Its errors name the flag.
func parseShard(value string, count int, getenv func(string) (string, bool)) (shard, error) {
	if value == "auto" {
		return resolveAutoShard(count, getenv)
	}
	is, ns, ok := strings.Cut(value, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return shard{}, fmt.Errorf("-shard %q: want i/n (shard i of n, from 1) or auto", value)
	case n < 1:
		return shard{}, fmt.Errorf("-shard %s: the number of shards must be at least 1", value)
	case i < 1 || i > n:
		return shard{}, fmt.Errorf("-shard %s: the shard must be from 1 to %d (shards are numbered from 1)", value, n)
	case count != 0 && count != n:
		return shard{}, fmt.Errorf("-shard-count %d: differs from the %d shards of -shard %s", count, n, value)
	}
	return shard{Index: i, Count: n, From: "-shard " + value}, nil
}

// resolveAutoShard finds the shard in the environment of a Slurm job
// array task (SLURM_ARRAY_TASK_ID, counted from SLURM_ARRAY_TASK_MIN in
// steps of SLURM_ARRAY_TASK_STEP, of SLURM_ARRAY_TASK_COUNT) or of a
// Kubernetes Indexed Job's pod (JOB_COMPLETION_INDEX, from 0, with the
// count from -shard-count, else $MNISTFC_SHARD_COUNT). count is
// -shard-count (0: not given).
func resolveAutoShard(count int, getenv func(string) (string, bool)) (shard, error) {
	var err error
	// read returns the variable's value (def if unset), and "NAME=value" if set.
	read := func(name string, def int) (int, string) {
		s, ok := getenv(name)
		if !ok || s == "" || err != nil {
			return def, ""
		}
		v, perr := strconv.Atoi(strings.TrimSpace(s))
		if perr != nil {
			err = fmt.Errorf("-shard auto: %s=%q is not a whole number", name, s)
		}
		return v, fmt.Sprintf("%s=%d", name, v)
	}
	// withCount applies -shard-count to the count n read from the environment as nVar.
	withCount := func(n int, nVar string, from []string) (int, []string, error) {
		switch {
		case count != 0 && nVar != "" && count != n:
			return 0, nil, fmt.Errorf("-shard-count %d: differs from %s", count, nVar)
		case count != 0 && nVar == "":
			return count, append(from, fmt.Sprintf("-shard-count %d", count)), nil
		case nVar != "":
			return n, append(from, nVar), nil
		}
		return n, from, nil
	}

	id, idVar := read("SLURM_ARRAY_TASK_ID", 0)
	if idVar != "" {
		lo, loVar := read("SLURM_ARRAY_TASK_MIN", 0)
		step, stepVar := read("SLURM_ARRAY_TASK_STEP", 1)
		hi, hiVar := read("SLURM_ARRAY_TASK_MAX", 0)
		n, nVar := read("SLURM_ARRAY_TASK_COUNT", 0)
		if err != nil {
			return shard{}, err
		}
		from := []string{idVar}
		if loVar != "" {
			from = append(from, loVar)
		}
		if step != 1 {
			from = append(from, stepVar)
		}
		n, from, err = withCount(n, nVar, from)
		if err != nil {
			return shard{}, err
		}
		if n < 1 {
			return shard{}, fmt.Errorf("-shard auto: %s is set but not SLURM_ARRAY_TASK_COUNT: pass -shard-count N, or -shard i/n", idVar)
		}
		if step < 1 {
			return shard{}, fmt.Errorf("-shard auto: %s: the step must be at least 1", stepVar)
		}
		k := (id - lo) / step
		if id < lo || (id-lo)%step != 0 || k >= n || (hiVar != "" && (hi-lo)/step+1 != n) {
			all := strings.Join(from, ", ")
			if hiVar != "" {
				all += ", " + hiVar
			}
			return shard{}, fmt.Errorf("-shard auto: the job array's ids are not the range MIN, MIN+STEP, ... of COUNT ids (%s): submit it with --array=0-%d, or give each task -shard i/n", all, n-1)
		}
		return shard{Index: k + 1, Count: n, From: strings.Join(from, ", ")}, nil
	}

	idx, idxVar := read("JOB_COMPLETION_INDEX", 0)
	if idxVar != "" {
		n, nVar := read(shardCountEnv, 0)
		if err != nil {
			return shard{}, err
		}
		n, from, err := withCount(n, nVar, []string{idxVar})
		if err != nil {
			return shard{}, err
		}
		if n < 1 {
			return shard{}, fmt.Errorf("-shard auto: %s is set (a Kubernetes Indexed Job) but not the number of shards: pass -shard-count N (the Job's completions) or set %s=N", idxVar, shardCountEnv)
		}
		if idx < 0 || idx >= n {
			return shard{}, fmt.Errorf("-shard auto: %s is outside 0..%d, the indices of %d shards", idxVar, n-1, n)
		}
		return shard{Index: idx + 1, Count: n, From: strings.Join(from, ", ")}, nil
	}
	if err != nil {
		return shard{}, err
	}
	return shard{}, errors.New("-shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set: give the shard as -shard i/n")
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
func newPlanShard(fset *flag.FlagSet, s shard, mine []int) *planShard {
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
func pickShard(value string, count int, cfgs []mnistfc.Config) (*shard, []int, error) {
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
	s, err := parseShard(value, count, lookupEnv)
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
