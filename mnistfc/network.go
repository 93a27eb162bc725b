package mnistfc

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Network is what Train trains: a GoMLX function from a batch of flattened
// images to logits, plus the functions that turn logits into probabilities
// and probabilities into a loss. The library's network is FullyConnected; a
// caller (a notebook, a test) can pass its own with WithNetwork.
type Network struct {
	// Name describes the architecture in reports, e.g. "784-100-sigmoid-10".
	Name string

	// Logits maps images x [N, NumPixels] to logits [N, NumClasses]. It
	// declares its weights as variables of scope (shape and initializer),
	// e.g. with Linear; any number of layers.
	Logits func(scope *model.Scope, x *graph.Node) *graph.Node

	// Softmax maps logits to probabilities [N, NumClasses]. Nil means
	// Softmax(logits, Config.Softmax).
	Softmax func(logits *graph.Node) *graph.Node

	// Loss maps probabilities y and one-hot targets t, both [N, NumClasses],
	// to a scalar loss. Nil means CrossEntropy.
	Loss func(y, t *graph.Node) *graph.Node
}

// Variable names of the two linear layers of FullyConnected, the scopes and
// names of PyTorch's fc1/fc2 weight and bias.
const (
	layer1Weights = "fc1/weights"
	layer1Biases  = "fc1/biases"
	layer2Weights = "fc2/weights"
	layer2Biases  = "fc2/biases"
)

// FullyConnected returns the assignment's network,
// Linear(784, hidden) -> Sigmoid -> Linear(hidden, 10), whose probabilities
// come from Softmax with the run's SoftmaxMode and whose loss is
// CrossEntropy. Its initial weights are InitParams(InitDefault, hidden,
// seed): the library's runs keep the numbers of its earlier versions.
func FullyConnected(hidden int) Network {
	return Network{
		Name: fmt.Sprintf("%d-%d-sigmoid-%d", NumPixels, hidden, NumClasses),
		Logits: func(scope *model.Scope, x *graph.Node) *graph.Node {
			var p *Params // Drawn once, by the first of the four initializers that runs.
			initial := func(values func(p *Params) []float32) model.VariableInitializer {
				return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
					if p == nil {
						p = InitParams(InitDefault, hidden, uint64(model.GetParamOr(scope, seedParam, int64(0))))
					}
					return graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(values(p), shape.Dimensions...)), shape.DType)
				}
			}
			h := Sigmoid(dense(scope.In("fc1"), x, hidden,
				initial(func(p *Params) []float32 { return p.W1 }), initial(func(p *Params) []float32 { return p.B1 })))
			return dense(scope.In("fc2"), h, NumClasses,
				initial(func(p *Params) []float32 { return p.W2 }), initial(func(p *Params) []float32 { return p.B2 }))
		},
	}
}

// Linear is the fully-connected layer of PyTorch's nn.Linear: x·Wᵀ + b for
// x [N, in], with variables "weights" [outputs, in] (one row per output
// unit) and "biases" [outputs] in scope. Both start uniform in
// ±1/sqrt(in), nn.Linear's default, drawn on the host from the run's seed
// (Config.Seed) and the variable's path, so that every backend starts from
// the same weights.
func Linear(scope *model.Scope, x *graph.Node, outputs int) *graph.Node {
	inputs := x.Shape().Dimensions[x.Rank()-1]
	bound := 1 / math.Sqrt(float64(inputs))
	uniform := func(r *rand.Rand) float64 { return (2*r.Float64() - 1) * bound }
	return dense(scope, x, outputs, hostInitializer(scope, "weights", uniform), hostInitializer(scope, "biases", uniform))
}

// HeLinear is Linear with He (Kaiming) initialisation, suited to ReLU
// layers: weights normal with standard deviation sqrt(2/in), biases 0
// (drawn on the host as Linear's).
func HeLinear(scope *model.Scope, x *graph.Node, outputs int) *graph.Node {
	inputs := x.Shape().Dimensions[x.Rank()-1]
	std := math.Sqrt(2 / float64(inputs))
	return dense(scope, x, outputs, hostInitializer(scope, "weights", func(r *rand.Rand) float64 { return r.NormFloat64() * std }),
		hostInitializer(scope, "biases", func(*rand.Rand) float64 { return 0 }))
}

// dense declares the weights [outputs, in] and biases [outputs] of a
// linear layer with the given initializers and returns x·Wᵀ + b.
func dense(scope *model.Scope, x *graph.Node, outputs int, weights, biases model.VariableInitializer) *graph.Node {
	inputs := x.Shape().Dimensions[x.Rank()-1]
	g := x.Graph()
	w := scope.WithInitializer(weights).VariableWithShape("weights", shapes.Make(x.DType(), outputs, inputs)).NodeValue(g)
	b := scope.WithInitializer(biases).VariableWithShape("biases", shapes.Make(x.DType(), outputs)).NodeValue(g)
	// (W·xᵀ)ᵀ rather than x·Wᵀ: the same numbers, but the gradient of W is
	// then a plain product of the output's gradient [out, N] with x [N, in],
	// which the pure-Go backend runs without transposing the large x
	// (with x·Wᵀ the transposes took a large share of an epoch's CPU time:
	// docs/performance.md, "What made the difference").
	// Transposing the small [out, N] result instead costs little.
	return graph.Add(graph.Transpose(graph.DotGeneral(w, []int{1}, nil, x, []int{1}, nil), 0, 1), graph.ExpandAxes(b, 0))
}

// seedParam is the store parameter that holds the run's seed (Config.Seed)
// for hostInitializer.
const seedParam = "mnistfc_seed"

// hostInitializer returns a variable initializer that draws the values of
// variable name in scope from dist on the host, with a random generator
// seeded by the run's seed (seedParam) and the variable's path.
//
// GoMLX's own initializers draw in the graph, with each backend's random
// number algorithm, so the same seed gives other weights on XLA than on the
// pure-Go backend. Drawn on the host, the initial weights are the same on
// every backend, and so are the runs.
func hostInitializer(scope *model.Scope, name string, dist func(*rand.Rand) float64) model.VariableInitializer {
	seed := uint64(model.GetParamOr(scope, seedParam, int64(0)))
	h := fnv.New64a()
	h.Write([]byte(model.JoinPath(scope.Scope(), name)))
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		r := rand.New(rand.NewPCG(seed, h.Sum64()))
		values := make([]float64, shape.Size())
		for i := range values {
			values[i] = dist(r)
		}
		return graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(values, shape.Dimensions...)), shape.DType)
	}
}

// probabilities applies the network's softmax, or the library's in mode.
func (n Network) probabilities(logits *graph.Node, mode SoftmaxMode) *graph.Node {
	if n.Softmax != nil {
		return n.Softmax(logits)
	}
	return Softmax(logits, mode)
}

// loss applies the network's loss, or CrossEntropy.
func (n Network) loss(y, t *graph.Node) *graph.Node {
	if n.Loss != nil {
		return n.Loss(y, t)
	}
	return CrossEntropy(y, t)
}

// check reports a Network that cannot be trained.
func (n Network) check() error {
	if n.Logits == nil {
		return fmt.Errorf("network %q has no Logits function", n.Name)
	}
	return nil
}

// scalarLoss is the network's loss, averaged to a scalar if it is not one
// (as GoMLX's Trainer does).
func (n Network) scalarLoss(y, t *graph.Node) *graph.Node {
	l := n.loss(y, t)
	if !l.Shape().IsScalar() {
		l = graph.ReduceAllMean(l)
	}
	return l
}
