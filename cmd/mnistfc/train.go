package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/mnistfc/mnistfc/internal/atomicfile"
	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/plotting"
)

// trainSummary is the JSON line printed by "train -json" and written to summary.json.
type trainSummary struct {
	mnistfc.RunSummary
	TrainSeconds float64 `json:"train_seconds"`
	TotalSeconds float64 `json:"total_seconds"`
	Out          string  `json:"out"`
}

// MarshalJSON writes all the fields (the embedded RunSummary's MarshalJSON
// would write only its own), non-finite numbers as null.
func (s trainSummary) MarshalJSON() ([]byte, error) { return jsonfinite.Marshal(s) }

func runTrain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mnistfc train", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs, true)
	out := fs.String("out", "out", "folder for curves.png, weights.png, history.json, summary.json and model.bin")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line of stdout")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the training (not the data loading) to this file, for go tool pprof (make profile)")
	cfg, err := cf.parse(fs, args)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	ctx, stop := onInterrupt("finishing this epoch, then testing the best model so far and writing the results")
	defer stop()
	start := now()
	data, err := loadData(cfg, stdout)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return withStatus(exitInterrupted, errors.New("interrupted before training: nothing written"))
	}
	fmt.Fprintf(stdout, "Training hidden %d, lr %g, %d epochs, softmax %s, init %s, optimizer %s, backend %s\n",
		cfg.HiddenDim, cfg.LearningRate, cfg.Epochs, cfg.Softmax, cfg.Init, cfg.Optimizer, backends.Label(cfg.Backend))
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	res, err := mnistfc.Train(ctx, cfg, mnistfc.WithData(data), mnistfc.WithLog(stdout), mnistfc.OnBatch(progress("")))
	stopProfile()
	if err != nil {
		return err
	}
	summary := trainSummary{RunSummary: res.Summary(), TrainSeconds: res.TrainSeconds, TotalSeconds: since(start), Out: *out}
	written, werr := writeRun(*out, res, summary)
	if res.BestEpoch > 0 {
		fmt.Fprintf(stdout, "Best val accuracy was %v, at epoch %d\n", res.BestValAccuracy, res.BestEpoch)
	}
	fmt.Fprintf(stdout, "%.3f s per epoch; wrote %s: %s\n", res.SecondsPerEpoch, *out, strings.Join(written, ", "))
	if *asJSON {
		line, err := jsonfinite.Marshal(summary)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(line))
	}
	switch {
	case werr != nil:
		return werr
	case res.Diverged:
		return withStatus(exitDiverged, fmt.Errorf("%s; wrote the %d epoch(s) that ran to %s", res.Divergence(), len(res.Epochs), *out))
	case res.Interrupted:
		return withStatus(exitInterrupted, fmt.Errorf("interrupted after epoch %d of %d; wrote %s, marked interrupted", len(res.Epochs), cfg.Epochs, *out))
	}
	return nil
}

// startCPUProfile starts a CPU profile into path ("" for none) and
// returns the function that ends it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "mnistfc: -cpuprofile: %v\n", err)
		}
	}, nil
}

// writeRun writes the files of one run into dir, each atomically (a
// temporary file renamed), and returns the names of those written. A run
// with no best model (it diverged or was interrupted before one) gets no
// weights.png and no model.bin, and those of an earlier run in dir are
// removed so that they are not taken for this run's. A file that fails
// does not stop the others.
func writeRun(dir string, res *mnistfc.Result, summary trainSummary) (written []string, err error) {
	title := fmt.Sprintf("hidden %d, lr %g, softmax %s", res.Config.HiddenDim, res.Config.LearningRate, res.Config.Softmax)
	switch {
	case res.Diverged:
		title += fmt.Sprintf(" (diverged at epoch %d)", res.DivergedEpoch)
	case res.Interrupted:
		title += fmt.Sprintf(" (interrupted after epoch %d)", len(res.Epochs))
	}
	type file struct {
		name string
		data func() ([]byte, error)
	}
	files := []file{
		{"history.json", func() ([]byte, error) { return jsonfinite.MarshalIndent(res, "", "  ") }},
		{"summary.json", func() ([]byte, error) { return jsonfinite.MarshalIndent(summary, "", "  ") }},
		{"curves.png", func() ([]byte, error) { return plotting.Curves(res.History, title, plotting.PNG) }},
	}
	if res.Best != nil {
		files = append(files, file{"weights.png", func() ([]byte, error) {
			best, err := res.BestParams()
			if err != nil {
				return nil, err
			}
			return plotting.WeightsPNG(best, 0, 2)
		}})
	}
	var errs []error
	for _, f := range files {
		b, err := f.data()
		if err == nil {
			err = atomicfile.WriteFile(filepath.Join(dir, f.name), b)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		written = append(written, f.name)
	}
	if res.Best == nil {
		var removed []string
		for _, name := range []string{"weights.png", "model.bin"} {
			if os.Remove(filepath.Join(dir, name)) == nil {
				removed = append(removed, name)
			}
		}
		note := ""
		if len(removed) > 0 {
			note = fmt.Sprintf(" (removed the earlier run's %s)", strings.Join(removed, " and "))
		}
		fmt.Fprintf(os.Stderr, "mnistfc: no model to test or save: no epoch gave one before the run stopped; weights.png and model.bin not written%s\n", note)
		return written, errors.Join(errs...)
	}
	if err := mnistfc.SaveModel(filepath.Join(dir, "model.bin"), res.Model(mnistfc.FullyConnected(res.Config.HiddenDim))); err != nil {
		errs = append(errs, err)
	} else {
		written = append(written, "model.bin")
	}
	return written, errors.Join(errs...)
}
