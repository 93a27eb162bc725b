package notebook

import (
	"context"
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
// As the command line's sweep, it splits the data once, with the first
// configuration's seed; the other seeds change the initial weights and the
// order of the batches. A run of the grid with another seed than that is
// kept apart from a Run of the same configuration, which splits with its
// own seed.
func Sweep(name string, cfgs []mnistfc.Config) []*mnistfc.Result {
	if len(cfgs) == 0 {
		return nil
	}
	cfgs = slices.Clone(cfgs) // The caller's configurations stay as they are.
	results := make([]*mnistfc.Result, len(cfgs))
	keys := make([]string, len(cfgs))
	split := cfgs[0]
	var todo []int
	for i := range cfgs {
		c := &cfgs[i]
		*c = withBackend(*c)
		if c.DataDir != split.DataDir || c.ValidationRatio != split.ValidationRatio {
			Must(0, fmt.Errorf("%s: run %d reads data %q with validation ratio %g, the first one %q with %g: a sweep uses one data set",
				name, i+1, c.DataDir, c.ValidationRatio, split.DataDir, split.ValidationRatio))
		}
		keys[i], _ = key(*c, mnistfc.FullyConnected(c.HiddenDim), nil)
		if c.Seed != split.Seed {
			keys[i] += fmt.Sprintf("-split%d", split.Seed)
		}
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
	batch := make([]mnistfc.Config, len(todo))
	for j, i := range todo {
		batch[j] = cfgs[i]
	}
	id := "mnistfc-sweep-" + gonbui.UniqueId()
	start, finished := time.Now(), 0
	show := func(last string) {
		gonbui.UpdateHTML(id, progressHTML(name, "", finished, len(todo), "run", time.Since(start))+last)
	}
	show("")
	_, err := mnistfc.Sweep(context.Background(), Data(split), batch, mnistfc.Parallel(sweepParallel), mnistfc.OnRun(func(j int, r *mnistfc.Result) {
		i := todo[j]
		results[i] = r
		Must(saveRun(keys[i], fmt.Sprintf("%s: run %d", name, i+1), r))
		finished++
		show(fmt.Sprintf(`<div style="font-family:monospace">last: hidden %d, lr %g, seed %d: test accuracy %.4f</div>`,
			r.Config.HiddenDim, r.Config.LearningRate, r.Config.Seed, r.TestAccuracy))
	}))
	Must(0, err)
	wall := time.Since(start)
	show("")
	gonbui.Sync()
	fmt.Printf("%s: trained %d runs in %.0f s (%.1f min), %d at a time\n", name, len(todo), wall.Seconds(), wall.Minutes(), sweepParallel)
	return results
}
