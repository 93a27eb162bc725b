package grading

import (
	"math"
	"math/rand/v2"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// A Case holds the inputs of one grading run, drawn from its seed: a
// submission cannot know them in advance, and the grader draws the same
// ones again to compute the answers.
type Case struct {
	Seed uint64

	// SigmoidX are where sigmoid is evaluated: moderate values, where its
	// derivative is compared too, then large ones (|x| up to 100), where
	// only σ itself is.
	SigmoidX []float32
	// SmoothN is how many of SigmoidX are moderate (the first ones).
	SmoothN int

	// Logits [Rows][Classes] is the input of softmax; SoftmaxWeights are
	// the weights w of the scalar Σ w·softmax(z) whose gradient is
	// compared.
	Logits         [][]float32
	SoftmaxWeights [][]float32

	// Probs [Rows][Classes] are probabilities (each row a softmax of
	// random logits, its maximum unique); Classes are true classes: the
	// inputs of crossEntropy, and of accuracy with each of AccuracyClasses.
	Probs           [][]float32
	Classes         []int
	AccuracyClasses [][]int

	// Hidden is the hidden size of the network checks; Images [N][784]
	// and Labels their inputs; Params the weights they run with.
	Hidden int
	Images [][]float32
	Labels []int
	Params *mnistfc.Params

	// Train is a small synthetic training set for a few steps of SGD.
	Train *mnistfc.Data
}

// Sizes of a Case.
const (
	smoothSigmoid = 24
	largeSigmoid  = 8
	trainImages   = 300
	evalImages    = 100
	trainBatch    = 100
	trainLR       = 0.5
	networkImages = 6
)

// NewCase draws the Case of seed.
func NewCase(seed uint64) *Case {
	rng := rand.New(rand.NewPCG(seed, 0x6d6e697374666321))
	c := &Case{Seed: seed, SmoothN: smoothSigmoid}
	for range smoothSigmoid {
		c.SigmoidX = append(c.SigmoidX, float32(rng.Float64()*16-8))
	}
	for i := range largeSigmoid {
		v := float32(20 + rng.Float64()*80)
		if i%2 == 0 {
			v = -v
		}
		c.SigmoidX = append(c.SigmoidX, v)
	}
	c.SigmoidX[smoothSigmoid] = -100 // e^(-x) overflows float32 here.

	rows, classes := 3+rng.IntN(5), 3+rng.IntN(8)
	c.Logits = matrix(rows, classes, func() float32 { return float32(rng.NormFloat64() * 3) })
	c.SoftmaxWeights = matrix(rows, classes, func() float32 { return float32(rng.NormFloat64()) })

	rows, classes = 4+rng.IntN(5), 3+rng.IntN(8)
	for range rows {
		c.Probs = append(c.Probs, probabilities(rng, classes))
		c.Classes = append(c.Classes, rng.IntN(classes))
	}
	predicted := make([]int, rows)
	for i, p := range c.Probs {
		predicted[i] = argmax(p)
	}
	// Accuracy's label sets: mostly right, mostly wrong, all right.
	for _, share := range []float64{0.7, 0.3, 1} {
		labels := make([]int, rows)
		for i := range labels {
			labels[i] = predicted[i]
			if rng.Float64() >= share {
				labels[i] = (predicted[i] + 1 + rng.IntN(classes-1)) % classes
			}
		}
		c.AccuracyClasses = append(c.AccuracyClasses, labels)
	}

	c.Hidden = 3 + rng.IntN(10)
	c.Params = mnistfc.InitParams(mnistfc.InitDefault, c.Hidden, seed)
	for range networkImages {
		img := make([]float32, mnistfc.NumPixels)
		for p := range img {
			img[p] = mnistfc.Normalise(uint8(rng.IntN(256)))
		}
		c.Images = append(c.Images, img)
		c.Labels = append(c.Labels, rng.IntN(mnistfc.NumClasses))
	}
	c.Train = &mnistfc.Data{Train: dataset(rng, trainImages), Validation: dataset(rng, evalImages), Test: dataset(rng, evalImages)}
	return c
}

// TrainConfig is the configuration of the training check: a few steps of
// plain SGD on the Case's synthetic data, on the pure-Go backend.
func (c *Case) TrainConfig() mnistfc.Config {
	cfg := mnistfc.DefaultConfig()
	cfg.HiddenDim, cfg.LearningRate, cfg.Epochs = c.Hidden, trainLR, 1
	cfg.BatchSize, cfg.TestBatchSize = trainBatch, trainBatch
	cfg.Seed, cfg.Backend = c.Seed, Backend
	return cfg
}

// Backend is the GoMLX backend of grading, inside and outside the sandbox:
// the pure-Go one, the same everywhere, with nothing to load.
const Backend = "go"

func matrix(rows, cols int, draw func() float32) [][]float32 {
	m := make([][]float32, rows)
	for i := range m {
		m[i] = make([]float32, cols)
		for j := range m[i] {
			m[i][j] = draw()
		}
	}
	return m
}

// probabilities draws a row of probabilities whose largest value is clearly
// the largest (no ties for accuracy).
func probabilities(rng *rand.Rand, n int) []float32 {
	z := make([]float64, n)
	for i := range z {
		z[i] = rng.NormFloat64() * 2
	}
	z[rng.IntN(n)] += 1.5
	top, sum := z[0], 0.0
	for _, v := range z {
		top = max(top, v)
	}
	for i := range z {
		z[i] = math.Exp(z[i] - top)
		sum += z[i]
	}
	p := make([]float32, n)
	for i := range z {
		p[i] = float32(z[i] / sum)
	}
	return p
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func dataset(rng *rand.Rand, n int) *mnistfc.Dataset {
	d := &mnistfc.Dataset{Pixels: make([]uint8, n*mnistfc.NumPixels), Labels: make([]uint8, n)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(rng.IntN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(rng.IntN(mnistfc.NumClasses))
	}
	return d
}
