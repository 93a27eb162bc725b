package mnistfc

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// network runs the model on a backend: it keeps the current weights there and
// holds the compiled training and evaluation steps.
type network struct {
	backend compute.Backend
	hidden  int
	train   *graph.Exec // (w1, b1, w2, b2, x, labels, lr) -> (w1, b1, w2, b2, loss, accuracy)
	eval    *graph.Exec // (w1, b1, w2, b2, x, labels) -> (loss, accuracy, probabilities)
	weights [4]*tensors.Tensor
}

// trainStep is one step of plain SGD on a batch: w ← w - lr·∂loss/∂w.
// Its inputs are (w1, b1, w2, b2, x, labels, lr).
func trainStep(mode SoftmaxMode) func(in []*graph.Node) []*graph.Node {
	return func(in []*graph.Node) []*graph.Node {
		w1, b1, w2, b2, x, labels, lr := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
		targets := graph.OneHot(labels, NumClasses, dtypes.Float32)
		loss, y, grads := LossAndGradients(x, targets, w1, b1, w2, b2, mode)
		weights := []*graph.Node{w1, b1, w2, b2}
		out := make([]*graph.Node, 0, 6)
		for i, w := range weights {
			out = append(out, graph.Sub(w, graph.Mul(lr, grads[i])))
		}
		return append(out, loss, Accuracy(y, targets))
	}
}

// evalStep computes loss, accuracy and class probabilities on a batch.
// Its inputs are (w1, b1, w2, b2, x, labels).
func evalStep(mode SoftmaxMode) func(in []*graph.Node) []*graph.Node {
	return func(in []*graph.Node) []*graph.Node {
		w1, b1, w2, b2, x, labels := in[0], in[1], in[2], in[3], in[4], in[5]
		targets := graph.OneHot(labels, NumClasses, dtypes.Float32)
		y := Forward(x, w1, b1, w2, b2, mode)
		return []*graph.Node{CrossEntropy(y, targets), Accuracy(y, targets), y}
	}
}

func newNetwork(backend compute.Backend, p *Params, mode SoftmaxMode) (*network, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	train, err := graph.NewExec(backend, trainStep(mode))
	if err != nil {
		return nil, fmt.Errorf("creating training step: %w", err)
	}
	eval, err := graph.NewExec(backend, evalStep(mode))
	if err != nil {
		return nil, fmt.Errorf("creating evaluation step: %w", err)
	}
	n := &network{backend: backend, hidden: p.Hidden, train: train.WithName("train_step"), eval: eval.WithName("eval_step")}
	n.setParams(p)
	return n, nil
}

// setParams uploads p as the current weights.
func (n *network) setParams(p *Params) {
	n.weights = [4]*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(p.W1, p.Hidden, NumPixels),
		tensors.FromFlatDataAndDimensions(p.B1, p.Hidden),
		tensors.FromFlatDataAndDimensions(p.W2, NumClasses, p.Hidden),
		tensors.FromFlatDataAndDimensions(p.B2, NumClasses),
	}
}

// params downloads the current weights.
func (n *network) params() (*Params, error) {
	p := &Params{Hidden: n.hidden}
	for i, dst := range []*[]float32{&p.W1, &p.B1, &p.W2, &p.B2} {
		v, err := tensors.CopyFlatData[float32](n.weights[i])
		if err != nil {
			return nil, fmt.Errorf("reading weights: %w", err)
		}
		*dst = v
	}
	return p, nil
}

// trainBatch runs one SGD step and returns the batch's loss and accuracy.
func (n *network) trainBatch(b *batch, lr float32) (loss, acc float64, err error) {
	args := make([]any, 0, 7)
	for _, w := range n.weights {
		donated, err := graph.DonateTensorBuffer(w, n.backend, 0)
		if err != nil {
			return 0, 0, err
		}
		args = append(args, donated)
	}
	args = append(args, b.x, b.y, lr)
	out, err := n.train.Call(args...)
	if err != nil {
		return 0, 0, fmt.Errorf("training step: %w", err)
	}
	copy(n.weights[:], out[:4])
	return scalar(out[4]), scalar(out[5]), nil
}

// evalBatch returns loss, accuracy and class probabilities [N·NumClasses] on a batch with the current weights.
func (n *network) evalBatch(b *batch) (loss, acc float64, probs []float32, err error) {
	out, err := n.eval.Call(n.weights[0], n.weights[1], n.weights[2], n.weights[3], b.x, b.y)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("evaluation step: %w", err)
	}
	probs, err = tensors.CopyFlatData[float32](out[2])
	out[2].FinalizeAll()
	if err != nil {
		return 0, 0, nil, err
	}
	return scalar(out[0]), scalar(out[1]), probs, nil
}

func scalar(t *tensors.Tensor) float64 {
	v := tensors.ToScalar[float32](t)
	t.FinalizeAll()
	return float64(v)
}

// batch is a batch of examples as tensors: images x [N, 784] and labels y [N].
type batch struct {
	x, y *tensors.Tensor
}

// makeBatch copies the examples at idx of d into new tensors. On backends
// with buffers shared with Go (the pure-Go backend, XLA on CPU) the tensors
// are created there, so the step reads them with no further copy.
func makeBatch(backend compute.Backend, d *Dataset, idx []int) (*batch, error) {
	x, err := tensors.FromShapeForBackend(backend, 0, shapeF32(len(idx), NumPixels))
	if err != nil {
		return nil, fmt.Errorf("allocating a batch: %w", err)
	}
	y, err := tensors.FromShapeForBackend(backend, 0, shapeI32(len(idx)))
	if err != nil {
		x.FinalizeAll()
		return nil, fmt.Errorf("allocating a batch: %w", err)
	}
	tensors.MustMutableFlatData(x, func(flat []float32) {
		for j, i := range idx {
			copy(flat[j*NumPixels:(j+1)*NumPixels], d.Image(i))
		}
	})
	tensors.MustMutableFlatData(y, func(flat []int32) {
		for j, i := range idx {
			flat[j] = int32(d.Labels[i])
		}
	})
	return &batch{x: x, y: y}, nil
}

func (b *batch) free() {
	b.x.FinalizeAll()
	b.y.FinalizeAll()
}

func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
func shapeI32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }

// splitIndices cuts order into groups of size indices (the last may be smaller).
func splitIndices(order []int, size int) [][]int {
	groups := make([][]int, 0, (len(order)+size-1)/size)
	for start := 0; start < len(order); start += size {
		groups = append(groups, order[start:min(start+size, len(order))])
	}
	return groups
}

// batchSet is a dataset cut into batches once, for evaluations that go over
// the same examples in the same order every epoch.
type batchSet struct {
	batches  []*batch
	examples int
}

func newBatchSet(backend compute.Backend, d *Dataset, batchSize int) (*batchSet, error) {
	s := &batchSet{examples: d.Len()}
	for _, idx := range splitIndices(identity(d.Len()), batchSize) {
		b, err := makeBatch(backend, d, idx)
		if err != nil {
			s.free()
			return nil, err
		}
		s.batches = append(s.batches, b)
	}
	return s, nil
}

func (s *batchSet) free() {
	for _, b := range s.batches {
		b.free()
	}
	s.batches = nil
}

// batchStream hands out the training batches of one epoch, each built by a
// goroutine while the previous one trains, so that copying examples
// overlaps computing.
type batchStream struct {
	total int
	ch    chan batchOrError
	quit  chan struct{}
}

type batchOrError struct {
	b   *batch
	err error
}

// prefetch starts building the batches of d for groups of indices, one ahead of the consumer.
func prefetch(backend compute.Backend, d *Dataset, groups [][]int) *batchStream {
	s := &batchStream{total: len(groups), ch: make(chan batchOrError, 1), quit: make(chan struct{})}
	go func() {
		defer close(s.ch)
		for _, idx := range groups {
			b, err := makeBatch(backend, d, idx)
			select {
			case s.ch <- batchOrError{b, err}:
			case <-s.quit:
				if b != nil {
					b.free()
				}
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// next returns the next batch; the caller frees it.
func (s *batchStream) next() (*batch, error) {
	r, ok := <-s.ch
	if !ok {
		return nil, fmt.Errorf("internal error: batch stream ended early")
	}
	return r.b, r.err
}

// stop ends the stream and frees the batches not taken.
func (s *batchStream) stop() {
	close(s.quit)
	for r := range s.ch {
		if r.b != nil {
			r.b.free()
		}
	}
}
