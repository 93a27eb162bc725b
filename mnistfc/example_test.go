package mnistfc_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// Train the original's best experiment on MNIST, print the original's
// lines while it trains, and keep its best model.
func Example() {
	cfg := mnistfc.DefaultConfig() // Hidden size 100, learning rate 0.1, 35 epochs, batches of 1000.
	res, err := mnistfc.Train(context.Background(), cfg, mnistfc.WithLog(os.Stdout))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("best epoch %d, validation accuracy %.3f, test accuracy %.4f\n",
		res.BestEpoch, res.BestValAccuracy, res.TestAccuracy)
	if err := mnistfc.SaveModel("model.bin", res.Model(mnistfc.FullyConnected(cfg.HiddenDim))); err != nil {
		log.Fatal(err)
	}
}

// Train on a part of MNIST, loaded once, on the pure-Go backend.
func ExampleTrain() {
	data, err := mnistfc.LoadData("", 0.15, 0)
	if err != nil {
		log.Fatal(err)
	}
	first := func(n int) []int {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	part := &mnistfc.Data{
		Train:      data.Train.Subset(first(5000)),
		Validation: data.Validation.Subset(first(1000)),
		Test:       data.Test.Subset(first(1000)),
	}
	cfg := mnistfc.DefaultConfig()
	cfg.HiddenDim, cfg.Epochs, cfg.BatchSize, cfg.Backend = 32, 3, 100, "go"
	res, err := mnistfc.Train(context.Background(), cfg, mnistfc.WithData(part))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d epochs, %d validated, test accuracy above 0.8: %v\n",
		len(res.Epochs), len(res.History.ValEpochs), res.TestAccuracy > 0.8)
	// Output: 3 epochs, 3 validated, test accuracy above 0.8: true
}

// Train every hidden size with every learning rate, two seeds each, two
// runs at a time, and print each run as it finishes and the mean over
// seeds.
func ExampleSweep() {
	data, err := mnistfc.LoadData("", 0.15, 0)
	if err != nil {
		log.Fatal(err)
	}
	base := mnistfc.DefaultConfig()
	base.Epochs = 5
	cfgs := mnistfc.Configs(base, mnistfc.Grid([]int{50, 100}, []float64{0.1, 0.5}), 2)
	results, err := mnistfc.Sweep(context.Background(), data, cfgs, mnistfc.Parallel(2),
		mnistfc.OnRun(func(i int, r *mnistfc.Result) {
			fmt.Printf("run %d of %d: test accuracy %.4f\n", i+1, len(cfgs), r.TestAccuracy)
		}))
	if err != nil {
		log.Fatal(err)
	}
	runs := make([]mnistfc.RunSummary, len(results))
	for i, r := range results {
		runs[i] = r.Summary()
	}
	for _, c := range mnistfc.Aggregate(runs) {
		fmt.Printf("hidden %d, lr %g: %.4f ± %.4f\n", c.Hidden, c.LR, c.TestAccMean, c.TestAccStd)
	}
}
