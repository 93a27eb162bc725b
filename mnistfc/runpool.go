package mnistfc

import "sync"

// runPool keeps the finished runs of a sweep for the next runs with the
// same graphs, so that these are compiled, and the data sent to the
// backend, once per kind of run rather than once per run (the compile time
// it saves on XLA is in docs/performance.md, "Reused graphs").
//
// It keeps at most max idle runs (each holds its data on the backend) and
// frees the oldest beyond that: a sweep starts its runs in order of cost,
// so runs with the same graphs mostly follow each other.
type runPool struct {
	mu   sync.Mutex
	max  int
	idle []pooledRun // Oldest first.
}

// poolReused, when not nil, is called each time a run takes an idle run:
// tests count the reuses with it. It is nil in programs.
var poolReused func()

type pooledRun struct {
	key runKey
	run *run
}

// runKey says which runs share their graphs and data.
type runKey struct {
	backend                  string
	data                     *Data
	hidden, batch, testBatch int
	softmax                  SoftmaxMode
	feed                     feed
}

func newRunPool(max int) *runPool { return &runPool{max: max} }

// key returns the key of a run of cfg, and whether its run can be pooled:
// with a pool, the library's network trained with SGD (whose variables
// run.reset knows).
func (p *runPool) key(cfg Config, backendName string, data *Data, o *options) (runKey, bool) {
	if p == nil || o.network != nil || !(cfg.Optimizer == OptimizerSGD || cfg.Optimizer == "") {
		return runKey{}, false
	}
	return runKey{backend: backendName, data: data, hidden: cfg.HiddenDim, batch: cfg.BatchSize, testBatch: cfg.TestBatchSize,
		softmax: cfg.Softmax, feed: feedFor(cfg)}, true
}

// take returns an idle run for k, or nil after freeing the oldest idle
// run, to make room for the new one.
func (p *runPool) take(k runKey) *run {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.idle) - 1; i >= 0; i-- {
		if p.idle[i].key == k {
			r := p.idle[i].run
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			if poolReused != nil {
				poolReused()
			}
			return r
		}
	}
	if len(p.idle) > 0 {
		p.idle[0].run.free()
		p.idle = p.idle[1:]
	}
	return nil
}

// put keeps a finished run for the next one with the same key, freeing
// the oldest idle run beyond max.
func (p *runPool) put(k runKey, r *run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, pooledRun{k, r})
	for len(p.idle) > max(p.max, 1) {
		p.idle[0].run.free()
		p.idle = p.idle[1:]
	}
}

// free frees the idle runs.
func (p *runPool) free() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.idle {
		pr.run.free()
	}
	p.idle = nil
}
