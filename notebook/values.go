package notebook

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// This file holds the helpers of the checks: running a small graph, and
// reading, reshaping and comparing the values it returns.

// exec1 runs fn once on t.
func exec1(fn func(*graph.Node) *graph.Node, t *tensors.Tensor) (*tensors.Tensor, error) {
	return graph.CallOnce(Backend(), func(x *graph.Node) *graph.Node { return graph.ConvertDType(fn(x), dtypes.Float64) }, t)
}

// sameShape panics (with an error) when a function's result has another
// shape or dtype than its input.
func sameShape(fn, input string, got, want *graph.Node, what string) {
	if !got.Shape().Equal(want.Shape()) {
		panic(fmt.Errorf("%s returns shape %v (%s) for %s of shape %v (%s): %s, same shape and dtype", fn,
			got.Shape().Dimensions, got.DType(), input, want.Shape().Dimensions, want.DType(), what))
	}
}

// usesOp reports whether g has a node of type op.
func usesOp(g *graph.Graph, op graph.NodeType) bool {
	return slices.ContainsFunc(g.Nodes(), func(n *graph.Node) bool { return n.Type() == op })
}

// float64s converts nodes to Float64, to read them back as []float64.
func float64s(nodes ...*graph.Node) []*graph.Node {
	out := make([]*graph.Node, len(nodes))
	for i, n := range nodes {
		out[i] = graph.ConvertDType(n, dtypes.Float64)
	}
	return out
}

// flat returns the values of a Float64 tensor.
func flat(t *tensors.Tensor) []float64 { return Must(tensors.CopyFlatData[float64](t)) }

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func mapped(v []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}

// matrix returns v as rows of cols values, float32 for printing.
func matrix(v []float64, cols int) [][]float32 {
	var rows [][]float32
	for i := 0; i < len(v); i += cols {
		rows = append(rows, float32s(v[i:i+cols]))
	}
	return rows
}

// sums returns the row and column sums of v, rows of cols values.
func sums(v []float64, cols int) (rows, columns []float64) {
	rows, columns = make([]float64, len(v)/cols), make([]float64, cols)
	for i, x := range v {
		rows[i/cols] += x
		columns[i%cols] += x
	}
	return rows, columns
}

func allNear(v []float64, want, tol float64) bool {
	return !slices.ContainsFunc(v, func(x float64) bool { return !(math.Abs(x-want) <= tol) })
}

// maxDiff returns the largest |a[i] - b[i]| and its index; a NaN counts as
// infinitely far.
func maxDiff(a, b []float64) (float64, int) {
	worst, at := 0.0, 0
	for i := range a {
		d := math.Abs(a[i] - b[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}
