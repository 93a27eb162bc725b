package mnistfc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestLossGradientMatchesFiniteDifferences checks the backpropagated
// gradients against central finite differences of the loss, in float64, for
// both softmax variants.
func TestLossGradientMatchesFiniteDifferences(t *testing.T) {
	const n, in, hidden, classes = 5, 6, 4, 3
	rng := rand.New(rand.NewPCG(1, 2))
	randn := func(size int, scale float64) []float64 {
		v := make([]float64, size)
		for i := range v {
			v[i] = rng.NormFloat64() * scale
		}
		return v
	}
	x := randn(n*in, 1)
	targets := make([]float64, n*classes)
	for i := range n {
		targets[i*classes+rng.IntN(classes)] = 1
	}
	weights := [][]float64{randn(in*hidden, 0.8), randn(hidden, 0.5), randn(hidden*classes, 0.8), randn(classes, 0.5)}
	dims := [][]int{{hidden, in}, {hidden}, {classes, hidden}, {classes}}

	backend, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []SoftmaxMode{SoftmaxRow, SoftmaxBatch} {
		t.Run(mode.String(), func(t *testing.T) {
			lossAndGrads, err := graph.NewExec(backend, func(p []*graph.Node) []*graph.Node {
				loss, _, grads := LossAndGradients(p[4], p[5], p[0], p[1], p[2], p[3], mode)
				return append([]*graph.Node{loss}, grads...)
			})
			if err != nil {
				t.Fatal(err)
			}
			eval := func(ws [][]float64) []*tensors.Tensor {
				args := []any{}
				for i, w := range ws {
					args = append(args, tensors.FromFlatDataAndDimensions(w, dims[i]...))
				}
				args = append(args, tensors.FromFlatDataAndDimensions(x, n, in), tensors.FromFlatDataAndDimensions(targets, n, classes))
				out, err := lossAndGrads.Call(args...)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			out := eval(weights)
			const eps = 1e-6
			for k, w := range weights {
				analytic := tensors.MustCopyFlatData[float64](out[k+1])
				for i := range w {
					orig := w[i]
					w[i] = orig + eps
					up := tensors.ToScalar[float64](eval(weights)[0])
					w[i] = orig - eps
					down := tensors.ToScalar[float64](eval(weights)[0])
					w[i] = orig
					numeric := (up - down) / (2 * eps)
					if diff := math.Abs(numeric - analytic[i]); diff > 1e-6*math.Max(1, math.Abs(numeric)) {
						t.Errorf("weights %d[%d]: gradient %v, finite difference %v", k, i, analytic[i], numeric)
					}
				}
			}
		})
	}
}
