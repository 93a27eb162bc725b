package mnistfc

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// This file holds the assignment's hand-written functions. They are built from
// primitive graph operations (Exp, Log, sums, maxima) on purpose: the
// assignment forbids the built-in sigmoid, softmax and cross-entropy.
// Training differentiates them with GoMLX's automatic differentiation.

// Sigmoid returns 1/(1+exp(-x)) element-wise.
//
// It is written as e/(1+e) or 1/(1+e) with e = exp(-|x|) ≤ 1, picking the
// branch by the sign of x. Mathematically that is the same function, but
// exp never overflows, so both the value and its automatic derivative
// σ(x)(1-σ(x)) stay finite for any x; the literal 1/(1+exp(-x)) gives
// Inf/Inf = NaN when differentiated at x = -100 in float32.
func Sigmoid(x *graph.Node) *graph.Node {
	e := graph.Exp(graph.Neg(graph.Abs(x)))
	onePlusE := graph.OnePlus(e)
	return graph.Where(graph.GreaterOrEqual(x, graph.ZerosLike(x)), graph.Inverse(onePlusE), graph.Div(e, onePlusE))
}

// SoftmaxMode selects how Softmax normalises the exponentiated logits.
type SoftmaxMode int

const (
	// SoftmaxRow is the correct softmax: each row (one example) is divided
	// by the sum over its classes, so every row sums to 1.
	SoftmaxRow SoftmaxMode = iota

	// SoftmaxBatch reproduces the original notebook's softmax, whose Python
	// sum(...) over a 2-D tensor adds up the batch axis instead of the
	// classes: each column (one class) sums to 1 over the batch. With a
	// batch of 1000 every probability is then near 1/1000 and the
	// cross-entropy sits near ln(1000) ≈ 6.9.
	SoftmaxBatch
)

// String returns the mode's name as used on the command line: "row" or "batch".
func (m SoftmaxMode) String() string {
	switch m {
	case SoftmaxRow:
		return "row"
	case SoftmaxBatch:
		return "batch"
	}
	return fmt.Sprintf("SoftmaxMode(%d)", int(m))
}

// parseSoftmaxMode converts "row" or "batch" into a SoftmaxMode.
func parseSoftmaxMode(s string) (SoftmaxMode, error) {
	switch s {
	case "row", "":
		return SoftmaxRow, nil
	case "batch":
		return SoftmaxBatch, nil
	}
	return 0, fmt.Errorf("unknown softmax %q: want \"row\" (correct, per example) or \"batch\" (the original notebook's normalisation over the batch axis)", s)
}

// MarshalText implements encoding.TextMarshaler, so the mode reads as "row" or "batch" in JSON.
func (m SoftmaxMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: it sets m from "row"
// (or "") or "batch", as the command line's -softmax spells them.
func (m *SoftmaxMode) UnmarshalText(text []byte) error {
	v, err := parseSoftmaxMode(string(text))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Softmax turns logits of shape [N, C] into probabilities of the same shape.
//
// As in the assignment, each row's maximum is subtracted first, so exp never
// overflows. With SoftmaxRow each row is then divided by its own sum; with
// SoftmaxBatch each element is divided by the sum of its column over the
// batch, which is what the original notebook computed.
func Softmax(logits *graph.Node, mode SoftmaxMode) *graph.Node {
	rowMax := graph.ReduceAndKeep(logits, graph.ReduceMax, 1)
	e := graph.Exp(graph.Sub(logits, rowMax))
	switch mode {
	case SoftmaxBatch:
		return graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, 0))
	default:
		return graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, 1))
	}
}

// CrossEntropy is the mean over the batch of -Σ_c t·log(y), for
// probabilities y and one-hot targets t, both of shape [N, C].
func CrossEntropy(y, t *graph.Node) *graph.Node {
	n := float64(y.Shape().Dimensions[0])
	return graph.DivScalar(graph.Neg(graph.ReduceAllSum(graph.Mul(t, graph.Log(y)))), n)
}

// Accuracy is the fraction of rows whose most probable class in y is the
// class marked in the one-hot targets t. It returns a float32 scalar.
func Accuracy(y, t *graph.Node) *graph.Node {
	hits := graph.Equal(graph.ArgMax(y, 1, dtypes.Int32), graph.ArgMax(t, 1, dtypes.Int32))
	return graph.ReduceAllMean(graph.ConvertDType(hits, dtypes.Float32))
}
