package mnistfc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/mnistfc/torchcompat"
)

// Weight is one variable of a network, copied to the host.
type Weight struct {
	Name   string    `json:"name"` // Variable path without the leading "/", e.g. "fc1/weights".
	Dims   []int     `json:"dims"` // Shape.
	Values []float32 `json:"-"`    // Row-major values.
}

// Weights are the trainable variables of a network, in the store's order.
type Weights []Weight

// get returns the weight with the given name, or nil.
func (ws Weights) get(name string) *Weight {
	for i := range ws {
		if ws[i].Name == name {
			return &ws[i]
		}
	}
	return nil
}

// clone returns a deep copy.
func (ws Weights) clone() Weights {
	c := make(Weights, len(ws))
	for i, w := range ws {
		c[i] = Weight{Name: w.Name, Dims: slices.Clone(w.Dims), Values: slices.Clone(w.Values)}
	}
	return c
}

// NumParameters returns the number of values of all weights.
func (ws Weights) NumParameters() int {
	n := 0
	for _, w := range ws {
		n += len(w.Values)
	}
	return n
}

// storeWeights copies the trainable variables of store to the host.
func storeWeights(store *model.Store) (Weights, error) {
	var ws Weights
	for v := range store.IterVariables() {
		if !v.Trainable {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("reading variable %s: %w", v.Path(), err)
		}
		values, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, fmt.Errorf("reading variable %s: %w", v.Path(), err)
		}
		ws = append(ws, Weight{Name: strings.TrimPrefix(v.Path(), "/"), Dims: t.Shape().Dimensions, Values: values})
	}
	return ws, nil
}

// setWeights sets the values of the store's variables named in ws.
func setWeights(store *model.Store, ws Weights) error {
	for _, w := range ws {
		v := store.GetVariable("/" + w.Name)
		if v == nil {
			return fmt.Errorf("no variable %q", w.Name)
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(w.Values, w.Dims...)); err != nil {
			return fmt.Errorf("variable %q: %w", w.Name, err)
		}
	}
	return nil
}

// newStore returns a store holding ws as its variables.
func newStore(ws Weights) (*model.Store, error) {
	store := model.NewStore()
	for _, w := range ws {
		if _, err := store.CreateVariable("/"+w.Name, tensors.FromFlatDataAndDimensions(slices.Clone(w.Values), w.Dims...)); err != nil {
			return nil, fmt.Errorf("weights %s: %w", w.Name, err)
		}
	}
	return store, nil
}

// Params are the weights of FullyConnected, the network
// Linear(784, H) -> sigmoid -> Linear(H, 10), as plain slices.
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

// InitParams returns the initial weights that Train starts
// FullyConnected(hidden) from for an initialisation and a seed (Config.Init
// and Config.Seed):
//
//   - InitDefault (or ""): weights and biases uniform in ±1/sqrt(fan-in),
//     like PyTorch's nn.Linear default, drawn in the order W1, B1, W2, B2
//     from one PCG stream;
//   - InitTorch: bit for bit what torch.manual_seed(seed) followed by the
//     original's nn.Linear(784, hidden) and nn.Linear(hidden, 10) draw on
//     the CPU (see package torchcompat).
func InitParams(init Init, hidden int, seed uint64) *Params {
	if init == InitTorch {
		p, _ := torchInit(hidden, seed)
		return p
	}
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

// torchInit returns InitTorch's initial weights, and PyTorch's generator
// after drawing them, which then shuffles the batches.
func torchInit(hidden int, seed uint64) (*Params, *torchcompat.Generator) {
	g := torchcompat.NewGenerator(seed)
	p := &Params{Hidden: hidden}
	p.W1, p.B1 = g.Linear(NumPixels, hidden)
	p.W2, p.B2 = g.Linear(hidden, NumClasses)
	return p, g
}

// Weights returns p as the variables of FullyConnected(p.Hidden).
func (p *Params) Weights() Weights {
	return Weights{
		{layer1Weights, []int{p.Hidden, NumPixels}, p.W1},
		{layer1Biases, []int{p.Hidden}, p.B1},
		{layer2Weights, []int{NumClasses, p.Hidden}, p.W2},
		{layer2Biases, []int{NumClasses}, p.B2},
	}
}

// Params returns the weights of a FullyConnected network as Params, or an
// error if ws are not those of one.
func (ws Weights) Params() (*Params, error) {
	b1 := ws.get(layer1Biases)
	if b1 == nil || len(b1.Dims) != 1 {
		return nil, fmt.Errorf("not the weights of the two-layer network: no %s vector", layer1Biases)
	}
	p := &Params{Hidden: b1.Dims[0]}
	want := p.Weights()
	if len(ws) != len(want) {
		return nil, fmt.Errorf("not the weights of the two-layer network: %d variables, want %d", len(ws), len(want))
	}
	for i, dst := range []*[]float32{&p.W1, &p.B1, &p.W2, &p.B2} {
		w := ws.get(want[i].Name)
		if w == nil || !slices.Equal(w.Dims, want[i].Dims) || len(w.Values) != product(w.Dims) {
			return nil, fmt.Errorf("not the weights of the two-layer network with hidden size %d: %s should have shape %v", p.Hidden, want[i].Name, want[i].Dims)
		}
		*dst = w.Values
	}
	return p, nil
}

// HiddenUnitWeights returns the NumPixels input weights of hidden unit j,
// which can be shown as a 28x28 image.
func (p *Params) HiddenUnitWeights(j int) []float32 {
	return p.W1[j*NumPixels : (j+1)*NumPixels]
}
