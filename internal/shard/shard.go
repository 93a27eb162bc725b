// Package shard cuts a list of jobs (a sweep's runs, a class's
// submissions) into n disjoint shards, one process each, typically one task
// of a Slurm job array or one pod of a Kubernetes Indexed Job: which shard a
// process is (Parse, from "-shard i/n" or from the job runner's environment)
// and which jobs it runs (Assign, balanced by cost).
package shard

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CountEnv holds the number of shards where the job runner's
// environment does not say it (a Kubernetes Indexed Job sets only
// JOB_COMPLETION_INDEX); -shard-count takes precedence over it.
const CountEnv = "MNISTFC_SHARD_COUNT"

// Shard is one part of a list of jobs: Index from 1 to Count.
type Shard struct {
	Index, Count int
	From         string // Where it came from, for messages: "-shard 2/4", "SLURM_ARRAY_TASK_ID=1, ...".
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Assign puts job i (cost costs[i]) into shard assign[i], in
// 0..n-1, by greedy longest processing time: runs by decreasing cost (ties
// by index), each into the shard with the least cost so far (ties: the
// lowest shard). It is deterministic and pure. The costliest shard exceeds
// the cheapest by at most the cost of one run, and is within 4/3 of the
// best possible split.
func Assign(costs []int64, n int) []int {
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

// Parse reads the value of -shard: "i/n" (1 <= i <= n), or "auto",
// which reads the job runner's environment (auto), with
// -shard-count as count (0: not given). Its errors name the flag.
func Parse(value string, count int, getenv func(string) (string, bool)) (Shard, error) {
	if value == "auto" {
		return auto(count, getenv)
	}
	is, ns, ok := strings.Cut(value, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("-shard %q: want i/n (shard i of n, from 1) or auto", value)
	case n < 1:
		return Shard{}, fmt.Errorf("-shard %s: the number of shards must be at least 1", value)
	case i < 1 || i > n:
		return Shard{}, fmt.Errorf("-shard %s: the shard must be from 1 to %d (shards are numbered from 1)", value, n)
	case count != 0 && count != n:
		return Shard{}, fmt.Errorf("-shard-count %d: differs from the %d shards of -shard %s", count, n, value)
	}
	return Shard{Index: i, Count: n, From: "-shard " + value}, nil
}

// auto finds the shard in the environment of a Slurm job
// array task (SLURM_ARRAY_TASK_ID, counted from SLURM_ARRAY_TASK_MIN in
// steps of SLURM_ARRAY_TASK_STEP, of SLURM_ARRAY_TASK_COUNT) or of a
// Kubernetes Indexed Job's pod (JOB_COMPLETION_INDEX, from 0, with the
// count from -shard-count, else $MNISTFC_SHARD_COUNT). count is
// -shard-count (0: not given).
func auto(count int, getenv func(string) (string, bool)) (Shard, error) {
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
			return Shard{}, err
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
			return Shard{}, err
		}
		if n < 1 {
			return Shard{}, fmt.Errorf("-shard auto: %s is set but not SLURM_ARRAY_TASK_COUNT: pass -shard-count N, or -shard i/n", idVar)
		}
		if step < 1 {
			return Shard{}, fmt.Errorf("-shard auto: %s: the step must be at least 1", stepVar)
		}
		k := (id - lo) / step
		if id < lo || (id-lo)%step != 0 || k >= n || (hiVar != "" && (hi-lo)/step+1 != n) {
			all := strings.Join(from, ", ")
			if hiVar != "" {
				all += ", " + hiVar
			}
			return Shard{}, fmt.Errorf("-shard auto: the job array's ids are not the range MIN, MIN+STEP, ... of COUNT ids (%s): submit it with --array=0-%d, or give each task -shard i/n", all, n-1)
		}
		return Shard{Index: k + 1, Count: n, From: strings.Join(from, ", ")}, nil
	}

	idx, idxVar := read("JOB_COMPLETION_INDEX", 0)
	if idxVar != "" {
		n, nVar := read(CountEnv, 0)
		if err != nil {
			return Shard{}, err
		}
		n, from, err := withCount(n, nVar, []string{idxVar})
		if err != nil {
			return Shard{}, err
		}
		if n < 1 {
			return Shard{}, fmt.Errorf("-shard auto: %s is set (a Kubernetes Indexed Job) but not the number of shards: pass -shard-count N (the Job's completions) or set %s=N", idxVar, CountEnv)
		}
		if idx < 0 || idx >= n {
			return Shard{}, fmt.Errorf("-shard auto: %s is outside 0..%d, the indices of %d shards", idxVar, n-1, n)
		}
		return Shard{Index: idx + 1, Count: n, From: strings.Join(from, ", ")}, nil
	}
	if err != nil {
		return Shard{}, err
	}
	return Shard{}, errors.New("-shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set: give the shard as -shard i/n")
}
