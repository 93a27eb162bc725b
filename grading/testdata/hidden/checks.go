// An example of a teacher's hidden checks (grade.py --hidden-checks DIR):
// Go functions HiddenName(seed uint64) []float64 of package main that call
// the student's functions by their names in the notebook. The grader runs
// them on the solution and on each submission, with the grading run's seed,
// and compares the numbers.
package main

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/mnistfc/mnistfc/grading"
)

// HiddenShiftedSoftmax: softmax does not change when every logit of a row
// moves by the same amount, here 50.
func HiddenShiftedSoftmax(seed uint64) []float64 {
	return grading.Compute(func(z *graph.Node) *graph.Node { return softmax(graph.AddScalar(z, 50)) }, hiddenLogits(seed))
}

// HiddenSigmoidOfSoftmax: sigmoid and softmax together.
func HiddenSigmoidOfSoftmax(seed uint64) []float64 {
	return grading.Compute(func(z *graph.Node) *graph.Node { return sigmoid(softmax(z)) }, hiddenLogits(seed))
}

func hiddenLogits(seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 99))
	z := make([][]float32, 5)
	for i := range z {
		z[i] = make([]float32, 7)
		for j := range z[i] {
			z[i][j] = float32(rng.NormFloat64() * 2)
		}
	}
	return z
}
