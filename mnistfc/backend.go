package mnistfc

import "github.com/mnistfc/mnistfc/internal/backends"

// SIMDBuild reports whether this program was built with GOEXPERIMENT=simd,
// which gives the pure-Go backend its AVX2/AVX-512 matrix products (what
// they gain: docs/performance.md, "What made the difference").
const SIMDBuild = backends.SIMDBuild

// feed is how a run's training steps get their batches (see trainSteps).
type feed struct {
	// resident: the training set is on the backend for the whole run and
	// each step gathers its batch there; otherwise each step gets a batch
	// copied on the host while the previous step runs.
	resident bool
	// loop: all the full batches of an epoch in one call, a graph.While on
	// the device (trainSteps.newLoop); resident data only.
	loop bool
}

// feedOverride, when not nil, changes the feed that feedFor chooses: tests
// set it to train one backend with each feed. It is nil in programs.
var feedOverride func(feed) feed

// feedFor returns the feed of a run of cfg: on XLA the training set stays
// on the device (on a GPU this is what keeps it busy) and, with SGD, an
// epoch is one call; the pure-Go backend and ONNX Runtime get host batches:
// on them resident data is slower (the pure-Go backend's gather runs
// between steps instead of beside them, ONNX Runtime's Gather runs on the
// whole training set; timings in docs/performance.md, "The data path").
// The pure-Go backend fails on the loop. No option changes the feed; tests
// do, through feedOverride.
func feedFor(cfg Config) feed {
	xla := backends.IsXLA(cfg.Backend)
	f := feed{resident: xla, loop: xla && (cfg.Optimizer == OptimizerSGD || cfg.Optimizer == "")}
	if feedOverride != nil {
		f = feedOverride(f)
	}
	f.loop = f.loop && f.resident
	return f
}
