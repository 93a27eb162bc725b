package main

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// bigGrid is the README's grid: 8 hidden sizes × 8 learning rates × 3 seeds, 35 epochs.
func bigGrid() []mnistfc.Config {
	return mnistfc.Configs(mnistfc.DefaultConfig(), mnistfc.Grid([]int{1, 5, 10, 20, 50, 100, 200, 500},
		[]float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1}), 3)
}

func costsOf(cfgs []mnistfc.Config) []int64 {
	costs := make([]int64, len(cfgs))
	for i, c := range cfgs {
		costs[i] = runCost(c)
	}
	return costs
}

// TestAssignShards: every run in exactly one shard, the same shards every
// time, and the shards' costs balanced: the costliest exceeds the cheapest
// by at most one run's cost, and is within 4/3 of the best split's lower
// bound (longest processing time's guarantee).
func TestAssignShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]int64, 37)
	for i := range random {
		random[i] = 1 + rng.Int64N(1000)
	}
	mixed := mnistfc.Configs(mnistfc.DefaultConfig(), mnistfc.Grid([]int{1, 500}, []float64{0.1, 0.01}), 2)
	for i := range mixed {
		mixed[i].Epochs = 1 + i%3 // Epochs differ too.
	}
	tests := []struct {
		name  string
		costs []int64
		ns    []int
	}{
		{"README grid", costsOf(bigGrid()), []int{1, 2, 3, 4, 7, 16, 64, 200}},
		{"hidden and epochs differ", costsOf(mixed), []int{1, 2, 3, 8}},
		{"random", random, []int{1, 2, 5, 36, 37, 40}},
		{"equal", []int64{5, 5, 5, 5, 5}, []int{2, 3}},
		{"none", nil, []int{3}},
	}
	for _, tc := range tests {
		for _, n := range tc.ns {
			a := assignShards(tc.costs, n)
			if b := assignShards(slices.Clone(tc.costs), n); !slices.Equal(a, b) {
				t.Errorf("%s, %d shards: not deterministic: %v then %v", tc.name, n, a, b)
			}
			if len(a) != len(tc.costs) {
				t.Fatalf("%s, %d shards: %d assignments for %d runs", tc.name, n, len(a), len(tc.costs))
			}
			load := make([]int64, n)
			var total, biggest int64
			for i, k := range a {
				if k < 0 || k >= n {
					t.Fatalf("%s: run %d in shard %d of %d", tc.name, i, k, n)
				}
				load[k] += tc.costs[i]
				total += tc.costs[i]
				biggest = max(biggest, tc.costs[i])
			}
			hi, lo := slices.Max(load), slices.Min(load)
			if hi-lo > biggest {
				t.Errorf("%s, %d shards: costs %d to %d differ by more than the costliest run (%d)", tc.name, n, lo, hi, biggest)
			}
			if bound := max(float64(total)/float64(n), float64(biggest)); float64(hi) > bound*4/3 {
				t.Errorf("%s, %d shards: costliest shard %d is over 4/3 of the lower bound %.0f", tc.name, n, hi, bound)
			}
		}
	}
}

// TestShardRunsBalanced: the README grid's shards partition its runs, and
// up to 32 shards each costs within 1% of the mean, where shards of equal
// run counts (round robin) are up to 25% over it; past that, one run of
// hidden 500 is the floor.
func TestShardRunsBalanced(t *testing.T) {
	cfgs := bigGrid()
	costs := costsOf(cfgs)
	var total int64
	for _, c := range costs {
		total += c
	}
	for _, n := range []int{4, 16, 32} {
		seen := make([]int, len(cfgs))
		for k := 1; k <= n; k++ {
			var cost int64
			for _, i := range shardRuns(cfgs, shard{Index: k, Count: n}) {
				seen[i]++
				cost += costs[i]
			}
			if r := float64(cost) * float64(n) / float64(total); r < 0.99 || r > 1.01 {
				t.Errorf("%d shards: shard %d costs %.3f of the mean", n, k, r)
			}
		}
		for i, s := range seen {
			if s != 1 {
				t.Errorf("%d shards: run %d is in %d shards", n, i+1, s)
			}
		}
	}
	// The cost model is part of the shards' contract: shards computed by
	// two builds must agree. 3 hidden sizes × 2 learning rates × 2 seeds in
	// 4 shards: each gets one run of each hidden size.
	small := mnistfc.Configs(mnistfc.DefaultConfig(), mnistfc.Grid([]int{1, 2, 3}, []float64{0.1, 0.01}), 2)
	want := [][]int{{0, 4, 8}, {1, 5, 9}, {2, 6, 10}, {3, 7, 11}}
	for k := range want {
		if got := shardRuns(small, shard{Index: k + 1, Count: 4}); !slices.Equal(got, want[k]) {
			t.Errorf("shard %d/4 of the small grid: runs %v, want %v", k+1, got, want[k])
		}
	}
}

// TestParseShard: -shard i/n and -shard auto from the job runners'
// environments, and the errors, which name what is wrong.
func TestParseShard(t *testing.T) {
	tests := []struct {
		value string
		count int
		env   map[string]string
		want  string   // "i/n", or "" for an error
		says  []string // Substrings of From, or of the error.
	}{
		{"2/4", 0, nil, "2/4", []string{"-shard 2/4"}},
		{"1/1", 0, nil, "1/1", nil},
		{"2/4", 4, nil, "2/4", nil},
		{"0/4", 0, nil, "", []string{"-shard 0/4", "from 1"}},
		{"5/4", 0, nil, "", []string{"-shard 5/4", "1 to 4"}},
		{"1/0", 0, nil, "", []string{"-shard 1/0"}},
		{"two", 0, nil, "", []string{`-shard "two"`, "i/n"}},
		{"2/4", 3, nil, "", []string{"-shard-count 3"}},
		// Slurm: ids counted from SLURM_ARRAY_TASK_MIN.
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_STEP": "1"},
			"2/4", []string{"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_COUNT=4"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_MAX": "8", "SLURM_ARRAY_TASK_COUNT": "4"},
			"3/4", []string{"SLURM_ARRAY_TASK_ID=7", "SLURM_ARRAY_TASK_MIN=5"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "10", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "15", "SLURM_ARRAY_TASK_STEP": "5", "SLURM_ARRAY_TASK_COUNT": "4"},
			"3/4", []string{"SLURM_ARRAY_TASK_STEP=5"}},
		{"auto", 4, map[string]string{"SLURM_ARRAY_TASK_ID": "0"}, "1/4", []string{"SLURM_ARRAY_TASK_ID=0", "-shard-count 4"}},
		{"auto", 3, map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, "", []string{"-shard-count 3", "SLURM_ARRAY_TASK_COUNT=4"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "5", "SLURM_ARRAY_TASK_COUNT": "3"}, // --array=1,3,5
			"", []string{"--array=0-2", "SLURM_ARRAY_TASK_ID=5"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "2"}, "", []string{"SLURM_ARRAY_TASK_COUNT", "-shard-count"}},
		{"auto", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "x1", "SLURM_ARRAY_TASK_COUNT": "4"}, "", []string{`SLURM_ARRAY_TASK_ID="x1"`}},
		// Kubernetes: JOB_COMPLETION_INDEX from 0; the count from -shard-count or MNISTFC_SHARD_COUNT.
		{"auto", 3, map[string]string{"JOB_COMPLETION_INDEX": "0"}, "1/3", []string{"JOB_COMPLETION_INDEX=0", "-shard-count 3"}},
		{"auto", 0, map[string]string{"JOB_COMPLETION_INDEX": "2", "MNISTFC_SHARD_COUNT": "3"}, "3/3", []string{"JOB_COMPLETION_INDEX=2", "MNISTFC_SHARD_COUNT=3"}},
		{"auto", 3, map[string]string{"JOB_COMPLETION_INDEX": "2", "MNISTFC_SHARD_COUNT": "3"}, "3/3", nil},
		{"auto", 4, map[string]string{"JOB_COMPLETION_INDEX": "2", "MNISTFC_SHARD_COUNT": "3"}, "", []string{"-shard-count 4", "MNISTFC_SHARD_COUNT=3"}},
		{"auto", 0, map[string]string{"JOB_COMPLETION_INDEX": "1"}, "", []string{"JOB_COMPLETION_INDEX=1", "-shard-count N", "MNISTFC_SHARD_COUNT"}},
		{"auto", 3, map[string]string{"JOB_COMPLETION_INDEX": "3"}, "", []string{"JOB_COMPLETION_INDEX=3", "0..2"}},
		{"auto", 0, nil, "", []string{"-shard auto", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "-shard i/n"}},
	}
	for _, tc := range tests {
		name := tc.value
		for k, v := range tc.env {
			name += " " + k + "=" + v
		}
		t.Run(name, func(t *testing.T) {
			s, err := parseShard(tc.value, tc.count, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			text := s.From
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("shard %s from %q, want an error", s, s.From)
			case tc.want != "" && err != nil:
				t.Fatalf("error %v, want shard %s", err, tc.want)
			case err != nil:
				text = err.Error()
			case s.String() != tc.want:
				t.Errorf("shard %s, want %s", s, tc.want)
			}
			for _, w := range tc.says {
				if !strings.Contains(text, w) {
					t.Errorf("%q does not say %q", text, w)
				}
			}
		})
	}
}
