package notebook

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// sweepParallel is how many runs Sweep trains at a time: two, the command
// line's default, 1.4-1.5x faster than one at a time on 2 cores
// (docs/performance.md).
const sweepParallel = 2

// Sweep trains the library's network (mnistfc.FullyConnected) with every
// configuration of cfgs, sweepParallel runs at a time, under one progress
// line, and keeps each finished run as Run does: runs kept earlier (by
// this notebook, another one, or before a kernel restart) are not trained
// again. It prints how many runs it trained and how long that took, and
// returns the results in the order of cfgs.
//
// Each run splits the data with its own seed, as a lone Run of the same
// configuration does, so that the two give the same numbers.
func Sweep(name string, cfgs []mnistfc.Config) []*mnistfc.Result {
	results := make([]*mnistfc.Result, len(cfgs))
	keys := make([]string, len(cfgs))
	var todo []int
	for i, cfg := range cfgs {
		if cfg.Backend == "" {
			cfgs[i].Backend = BackendName()
		}
		keys[i], _ = key(cfgs[i], mnistfc.FullyConnected(cfg.HiddenDim), nil)
		if k, ok := loadRun(keys[i]); ok {
			results[i] = k.Result
		} else {
			todo = append(todo, i)
		}
	}
	fmt.Printf("%s: %d runs, %d kept from earlier, %d to train\n", name, len(cfgs), len(cfgs)-len(todo), len(todo))
	if len(todo) == 0 {
		return results
	}
	// One mnistfc.Sweep per split of the data.
	groups := map[dataKey][]int{}
	for _, i := range todo {
		c := cfgs[i]
		k := dataKey{c.DataDir, c.ValidationRatio, c.Seed}
		groups[k] = append(groups[k], i)
	}
	splits := slices.SortedFunc(func(yield func(dataKey) bool) {
		for k := range groups {
			if !yield(k) {
				return
			}
		}
	}, func(a, b dataKey) int { return cmp.Compare(a.seed, b.seed) })
	id := "mnistfc-sweep-" + gonbui.UniqueId()
	start, finished := time.Now(), 0
	show := func(last string) {
		gonbui.UpdateHTML(id, progressHTML(name, "", finished, len(todo), "run", time.Since(start))+last)
	}
	show("")
	for _, split := range splits {
		idx := groups[split]
		batch := make([]mnistfc.Config, len(idx))
		for j, i := range idx {
			batch[j] = cfgs[i]
		}
		_, err := mnistfc.Sweep(Data(batch[0]), batch, sweepParallel, func(j int, r *mnistfc.Result) {
			i := idx[j]
			results[i] = r
			Must(0, saveRun(keys[i], fmt.Sprintf("%s: run %d", name, i+1), r))
			finished++
			show(fmt.Sprintf(`<div style="font-family:monospace">last: hidden %d, lr %g, seed %d: test accuracy %.4f</div>`,
				r.Config.HiddenDim, r.Config.LearningRate, r.Config.Seed, r.TestAccuracy))
		})
		Must(0, err)
	}
	wall := time.Since(start)
	show("")
	gonbui.Sync()
	fmt.Printf("%s: trained %d runs in %.0f s (%.1f min), %d at a time\n", name, len(todo), wall.Seconds(), wall.Minutes(), sweepParallel)
	return results
}
