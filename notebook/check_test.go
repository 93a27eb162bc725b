package notebook

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// The solution notebook's functions (notebooks/mnist_fc.ipynb), the stubs
// of the student's edition, and wrong answers a student might write.

func solutionSigmoid(x *graph.Node) *graph.Node {
	e := graph.Exp(graph.Neg(graph.Abs(x)))
	positive := graph.GreaterOrEqual(x, graph.ZerosLike(x))
	return graph.Where(positive, graph.Inverse(graph.OnePlus(e)), graph.Div(e, graph.OnePlus(e)))
}

func solutionSoftmax(z *graph.Node) *graph.Node {
	e := graph.Exp(graph.Sub(z, graph.ReduceAndKeep(z, graph.ReduceMax, 1)))
	return graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, 1))
}

func solutionCrossEntropy(y, t *graph.Node) *graph.Node {
	n := y.Shape().Dimensions[0]
	return graph.DivScalar(graph.Neg(graph.ReduceAllSum(graph.Mul(t, graph.Log(y)))), n)
}

func solutionAccuracy(y, t *graph.Node) *graph.Node {
	same := graph.Equal(graph.ArgMax(y, 1), graph.ArgMax(t, 1))
	return graph.ReduceAllMean(graph.ConvertDType(same, y.DType()))
}

func solutionForward(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
	h := solutionSigmoid(mnistfc.Linear(scope.In("fc1"), x, hidden))
	return mnistfc.Linear(scope.In("fc2"), h, mnistfc.NumClasses)
}

// network is the notebook's network, built from the given forward pass.
func network(forward func(*model.Scope, *graph.Node, int) *graph.Node, softmax func(*graph.Node) *graph.Node,
	loss func(y, t *graph.Node) *graph.Node) func(int) mnistfc.Network {
	return func(hidden int) mnistfc.Network {
		return mnistfc.Network{
			Name:    fmt.Sprintf("784-%d-sigmoid-10", hidden),
			Logits:  func(scope *model.Scope, x *graph.Node) *graph.Node { return forward(scope, x, hidden) },
			Softmax: softmax,
			Loss:    loss,
		}
	}
}

var solutionNetwork = network(solutionForward, solutionSoftmax, solutionCrossEntropy)

func stub1(name string) func(*graph.Node) *graph.Node {
	return func(*graph.Node) *graph.Node { panic("TODO: write " + name) }
}

func stub2(name string) func(a, b *graph.Node) *graph.Node {
	return func(a, b *graph.Node) *graph.Node { panic("TODO: write " + name) }
}

// output runs fn and returns what it printed on stdout.
func output(t *testing.T, fn func() bool) (string, bool) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ok := fn()
	os.Stdout = stdout
	w.Close()
	return <-done, ok
}

// expect runs a check and wants its line to pass or fail with every
// fragment of want in its message.
func expect(t *testing.T, label string, fn func() bool, pass bool, want ...string) {
	t.Helper()
	out, ok := output(t, fn)
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "✓ ") || strings.HasPrefix(l, "✗ ") {
			line = l
		}
	}
	if ok != pass || line == "" || strings.HasPrefix(line, "✓ ") != pass {
		t.Errorf("%s: passed %v, want %v; output:\n%s", label, ok, pass, out)
		return
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("%s: the line lacks %q:\n%s", label, w, line)
		}
	}
	if strings.Count(out, "✓ ")+strings.Count(out, "✗ ") != 1 {
		t.Errorf("%s: want exactly one check line:\n%s", label, out)
	}
}

func TestCheckSigmoid(t *testing.T) {
	expect(t, "solution", func() bool { return CheckSigmoid(solutionSigmoid) }, true,
		"✓ sigmoid: max |ours - library| = 0; σ'(x) = σ(x)(1-σ(x)), finite for every x, 0.25 at x = 0")
	expect(t, "library", func() bool { return CheckSigmoid(mnistfc.Sigmoid) }, true)
	expect(t, "stub", func() bool { return CheckSigmoid(stub1("sigmoid")) }, false,
		`✗ sigmoid: sigmoid is not written yet (it panics with "TODO: write sigmoid"): write it in its cell, run that cell, then this one`)
	// The textbook formula: its gradient at -100 is e^100/(1+e^100)^2, ∞/∞ =
	// NaN in float32 on XLA; the pure-Go backend's exp stays finite there, and
	// the check then rightly passes it.
	naive := func(x *graph.Node) *graph.Node { return graph.Inverse(graph.OnePlus(graph.Exp(graph.Neg(x)))) }
	slope := Exec(func(x *graph.Node) *graph.Node { return graph.Gradient(graph.ReduceAllSum(naive(x)), x)[0] }, []float32{-100})
	if g := float64(slope.Value().([]float32)[0]); math.IsNaN(g) || math.IsInf(g, 0) {
		expect(t, "1/(1+e^-x)", func() bool { return CheckSigmoid(naive) }, false,
			"σ'(-100) = NaN", "compute e = e^(-|x|)", "graph.Where")
	} else {
		t.Logf("backend %s: the textbook sigmoid's gradient at -100 is %v, finite", BackendName(), g)
		expect(t, "1/(1+e^-x)", func() bool { return CheckSigmoid(naive) }, true)
	}
	flipped := func(x *graph.Node) *graph.Node { return solutionSigmoid(graph.Neg(x)) }
	expect(t, "σ(-x)", func() bool { return CheckSigmoid(flipped) }, false, "it computes σ(-x)")
	relu := func(x *graph.Node) *graph.Node { return graph.Max(x, graph.ZerosLike(x)) }
	expect(t, "ReLU", func() bool { return CheckSigmoid(relu) }, false, "σ(100) = 100, want 1 (max |ours - library| = 99)")
	expect(t, "built-in", func() bool { return CheckSigmoid(graph.Sigmoid) }, false, "graph.Sigmoid")
	sum := func(x *graph.Node) *graph.Node { return graph.ReduceAllSum(solutionSigmoid(x)) }
	expect(t, "sum", func() bool { return CheckSigmoid(sum) }, false, "sigmoid returns shape [] (Float32) for x of shape [11] (Float32)")
	stopped := func(x *graph.Node) *graph.Node { return graph.StopGradient(solutionSigmoid(x)) }
	expect(t, "no gradient", func() bool { return CheckSigmoid(stopped) }, false, "σ'(-10) = 0 by automatic differentiation")
}

func TestCheckSoftmax(t *testing.T) {
	expect(t, "solution", func() bool { return CheckSoftmax(solutionSoftmax) }, true,
		"✓ softmax: every row sums to 1, max |ours - library| = 0; right for logits near ±1000 too")
	expect(t, "stub", func() bool { return CheckSoftmax(stub1("softmax")) }, false, "softmax is not written yet")
	batch := func(z *graph.Node) *graph.Node { return mnistfc.Softmax(z, mnistfc.SoftmaxBatch) }
	expect(t, "over the batch", func() bool { return CheckSoftmax(batch) }, false,
		"each column sums to 1, not each row", "the original notebook's bug", "axis 1")
	unstable := func(z *graph.Node) *graph.Node {
		e := graph.Exp(z)
		return graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, 1))
	}
	expect(t, "no maximum", func() bool { return CheckSoftmax(unstable) }, false, "near ±1000", "subtract each row's maximum")
	all := func(z *graph.Node) *graph.Node {
		e := graph.Exp(z)
		return graph.Div(e, graph.ReduceAllSum(e))
	}
	expect(t, "over everything", func() bool { return CheckSoftmax(all) }, false, "the rows sum to [")
	expect(t, "wrong shape", func() bool { return CheckSoftmax(func(z *graph.Node) *graph.Node { return graph.ReduceSum(z, 1) }) }, false,
		"softmax returns shape [3] (Float32) for the logits of shape [3 4] (Float32)")
}

func TestCheckCrossEntropy(t *testing.T) {
	expect(t, "solution", func() bool { return CheckCrossEntropy(solutionCrossEntropy) }, true, "as expected")
	expect(t, "library", func() bool { return CheckCrossEntropy(mnistfc.CrossEntropy) }, true)
	expect(t, "stub", func() bool { return CheckCrossEntropy(stub2("crossEntropy")) }, false, "crossEntropy is not written yet")
	sum := func(y, t *graph.Node) *graph.Node { return graph.Neg(graph.ReduceAllSum(graph.Mul(t, graph.Log(y)))) }
	expect(t, "sum", func() bool { return CheckCrossEntropy(sum) }, false, "N = 3 times too large")
	perExample := func(y, t *graph.Node) *graph.Node { return graph.Neg(graph.ReduceSum(graph.Mul(t, graph.Log(y)), 1)) }
	expect(t, "per example", func() bool { return CheckCrossEntropy(perExample) }, false, "one value per example")
	sign := func(y, t *graph.Node) *graph.Node { return graph.Neg(solutionCrossEntropy(y, t)) }
	expect(t, "sign", func() bool { return CheckCrossEntropy(sign) }, false, "wrong sign")
	swapped := func(y, t *graph.Node) *graph.Node { return solutionCrossEntropy(t, y) }
	expect(t, "log of t", func() bool { return CheckCrossEntropy(swapped) }, false, "not of the one-hot targets")
}

func TestCheckAccuracy(t *testing.T) {
	expect(t, "solution", func() bool { return CheckAccuracy(solutionAccuracy) }, true, "2/3, 1/3 and 1")
	expect(t, "library", func() bool { return CheckAccuracy(mnistfc.Accuracy) }, true)
	expect(t, "stub", func() bool { return CheckAccuracy(stub2("accuracy")) }, false, "accuracy is not written yet")
	count := func(y, t *graph.Node) *graph.Node {
		return graph.ReduceAllSum(graph.ConvertDType(graph.Equal(graph.ArgMax(y, 1), graph.ArgMax(t, 1)), dtypes.Int32))
	}
	expect(t, "count", func() bool { return CheckAccuracy(count) }, false, "it gives 2.000000, want 0.666667", "divide by N")
	axis0 := func(y, t *graph.Node) *graph.Node {
		return graph.ReduceAllMean(graph.ConvertDType(graph.Equal(graph.ArgMax(y, 0), graph.ArgMax(t, 0)), y.DType()))
	}
	expect(t, "axis 0", func() bool { return CheckAccuracy(axis0) }, false, "graph.ArgMax(y, 1)")
}

func TestCheckForward(t *testing.T) {
	expect(t, "solution", func() bool { return CheckForward(solutionNetwork) }, true,
		"✓ forward: logits [500 10], max |ours - library| = 0; the probabilities match too")
	expect(t, "library", func() bool { return CheckForward(func(h int) mnistfc.Network { return mnistfc.FullyConnected(h) }) }, true)
	stubForward := func(*model.Scope, *graph.Node, int) *graph.Node { panic("TODO: write forward") }
	expect(t, "stub", func() bool { return CheckForward(network(stubForward, solutionSoftmax, solutionCrossEntropy)) }, false,
		"✗ forward: forward is not written yet")
	stubSigmoid := func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
		h := stub1("sigmoid")(mnistfc.Linear(scope.In("fc1"), x, hidden))
		return mnistfc.Linear(scope.In("fc2"), h, mnistfc.NumClasses)
	}
	expect(t, "sigmoid a stub", func() bool { return CheckForward(network(stubSigmoid, solutionSoftmax, solutionCrossEntropy)) }, false,
		"✗ forward: sigmoid is not written yet")
	expect(t, "softmax a stub", func() bool { return CheckForward(network(solutionForward, stub1("softmax"), solutionCrossEntropy)) }, true,
		"probabilities not compared until softmax is written")
	withSoftmax := func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
		return solutionSoftmax(solutionForward(scope, x, hidden))
	}
	expect(t, "returns probabilities", func() bool { return CheckForward(network(withSoftmax, solutionSoftmax, solutionCrossEntropy)) }, false,
		"it returns probabilities")
	renamed := func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
		h := solutionSigmoid(mnistfc.Linear(scope.In("layer1"), x, hidden))
		return mnistfc.Linear(scope.In("layer2"), h, mnistfc.NumClasses)
	}
	expect(t, "other scopes", func() bool { return CheckForward(network(renamed, solutionSoftmax, solutionCrossEntropy)) }, false,
		"it declares the variables layer1/weights [100 784]", `scope.In("fc1")`)
	fixed := func(scope *model.Scope, x *graph.Node, _ int) *graph.Node { return solutionForward(scope, x, 100) }
	expect(t, "hidden size ignored", func() bool { return CheckForward(network(fixed, solutionSoftmax, solutionCrossEntropy)) }, false,
		"with hidden = 7")
	noSigmoid := func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
		return mnistfc.Linear(scope.In("fc2"), mnistfc.Linear(scope.In("fc1"), x, hidden), mnistfc.NumClasses)
	}
	expect(t, "no sigmoid", func() bool { return CheckForward(network(noSigmoid, solutionSoftmax, solutionCrossEntropy)) }, false,
		"its logits differ from the library's")
}

func TestCheckGradient(t *testing.T) {
	expect(t, "solution", func() bool { return CheckGradient(solutionNetwork) }, true,
		"automatic differentiation matches finite differences on 21 weights of fc1/weights, fc1/biases, fc2/weights, fc2/biases")
	expect(t, "library", func() bool { return CheckGradient(func(h int) mnistfc.Network { return mnistfc.FullyConnected(h) }) }, true)
	expect(t, "softmax a stub", func() bool { return CheckGradient(network(solutionForward, stub1("softmax"), solutionCrossEntropy)) }, false,
		"softmax is not written yet")
	stopped := func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
		h := graph.StopGradient(solutionSigmoid(mnistfc.Linear(scope.In("fc1"), x, hidden)))
		return mnistfc.Linear(scope.In("fc2"), h, mnistfc.NumClasses)
	}
	expect(t, "stopped gradient", func() bool { return CheckGradient(network(stopped, solutionSoftmax, solutionCrossEntropy)) }, false,
		"∂loss/∂fc1/weights[0] is 0 by automatic differentiation", "graph.StopGradient")
	perExample := func(y, t *graph.Node) *graph.Node { return graph.Neg(graph.ReduceSum(graph.Mul(t, graph.Log(y)), 1)) }
	expect(t, "loss not a scalar", func() bool { return CheckGradient(network(solutionForward, solutionSoftmax, perExample)) }, false,
		"the loss has shape [5], want one number")
}

func TestCheckTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	expect(t, "solution", func() bool { return CheckTraining(solutionNetwork) }, true, "one epoch lowers the loss from")
	expect(t, "stub", func() bool { return CheckTraining(network(solutionForward, solutionSoftmax, stub2("crossEntropy"))) }, false,
		"crossEntropy is not written yet")
	flat := func(y, t *graph.Node) *graph.Node { return graph.MulScalar(solutionCrossEntropy(y, t), 1e-6) }
	expect(t, "no learning", func() bool { return CheckTraining(network(solutionForward, solutionSoftmax, flat)) }, false,
		"the loss does not go down")
}
