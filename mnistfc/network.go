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

// makeBatch copies the examples at idx of d into new tensors.
func makeBatch(d *Dataset, idx []int) *batch {
	x := tensors.FromShape(shapeF32(len(idx), NumPixels))
	y := tensors.FromShape(shapeI32(len(idx)))
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
	return &batch{x: x, y: y}
}

func (b *batch) free() {
	b.x.FinalizeAll()
	b.y.FinalizeAll()
}

func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
func shapeI32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }
