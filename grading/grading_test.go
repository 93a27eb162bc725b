package grading

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// The solution notebook's functions.
func sigmoid(x *graph.Node) *graph.Node {
	e := graph.Exp(graph.Neg(graph.Abs(x)))
	positive := graph.GreaterOrEqual(x, graph.ZerosLike(x))
	return graph.Where(positive, graph.Inverse(graph.OnePlus(e)), graph.Div(e, graph.OnePlus(e)))
}

func softmax(z *graph.Node) *graph.Node {
	e := graph.Exp(graph.Sub(z, graph.ReduceAndKeep(z, graph.ReduceMax, 1)))
	return graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, 1))
}

func crossEntropy(y, t *graph.Node) *graph.Node {
	n := y.Shape().Dimensions[0]
	return graph.DivScalar(graph.Neg(graph.ReduceAllSum(graph.Mul(t, graph.Log(y)))), n)
}

func accuracy(y, t *graph.Node) *graph.Node {
	same := graph.Equal(graph.ArgMax(y, 1), graph.ArgMax(t, 1))
	return graph.ReduceAllMean(graph.ConvertDType(same, y.DType()))
}

func forward(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
	h := currentSigmoid(mnistfc.Linear(scope.In("fc1"), x, hidden))
	return mnistfc.Linear(scope.In("fc2"), h, mnistfc.NumClasses)
}

func solution() Exercises {
	return Exercises{Sigmoid: sigmoid, Softmax: softmax, CrossEntropy: crossEntropy, Accuracy: accuracy, Forward: forward}
}

// linked returns ex with forward and network calling ex's functions, as
// the notebook's cells call each other by name.
func linked(ex Exercises) Exercises {
	e := &ex
	if ex.Forward != nil {
		own := ex.Forward
		ex.Forward = func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
			if e.Sigmoid == nil {
				panic("undefined: sigmoid")
			}
			saved := currentSigmoid
			currentSigmoid = e.Sigmoid
			defer func() { currentSigmoid = saved }()
			return own(scope, x, hidden)
		}
	}
	ex.Network = networkOf(e)
	return ex
}

// currentSigmoid is the sigmoid that forward calls.
var currentSigmoid = sigmoid

// networkOf is the notebook's network(hidden), on ex's functions.
func networkOf(ex *Exercises) func(int) mnistfc.Network {
	return func(hidden int) mnistfc.Network {
		return mnistfc.Network{
			Logits:  func(scope *model.Scope, x *graph.Node) *graph.Node { return ex.Forward(scope, x, hidden) },
			Softmax: ex.Softmax, Loss: ex.CrossEntropy,
		}
	}
}

// grade runs Observe and Judge as the grader does (through JSON lines) and
// returns the verdicts by check.
func grade(t *testing.T, seed uint64, ex Exercises) map[string]Verdict {
	t.Helper()
	var buf bytes.Buffer
	if err := Observe(seed, ex, &buf); err != nil {
		t.Fatal(err)
	}
	var obs []Observation
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		o, err := ReadObservation(line)
		if err != nil {
			t.Fatal(err)
		}
		obs = append(obs, o)
	}
	verdicts, err := Judge(seed, obs)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Verdict{}
	for _, v := range verdicts {
		out[v.Check] = v
	}
	return out
}

func TestSolutionPasses(t *testing.T) {
	for _, seed := range []uint64{1, 0xdeadbeef} {
		for check, v := range grade(t, seed, linked(solution())) {
			if !v.Passed {
				t.Errorf("seed %d: %s fails on the solution: %s", seed, check, v.Message)
			}
		}
	}
}

// TestOtherWays: correct implementations written differently from the
// solution pass; wrong ones fail with a message that names the cause.
func TestOtherWays(t *testing.T) {
	textbook := func(x *graph.Node) *graph.Node { return graph.Inverse(graph.OnePlus(graph.Exp(graph.Neg(x)))) }
	tanh := func(x *graph.Node) *graph.Node {
		return graph.MulScalar(graph.OnePlus(graph.Tanh(graph.MulScalar(x, 0.5))), 0.5)
	}
	naiveSoftmax := func(z *graph.Node) *graph.Node {
		e := graph.Exp(z)
		return graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, -1))
	}
	logSoftmax := func(z *graph.Node) *graph.Node {
		shifted := graph.Sub(z, graph.ReduceAndKeep(z, graph.ReduceMax, 1))
		return graph.Exp(graph.Sub(shifted, graph.Log(graph.ReduceAndKeep(graph.Exp(shifted), graph.ReduceSum, 1))))
	}
	meanCE := func(y, t *graph.Node) *graph.Node {
		return graph.ReduceAllMean(graph.Neg(graph.ReduceSum(graph.Mul(graph.Log(y), t), -1)))
	}
	maxAccuracy := func(y, t *graph.Node) *graph.Node {
		// The probability of the true class is the row's maximum.
		top := graph.ReduceAndKeep(y, graph.ReduceMax, 1)
		hit := graph.ReduceSum(graph.Mul(t, graph.ConvertDType(graph.Equal(y, top), y.DType())), 1)
		return graph.ReduceAllMean(hit)
	}
	cases := []struct {
		name   string
		change func(*Exercises)
		fails  map[string]string // check -> part of its message; the other checks pass
	}{
		{"textbook sigmoid", func(e *Exercises) { e.Sigmoid = textbook }, nil},
		{"sigmoid from tanh", func(e *Exercises) { e.Sigmoid = tanh }, nil},
		{"softmax without the max", func(e *Exercises) { e.Softmax = naiveSoftmax }, nil},
		{"softmax through log-sum-exp", func(e *Exercises) { e.Softmax = logSoftmax }, nil},
		{"cross-entropy as a mean of row sums", func(e *Exercises) { e.CrossEntropy = meanCE }, nil},
		{"accuracy from the row maximum", func(e *Exercises) { e.Accuracy = maxAccuracy }, nil},
		{"σ(-x)", func(e *Exercises) { e.Sigmoid = func(x *graph.Node) *graph.Node { return sigmoid(graph.Neg(x)) } },
			map[string]string{"sigmoid": "sign of the exponent", "forward": "differ", "gradient": "loss", "training": "step 1"}},
		{"sigmoid without a gradient", func(e *Exercises) {
			e.Sigmoid = func(x *graph.Node) *graph.Node { return graph.StopGradient(sigmoid(x)) }
		},
			map[string]string{"sigmoid": "σ'(", "gradient": "StopGradient", "training": "step 2"}},
		{"the original's softmax", func(e *Exercises) {
			e.Softmax = func(z *graph.Node) *graph.Node { return mnistfc.Softmax(z, mnistfc.SoftmaxBatch) }
		}, map[string]string{"softmax": "each column sums to 1", "gradient": "loss", "training": "step 1"}},
		{"cross-entropy summed", func(e *Exercises) {
			e.CrossEntropy = func(y, t *graph.Node) *graph.Node { return graph.ReduceAllSum(graph.Neg(graph.Mul(t, graph.Log(y)))) }
		},
			map[string]string{"cross-entropy": "times too large", "gradient": "loss", "training": "step 1"}},
		{"accuracy counted", func(e *Exercises) {
			e.Accuracy = func(y, t *graph.Node) *graph.Node {
				return graph.ReduceAllSum(graph.ConvertDType(graph.Equal(graph.ArgMax(y, 1), graph.ArgMax(t, 1)), y.DType()))
			}
		}, map[string]string{"accuracy": "number of examples predicted right"}},
		{"forward returns probabilities", func(e *Exercises) {
			e.Forward = func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node {
				return softmax(forward(scope, x, hidden))
			}
		}, map[string]string{"forward": "not probabilities", "gradient": "loss", "training": "step 1"}},
		{"a panic", func(e *Exercises) { e.Softmax = func(z *graph.Node) *graph.Node { panic("TODO: write softmax") } },
			map[string]string{"softmax": "not written yet", "gradient": "not written yet", "training": "not written yet"}},
		{"missing", func(e *Exercises) { e.Accuracy = nil }, map[string]string{"accuracy": "accuracy is missing"}},
		{"not a number", func(e *Exercises) {
			e.Accuracy = func(y, t *graph.Node) *graph.Node {
				return graph.Div(graph.ReduceAllSum(t), graph.ZerosLike(graph.ReduceAllSum(t)))
			}
		},
			map[string]string{"accuracy": "it gives NaN"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex := solution()
			c.change(&ex)
			for check, v := range grade(t, uint64(100+i), linked(ex)) {
				want, fails := c.fails[check]
				switch {
				case fails && v.Passed:
					t.Errorf("%s passes, want it to fail with %q", check, want)
				case fails && !strings.Contains(v.Message, want):
					t.Errorf("%s fails with %q, want %q in it", check, v.Message, want)
				case !fails && !v.Passed:
					t.Errorf("%s fails: %s", check, v.Message)
				}
			}
		})
	}
}

// TestForgedObservations: lines that the submission's program did not get
// from the grader's inputs earn nothing, and a check without a line fails.
func TestForgedObservations(t *testing.T) {
	forged := []Observation{{Check: "accuracy", Outputs: map[string]Values{"accuracy0": {Dims: nil, Values: []float64{1}}}}}
	verdicts, err := Judge(7, forged)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range verdicts {
		if v.Passed {
			t.Errorf("%s passes on a forged observation: %s", v.Check, v.Message)
		}
	}
	if v := verdicts[0]; !strings.Contains(v.Message, "stopped before") {
		t.Errorf("sigmoid without an observation: %q", v.Message)
	}
}

func TestCasesDiffer(t *testing.T) {
	a, b := NewCase(1), NewCase(2)
	if fmt.Sprint(a.SigmoidX) == fmt.Sprint(b.SigmoidX) || fmt.Sprint(a.Logits) == fmt.Sprint(b.Logits) {
		t.Error("two seeds draw the same inputs")
	}
	if fmt.Sprint(NewCase(1).Logits) != fmt.Sprint(a.Logits) {
		t.Error("one seed draws different inputs")
	}
}

func TestJudgeHidden(t *testing.T) {
	obs := func(check string, values []float64, err string) Observation {
		return Observation{Check: check, Error: err, Outputs: map[string]Values{"values": {Dims: []int{len(values)}, Values: values}}}
	}
	reference := []Observation{obs("sigmoid", []float64{1}, ""), obs("hidden:A", []float64{1, 2}, ""), obs("hidden:B", []float64{3}, ""),
		obs("hidden:C", []float64{4}, ""), obs("hidden:D", []float64{5}, "")}
	observed := []Observation{obs("hidden:A", []float64{1, 2 + 1e-6}, ""), obs("hidden:B", []float64{3.1}, ""), obs("hidden:A", []float64{0, 0}, ""),
		obs("hidden:D", nil, "sigmoid panicked: no")}
	want := map[string]string{"hidden:A": "", "hidden:B": "number 0 is 3.1, want 3", "hidden:C": "did not report it", "hidden:D": "sigmoid panicked"}
	verdicts := JudgeHidden(observed, reference)
	if len(verdicts) != len(want) {
		t.Fatalf("%d verdicts, want %d: %v", len(verdicts), len(want), verdicts)
	}
	for _, v := range verdicts {
		w := want[v.Check]
		if v.Passed != (w == "") || !strings.Contains(v.Message, w) {
			t.Errorf("%s: passed %v, %q; want %q", v.Check, v.Passed, v.Message, w)
		}
	}
}
