package mnistfc

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// trainSteps takes the optimizer steps of an epoch. Each step is one call:
// it computes the loss, its gradients by GoMLX's automatic differentiation
// and the optimizer's update (the weights' buffers donated to it), and
// writes its loss and accuracy into the epoch's statistics, which stay on
// the backend until the epoch ends.
//
// With resident set, the training set is on the backend for the whole run
// and each step picks its batch from the epoch's order inside the graph;
// otherwise each step gets a batch copied on the host while the previous
// step runs. Which is faster depends on the backend (see feedFor).
//
// This is the work of GoMLX's train.Trainer.TrainStep, whose graph it
// builds the same way (main loss, optimizer, per-step hooks), but the
// Trainer reads every step's metrics and takes only host batches.
type trainSteps struct {
	backend   compute.Backend
	store     *model.Store
	net       Network
	mode      SoftmaxMode
	opt       optimizer.Interface
	batchSize int
	host      *Dataset
	resident  *deviceSet          // Nil: batches from host.
	spare     chan *batch         // Host batches whose step is done, to fill again.
	execs     map[int]*model.Exec // By batch size: the last batch may be smaller. Each is compiled once.
	// loop, when set, takes all the full batches of an epoch in one call
	// (resident data only).
	loop *model.Exec
}

func (t *trainSteps) exec(size int) (*model.Exec, error) {
	if e, ok := t.execs[size]; ok {
		return e, nil
	}
	e, err := model.NewExec(t.backend, t.store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		step, stats := in[0], in[1]
		g := step.Graph()
		scope.SetTraining(g, true)
		x, labels := in[2], in[3]
		if t.resident != nil {
			x, labels = pick(in[2], in[3], in[4], in[5], size)
		}
		return []*graph.Node{t.step(scope, x, labels, step, stats)}
	})
	if err != nil {
		return nil, fmt.Errorf("creating the training step: %w", err)
	}
	t.execs[size] = e.WithName(fmt.Sprintf("train_step_%d", size))
	return t.execs[size], nil
}

// compile compiles the graphs that an epoch over n training examples
// calls, as their first calls would: the loop, or the step of a full
// batch, and the step of a smaller last batch. Done before the first
// epoch, it keeps compiling (docs/performance.md, "The data path") out of
// the epochs' times.
func (t *trainSteps) compile(n int) error {
	sizes := batchSizes(n, t.batchSize)
	scalar, stats := shapes.Make(dtypes.Int32), shapeF32(len(sizes), 2)
	if t.loop != nil {
		r := t.resident
		if _, err := t.loop.Compile(r.x.Shape(), r.y.Shape(), shapeI32(n), stats); err != nil {
			return fmt.Errorf("compiling the training loop: %w", err)
		}
		sizes = sizes[n/t.batchSize:] // The loop takes the full batches.
	}
	for _, size := range slices.Compact(slices.Clone(sizes)) {
		e, err := t.exec(size)
		if err != nil {
			return err
		}
		args := []shapes.Shape{scalar, stats, shapeF32(size, NumPixels), shapeI32(size)}
		if r := t.resident; r != nil {
			args = []shapes.Shape{scalar, stats, r.x.Shape(), r.y.Shape(), shapeI32(n), scalar}
		}
		if _, err := e.Compile(args...); err != nil {
			return fmt.Errorf("compiling the training step for batches of %d: %w", size, err)
		}
	}
	return nil
}

// finalize frees the compiled graphs and the spare batches.
func (t *trainSteps) finalize() {
	for t.spare != nil && len(t.spare) > 0 {
		(<-t.spare).free()
	}
	for _, e := range t.execs {
		e.Finalize()
	}
	if t.loop != nil {
		t.loop.Finalize()
	}
}

// step builds one training step on the batch x, labels: the loss, the
// optimizer's update of the variables, and the statistics with the step's
// loss and accuracy in row step.
func (t *trainSteps) step(scope *model.Scope, x, labels, step, stats *graph.Node) *graph.Node {
	g := x.Graph()
	target := oneHot(labels)
	probs := t.net.probabilities(t.net.Logits(scope, x), t.mode)
	train.AddMainLoss(t.net.scalarLoss(probs, target))
	loss := train.TotalLoss(g)
	t.opt.UpdateGraph(scope, g, loss)
	train.ExecPerStepUpdateGraphFn(g)
	return record(stats, step, loss, Accuracy(probs, target))
}

// epoch takes one step per batch of the examples in order (indices into
// the training set) and returns each step's loss and accuracy, read once
// at the end.
func (t *trainSteps) epoch(order []int, onStep func(done, total int)) (losses, accs []float64, err error) {
	groups := splitIndices(order, t.batchSize)
	var (
		perm    *tensors.Tensor // The order, sent once per epoch (resident data).
		batches *batchStream    // Host batches.
	)
	if t.resident != nil {
		flat := make([]int32, len(order))
		for i, o := range order {
			flat[i] = int32(o)
		}
		perm = tensors.FromFlatDataAndDimensions(flat, len(flat))
		defer perm.FinalizeAll()
	} else {
		if t.spare == nil {
			t.spare = make(chan *batch, 3)
		}
		batches = prefetch(t.backend, t.host, groups, t.spare)
		defer batches.stop()
	}
	stats := tensors.FromShape(shapeF32(len(groups), 2))
	first := 0
	if t.loop != nil {
		// All the full batches in one call; a smaller last one after it.
		out, err := t.loop.Call(t.resident.x, t.resident.y, perm, stats)
		stats.FinalizeAll()
		if err != nil {
			return nil, nil, fmt.Errorf("training steps 1 to %d: %w", len(order)/t.batchSize, err)
		}
		stats, first = out[0], len(order)/t.batchSize
		for i := 1; onStep != nil && i <= first; i++ {
			onStep(i, len(groups)) // After the fact: the loop ran them all in one call.
		}
	}
	for i := first; i < len(groups); i++ {
		e, err := t.exec(len(groups[i]))
		if err != nil {
			stats.FinalizeAll()
			return nil, nil, err
		}
		var b *batch
		if t.resident == nil {
			if b, err = batches.next(); err != nil {
				stats.FinalizeAll()
				return nil, nil, err
			}
		}
		step, start := scalarI32(i), scalarI32(i*t.batchSize)
		var out []*tensors.Tensor
		if b == nil {
			out, err = e.Call(step, stats, t.resident.x, t.resident.y, perm, start)
		} else {
			out, err = e.Call(step, stats, b.x, b.y)
			// The step has read it (calls return when done): fill it again.
			select {
			case t.spare <- b:
			default:
				b.free()
			}
		}
		for _, x := range []*tensors.Tensor{step, start, stats} {
			x.FinalizeAll()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("training step %d: %w", i+1, err)
		}
		stats = out[0]
		if onStep != nil {
			onStep(i+1, len(groups))
		}
	}
	return readStats(stats)
}

// newLoop builds the graph that takes steps full batches of the resident
// training set in one call: a graph.While whose state is the step number,
// the statistics and every variable of the store, and whose body is the
// step of trainSteps.step. All the variables the step uses must exist
// before (the network's are created by the first validation, SGD's are
// created here); the body creating one is an error when it is compiled.
//
// GoMLX's XLA backend runs it. Its pure-Go backend has While but fails on
// this loop ("runtime panic: send on closed channel").
func (t *trainSteps) newLoop(steps int) (*model.Exec, error) {
	size := t.batchSize
	e, err := model.NewExec(t.backend, t.store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		images, labels, order, stats := in[0], in[1], in[2], in[3]
		g := images.Graph()
		scope.SetTraining(g, true)
		var vars []*model.Variable
		state := []*graph.Node{graph.ScalarZero(g, dtypes.Int32), stats}
		for v := range t.store.IterVariables() {
			vars = append(vars, v)
			state = append(state, v.NodeValue(g))
		}
		params := func(g *graph.Graph) []*graph.Node {
			ps := make([]*graph.Node, len(state))
			for j, s := range state {
				ps[j] = graph.Parameter(g, fmt.Sprintf("state_%d", j), s.Shape())
			}
			return ps
		}
		cond := graph.NewClosure(g, func(g *graph.Graph) []*graph.Node {
			return []*graph.Node{graph.LessThan(params(g)[0], graph.Const(g, int32(steps)))}
		})
		body := graph.NewClosure(g, func(g *graph.Graph) []*graph.Node {
			ps := params(g)
			for j, v := range vars {
				v.SetNodeValue(ps[2+j])
			}
			i := ps[0]
			x, y := pick(images, labels, order, graph.MulScalar(i, size), size)
			out := []*graph.Node{graph.AddScalar(i, 1), t.step(scope, x, y, i, ps[1])}
			for _, v := range vars {
				out = append(out, v.NodeValue(g))
			}
			return out
		})
		final := graph.While(cond, body, state...)
		for j, v := range vars {
			v.SetNodeValue(final[2+j])
		}
		return []*graph.Node{final[1]}
	})
	if err != nil {
		return nil, fmt.Errorf("creating the training loop: %w", err)
	}
	return e.WithName(fmt.Sprintf("train_epoch_%dx%d", steps, size)), nil
}

// evaluator runs a network's forward pass, loss and accuracy over a
// dataset held by the backend, in batches, with the weights of a store.
type evaluator struct {
	backend compute.Backend
	store   *model.Store
	net     Network
	mode    SoftmaxMode
	live    bool
	execs   map[int]*model.Exec // By batch size: the last batch may be smaller. Each is compiled once.
}

// newEvaluator returns an evaluator of net with the variables of store;
// live says that the variables change between calls (training updates them).
func newEvaluator(backend compute.Backend, store *model.Store, net Network, mode SoftmaxMode, live bool) *evaluator {
	return &evaluator{backend: backend, store: store, net: net, mode: mode, live: live, execs: map[int]*model.Exec{}}
}

func (e *evaluator) exec(size int) (*model.Exec, error) {
	if ex, ok := e.execs[size]; ok {
		return ex, nil
	}
	ex, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		images, labels, start, step, stats, probs := in[0], in[1], in[2], in[3], in[4], in[5]
		if e.live {
			// Backends that prefer constants for variables (the pure-Go one)
			// bake a variable's current value into a graph that is not a
			// training graph. The weights change between the calls of this
			// graph, so it is marked as training: they stay parameters.
			scope.SetTraining(images.Graph(), true)
		}
		zero := graph.ScalarZero(images.Graph(), start.DType())
		x, target := normalise(rows(images, start, size)), oneHot(rows(labels, start, size))
		y := e.net.probabilities(e.net.Logits(scope, x), e.mode)
		stats = record(stats, step, e.net.scalarLoss(y, target), Accuracy(y, target))
		return []*graph.Node{stats, graph.DynamicUpdateSlice(probs, y, []*graph.Node{start, zero})}
	})
	if err != nil {
		return nil, fmt.Errorf("creating the evaluation step: %w", err)
	}
	e.execs[size] = ex.WithName(fmt.Sprintf("eval_step_%d", size))
	return e.execs[size], nil
}

// finalize frees the compiled graphs.
func (e *evaluator) finalize() {
	for _, ex := range e.execs {
		ex.Finalize()
	}
}

// newEvaluatorFor returns an evaluator of net with the given weights.
func newEvaluatorFor(backend compute.Backend, net Network, ws Weights, mode SoftmaxMode) (*evaluator, error) {
	store, err := newStore(ws)
	if err != nil {
		return nil, err
	}
	return newEvaluator(backend, store, net, mode, false), nil
}

// evaluate runs the batches of d and returns the mean of the batches'
// losses and accuracies and the class probabilities of every example. The
// statistics and probabilities are read once, at the end.
func (e *evaluator) evaluate(d *deviceSet, batchSize int, phase Phase, onBatch func(Phase, int, int)) (loss, acc float64, probs []float32, err error) {
	stats, probsT, err := e.pass(d, batchSize, -1, phase, onBatch)
	if err != nil {
		return 0, 0, nil, err
	}
	probs, err = tensors.CopyFlatData[float32](probsT)
	probsT.FinalizeAll()
	if err != nil {
		stats.FinalizeAll()
		return 0, 0, nil, fmt.Errorf("reading the %s probabilities: %w", phase, err)
	}
	losses, accs, err := readStats(stats)
	if err != nil {
		return 0, 0, nil, err
	}
	// Without the padding's rows.
	batches := len(batchSizes(d.n, batchSize))
	return mean(losses[:batches]), mean(accs[:batches]), probs[:d.n*NumClasses], nil
}

// pass runs the first count batches of d (all if count < 0) and returns
// their statistics [batches, 2] and probabilities [examples, NumClasses],
// on the backend. Both are sized for all of d's rows, padding included
// (zeros there), so that their shapes, and so the compiled graph, depend
// on d.rows only.
func (e *evaluator) pass(d *deviceSet, batchSize, count int, phase Phase, onBatch func(Phase, int, int)) (stats, probs *tensors.Tensor, err error) {
	sizes := batchSizes(d.n, batchSize)
	stats = tensors.FromShape(shapeF32(len(batchSizes(d.rows, batchSize)), 2))
	probs = tensors.FromShape(shapeF32(d.rows, NumClasses))
	if count < 0 {
		count = len(sizes)
	}
	for i, size := range sizes[:count] {
		ex, err := e.exec(size)
		if err != nil {
			stats.FinalizeAll()
			probs.FinalizeAll()
			return nil, nil, err
		}
		start, step := scalarI32(i*batchSize), scalarI32(i)
		out, err := ex.Call(d.x, d.y, start, step, stats, probs)
		start.FinalizeAll()
		step.FinalizeAll()
		stats.FinalizeAll()
		probs.FinalizeAll()
		if err != nil {
			return nil, nil, fmt.Errorf("%s batch %d: %w", phase, i+1, err)
		}
		stats, probs = out[0], out[1]
		if onBatch != nil {
			onBatch(phase, i+1, len(sizes))
		}
	}
	return stats, probs, nil
}

// rows returns the size rows of x from row start on. It is a gather: the
// pure-Go backend has no DynamicSlice.
func rows(x, start *graph.Node, size int) *graph.Node {
	idx := graph.Add(graph.Iota(x.Graph(), shapeI32(size), 0), start)
	return graph.Gather(x, graph.Reshape(idx, size, 1), true)
}

// pick gathers the size examples at order[start:start+size] of the
// resident images and labels, and normalises the images.
func pick(images, labels, order, start *graph.Node, size int) (x, y *graph.Node) {
	idx := graph.Reshape(rows(order, start, size), size, 1)
	return normalise(graph.Gather(images, idx)), graph.Gather(labels, idx)
}
