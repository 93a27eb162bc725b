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
// Matrices are row-major and laid out as inputs x outputs, so the forward
// pass is x·W1 + B1: column j of W1 holds the 784 input weights of hidden
// unit j (PyTorch's fc1.weight[j]).
type Params struct {
	Hidden int
	W1     []float32 // [NumPixels, Hidden]
	B1     []float32 // [Hidden]
	W2     []float32 // [Hidden, NumClasses]
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
	w := make([]float32, NumPixels)
	for i := range w {
		w[i] = p.W1[i*p.Hidden+j]
	}
	return w
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
	hidden := Sigmoid(graph.Add(graph.Dot(x, w1).Product(), graph.ExpandAxes(b1, 0)))
	logits := graph.Add(graph.Dot(hidden, w2).Product(), graph.ExpandAxes(b2, 0))
	return Softmax(logits, mode)
}
