package mnistfc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// TestLossGradientMatchesFiniteDifferences checks the gradients that
// training uses, GoMLX's automatic differentiation of the loss of
// FullyConnected (through the hand-written Sigmoid, Softmax and
// CrossEntropy), against central finite differences, in float64, for both
// softmax variants.
func TestLossGradientMatchesFiniteDifferences(t *testing.T) {
	const n, hidden = 5, 4
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, n*NumPixels)
	for i := range x {
		x[i] = rng.NormFloat64() * 0.3
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(NumClasses))
	}
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	net := FullyConnected(hidden)
	names := []string{layer1Weights, layer1Biases, layer2Weights, layer2Biases}
	for _, mode := range []SoftmaxMode{SoftmaxRow, SoftmaxBatch} {
		t.Run(mode.String(), func(t *testing.T) {
			dims := [][]int{{hidden, NumPixels}, {hidden}, {NumClasses, hidden}, {NumClasses}}
			values := make([][]float64, len(dims))
			for i := range dims {
				values[i] = make([]float64, product(dims[i]))
				for j := range values[i] {
					values[i][j] = rng.NormFloat64() * 0.5
				}
			}
			// store holds the current values as the network's variables.
			store := func() *model.Store {
				s := model.NewStore()
				for i, name := range names {
					if _, err := s.CreateVariable("/"+name, tensors.FromFlatDataAndDimensions(append([]float64(nil), values[i]...), dims[i]...)); err != nil {
						t.Fatal(err)
					}
				}
				return s
			}
			lossFn := func(scope *model.Scope, x, labels *graph.Node) *graph.Node {
				y := net.probabilities(net.Logits(scope, x), mode)
				return net.loss(y, graph.OneHot(labels, NumClasses, x.DType()))
			}
			xt, lt := tensors.FromFlatDataAndDimensions(x, n, NumPixels), tensors.FromValue(labels)
			grads, err := model.ExecOnceN(backend, store(), func(scope *model.Scope, x, labels *graph.Node) []*graph.Node {
				return scope.BuildTrainableVariablesGradientsGraph(lossFn(scope, x, labels))
			}, xt, lt)
			if err != nil {
				t.Fatal(err)
			}
			loss := func() float64 { return tensors.ToScalar[float64](model.MustExecOnce(backend, store(), lossFn, xt, lt)) }
			const eps = 1e-6
			for k, name := range names {
				analytic := tensors.MustCopyFlatData[float64](grads[k])
				v := values[k]
				// Every value of the small tensors, a sample of W1's 3136.
				for i := 0; i < len(v); i += 1 + len(v)/30 {
					orig := v[i]
					v[i] = orig + eps
					up := loss()
					v[i] = orig - eps
					down := loss()
					v[i] = orig
					numeric := (up - down) / (2 * eps)
					if diff := math.Abs(numeric - analytic[i]); diff > 1e-6*math.Max(1, math.Abs(numeric)) {
						t.Errorf("%s[%d]: gradient %v, finite difference %v", name, i, analytic[i], numeric)
					}
				}
			}
		})
	}
}
