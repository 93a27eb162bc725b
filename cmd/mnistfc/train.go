package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

// trainSummary is the JSON line printed by "train -json".
type trainSummary struct {
	mnistfc.RunSummary
	TrainSeconds float64 `json:"train_seconds"`
	TotalSeconds float64 `json:"total_seconds"`
	Out          string  `json:"out"`
}

func runTrain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mnistfc train", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs, true)
	out := fs.String("out", "out", "folder for curves.png, weights.png, history.json and model.bin")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line of stdout")
	cfg, err := cf.parse(fs, args)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	start := now()
	data, err := loadData(cfg, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Training hidden %d, lr %g, %d epochs, softmax %s, init %s, optimizer %s, backend %s\n",
		cfg.HiddenDim, cfg.LearningRate, cfg.Epochs, cfg.Softmax, cfg.Init, cfg.Optimizer, mnistfc.ResolveBackendName(cfg.Backend))
	res, err := mnistfc.Train(cfg, mnistfc.WithData(data), mnistfc.WithLog(stdout), mnistfc.OnBatch(progress("")))
	if err != nil {
		return err
	}
	if err := writeRun(*out, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Best val accuracy was %v, at epoch %d\n", res.BestValAccuracy, res.BestEpoch)
	fmt.Fprintf(stdout, "%.3f s per epoch; wrote %s\n", res.SecondsPerEpoch, *out)
	if *asJSON {
		line, _ := json.Marshal(trainSummary{
			RunSummary:   res.Summary(),
			TrainSeconds: res.TrainSeconds,
			TotalSeconds: since(start),
			Out:          *out,
		})
		fmt.Fprintln(stdout, string(line))
	}
	return nil
}

// writeRun writes the files of one run into dir.
func writeRun(dir string, res *mnistfc.Result) error {
	curves, err := plotting.Curves(res.History, fmt.Sprintf("hidden %d, lr %g, softmax %s", res.Config.HiddenDim, res.Config.LearningRate, res.Config.Softmax), plotting.PNG)
	if err != nil {
		return err
	}
	best, err := res.BestParams()
	if err != nil {
		return err
	}
	weights, err := plotting.WeightsPNG(best, 0, 2)
	if err != nil {
		return err
	}
	history, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	for name, b := range map[string][]byte{"curves.png": curves, "weights.png": weights, "history.json": history} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return mnistfc.SaveModel(filepath.Join(dir, "model.bin"), res.Model(mnistfc.FullyConnected(res.Config.HiddenDim)))
}
