package mnistfc

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mnistfc/mnistfc/internal/shard"
)

// bigGrid is the README's grid: 8 hidden sizes × 8 learning rates × 3 seeds, 35 epochs.
func bigGrid() []Config {
	return Configs(DefaultConfig(), Grid([]int{1, 5, 10, 20, 50, 100, 200, 500},
		[]float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1}), 3)
}

func costsOf(cfgs []Config) []int64 {
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
	mixed := Configs(DefaultConfig(), Grid([]int{1, 500}, []float64{0.1, 0.01}), 2)
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
			a := shard.Assign(tc.costs, n)
			if b := shard.Assign(slices.Clone(tc.costs), n); !slices.Equal(a, b) {
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

// TestShardBalanced: the README grid's shards partition its runs, and
// up to 32 shards each costs within 1% of the mean, where shards of equal
// run counts (round robin) are up to 25% over it; past that, one run of
// hidden 500 is the floor.
func TestShardBalanced(t *testing.T) {
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
			for _, i := range Shard(cfgs, k, n) {
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
	small := Configs(DefaultConfig(), Grid([]int{1, 2, 3}, []float64{0.1, 0.01}), 2)
	want := [][]int{{0, 4, 8}, {1, 5, 9}, {2, 6, 10}, {3, 7, 11}}
	for k := range want {
		if got := Shard(small, k+1, 4); !slices.Equal(got, want[k]) {
			t.Errorf("shard %d/4 of the small grid: runs %v, want %v", k+1, got, want[k])
		}
	}
}
