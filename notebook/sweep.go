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
// line's default, faster than one at a time on 2 cores
// (docs/performance.md).
const sweepParallel = 2

// Sweep trains the library's network (mnistfc.FullyConnected) with every
// configuration of cfgs, sweepParallel runs at a time, under one progress
// line, and keeps each finished run in RunsDir: runs kept earlier (by this
// notebook, another one, a kernel before a restart, or "mnistfc sweep
// -out" with RunsDir as its -out) are not trained again. It prints how many
// runs it trained and how long that took, and returns the results in the
// order of cfgs.
//
// As the command line's sweep (mnistfc.Sweep does the work for both), it
// splits the data once, with the first configuration's seed; the other
// seeds change the initial weights and the order of the batches.
func Sweep(name string, cfgs []mnistfc.Config) []*mnistfc.Result {
	if len(cfgs) == 0 {
		return nil
	}
	cfgs = slices.Clone(cfgs) // The caller's configurations stay as they are.
	for i := range cfgs {
		cfgs[i] = withBackend(cfgs[i])
	}
	var todo int
	id := "mnistfc-sweep-" + gonbui.UniqueId()
	start, finished := time.Now(), 0
	show := func(last string) {
		gonbui.UpdateHTML(id, progressHTML(name, "", finished, todo, "run", time.Since(start))+last)
	}
	results, err := mnistfc.Sweep(context.Background(), Data(cfgs[0]), cfgs,
		mnistfc.Parallel(sweepParallel), mnistfc.Resume(runStore()),
		mnistfc.OnPlan(func(p mnistfc.SweepPlan) {
			for _, err := range p.Damaged {
				fmt.Printf("note: %v: training this run again\n", err)
			}
			todo = len(p.Train)
			fmt.Printf("%s: %d runs, %d kept from earlier, %d to train\n", name, len(cfgs), len(p.Kept), todo)
			if todo > 0 {
				show("")
			}
		}),
		mnistfc.OnRun(func(_ int, r *mnistfc.Result) {
			finished++
			show(fmt.Sprintf(`<div style="font-family:monospace">last: hidden %d, lr %g, seed %d: test accuracy %.4f</div>`,
				r.Config.HiddenDim, r.Config.LearningRate, r.Config.Seed, r.TestAccuracy))
		}))
	Must(0, err)
	if todo == 0 {
		return results
	}
	wall := time.Since(start)
	show("")
	gonbui.Sync()
	fmt.Printf("%s: trained %d runs in %.0f s (%.1f min), %d at a time\n", name, todo, wall.Seconds(), wall.Minutes(), sweepParallel)
	return results
}
