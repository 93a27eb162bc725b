package mnistfc

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
)

// Params are the weights of the two-layer network
// Linear(784, H) -> sigmoid -> Linear(H, 10) -> softmax, held on the host.
//
// Matrices are row-major and laid out as outputs x inputs, like PyTorch's
// nn.Linear weights (fc1.weight, fc2.weight): the layer computes x·W1ᵀ + B1,
// and row j of W1 holds the 784 input weights of hidden unit j.
type Params struct {
	Hidden int
	W1     []float32 // [Hidden, NumPixels]
	B1     []float32 // [Hidden]
	W2     []float32 // [NumClasses, Hidden]
	B2     []float32 // [NumClasses]
}

// InitParams returns freshly initialised weights, drawn like PyTorch's
// nn.Linear default: weights and biases uniform in ±1/sqrt(fan_in).
// The same hidden size and seed always give the same weights.
func InitParams(hidden int, seed uint64) *Params {
	rng := rand.New(rand.NewPCG(seed, 0x1417))
	uniform := func(n, fanIn int) []float32 {
		bound := 1 / math.Sqrt(float64(fanIn))
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * bound)
		}
		return v
	}
	return &Params{
		Hidden: hidden,
		W1:     uniform(NumPixels*hidden, NumPixels),
		B1:     uniform(hidden, NumPixels),
		W2:     uniform(hidden*NumClasses, hidden),
		B2:     uniform(NumClasses, hidden),
	}
}

// Clone returns a deep copy of p.
func (p *Params) Clone() *Params {
	return &Params{
		Hidden: p.Hidden,
		W1:     append([]float32(nil), p.W1...),
		B1:     append([]float32(nil), p.B1...),
		W2:     append([]float32(nil), p.W2...),
		B2:     append([]float32(nil), p.B2...),
	}
}

// HiddenUnitWeights returns the NumPixels input weights of hidden unit j,
// which can be shown as a 28x28 image.
func (p *Params) HiddenUnitWeights(j int) []float32 {
	return p.W1[j*NumPixels : (j+1)*NumPixels]
}

// check verifies that the slices have the sizes Hidden implies.
func (p *Params) check() error {
	if p.Hidden < 1 {
		return fmt.Errorf("params: hidden size %d, must be at least 1", p.Hidden)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"W1", len(p.W1), NumPixels * p.Hidden},
		{"B1", len(p.B1), p.Hidden},
		{"W2", len(p.W2), p.Hidden * NumClasses},
		{"B2", len(p.B2), NumClasses},
	} {
		if c.got != c.want {
			return fmt.Errorf("params: %s has %d values, want %d for hidden size %d", c.name, c.got, c.want, p.Hidden)
		}
	}
	return nil
}

// Forward is the network: it maps a batch of flattened images x [N, 784]
// to class probabilities [N, 10] with the given weights (shapes as in Params).
func Forward(x, w1, b1, w2, b2 *graph.Node, mode SoftmaxMode) *graph.Node {
	_, _, y := forward(x, w1, b1, w2, b2, mode)
	return y
}

// forward computes the network and returns, besides the probabilities y
// [N, 10], the hidden activations and the logits [N, 10].
//
// The hidden activations are kept transposed, hT [H, N] (one row per hidden
// unit, one column per example). This is the same mathematics as
// h = sigmoid(x·W1ᵀ + b1), arranged so that every matrix product, forward
// and backward, contracts the last axis of its left operand: the layout the
// pure-Go backend multiplies without first copying the 784-wide input into
// another order.
func forward(x, w1, b1, w2, b2 *graph.Node, mode SoftmaxMode) (hT, logits, y *graph.Node) {
	// z1ᵀ = W1·xᵀ + b1: [H, 784]·[784, N] -> [H, N].
	z1T := graph.Add(graph.DotGeneral(w1, []int{1}, nil, x, []int{1}, nil), graph.ExpandAxes(b1, 1))
	hT = Sigmoid(z1T)
	// z2ᵀ = W2·hᵀ: [10, H]·[H, N] -> [10, N]; then the small [10, N] is transposed back to [N, 10].
	z2T := graph.DotGeneral(w2, []int{1}, nil, hT, []int{0}, nil)
	logits = graph.Add(graph.Transpose(z2T, 0, 1), graph.ExpandAxes(b2, 0))
	return hT, logits, Softmax(logits, mode)
}

// LossAndGradients computes, for a batch x [N, 784] with one-hot targets
// [N, 10], the cross-entropy loss, the probabilities and the gradients of the
// loss with respect to w1, b1, w2 and b2, by backpropagation:
//
//	dz2 = ∂loss/∂logits        (automatic differentiation through Softmax and CrossEntropy, either variant)
//	dW2 = dz2ᵀ·h,  db2 = Σ_n dz2
//	dh  = dz2·W2
//	dz1 = dh ⊙ σ'(z1) = dh ⊙ h ⊙ (1-h)
//	dW1 = dz1ᵀ·x,  db1 = Σ_n dz1
//
// The hidden-layer quantities are computed transposed (see forward).
func LossAndGradients(x, targets, w1, b1, w2, b2 *graph.Node, mode SoftmaxMode) (loss, y *graph.Node, grads []*graph.Node) {
	hT, logits, y := forward(x, w1, b1, w2, b2, mode)
	loss = CrossEntropy(y, targets)
	dz2T := graph.Transpose(graph.Gradient(loss, logits)[0], 0, 1)  // [10, N]
	dW2 := graph.DotGeneral(dz2T, []int{1}, nil, hT, []int{1}, nil) // [10, N]·[N, H] -> [10, H]
	db2 := graph.ReduceSum(dz2T, 1)
	w2T := graph.Transpose(w2, 0, 1)                                 // [H, 10], tiny.
	dhT := graph.DotGeneral(w2T, []int{1}, nil, dz2T, []int{0}, nil) // [H, 10]·[10, N] -> [H, N]
	dz1T := graph.Mul(dhT, SigmoidGrad(hT))                          // [H, N]
	dW1 := graph.DotGeneral(dz1T, []int{1}, nil, x, []int{0}, nil)   // [H, N]·[N, 784] -> [H, 784]
	db1 := graph.ReduceSum(dz1T, 1)
	return loss, y, []*graph.Node{dW1, db1, dW2, db2}
}
