package mnistfc

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// run1 executes a one-output graph function on the default backend and returns its flat float32 result.
func run1(t *testing.T, fn func(x *graph.Node) *graph.Node, x any) []float32 {
	t.Helper()
	b, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	out, err := graph.ExecOnce(b, fn, x)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestSigmoid(t *testing.T) {
	in := []float32{0, 1, -1, 2, 100, -100, 1000, -1000}
	got := run1(t, Sigmoid, in)
	for i, x := range in {
		want := 1 / (1 + math.Exp(-float64(x)))
		if !near(float64(got[i]), want, 1e-6) || math.IsNaN(float64(got[i])) {
			t.Errorf("Sigmoid(%v) = %v, want %v", x, got[i], want)
		}
	}
}

// TestSigmoidGradient checks the automatic derivative of Sigmoid, which
// training uses, against σ(1-σ), including at ±100 where the literal
// formula 1/(1+exp(-x)) differentiates to Inf/Inf.
func TestSigmoidGradient(t *testing.T) {
	in := []float32{0, 3, -3, 100, -100, 200, -200}
	got := run1(t, func(x *graph.Node) *graph.Node {
		return graph.Gradient(graph.ReduceAllSum(Sigmoid(x)), x)[0]
	}, in)
	for i, x := range in {
		s := 1 / (1 + math.Exp(-float64(x)))
		if want := s * (1 - s); math.IsNaN(float64(got[i])) || math.IsInf(float64(got[i]), 0) || !near(float64(got[i]), want, 1e-6) {
			t.Errorf("dσ/dx at %v = %v, want %v", x, got[i], want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	logits := [][]float32{{1, 2, 3}, {1000, 1000, 0}, {-1000, 0, 1000}, {5, 5, 5}}
	tests := []struct {
		name string
		mode SoftmaxMode
		// want computes the expected probability of row i, class j from exps e[i][j] = exp(x_ij - max_i x_i).
		want func(e [][]float64, i, j int) float64
	}{
		{"row", SoftmaxRow, func(e [][]float64, i, j int) float64 {
			s := 0.0
			for _, v := range e[i] {
				s += v
			}
			return e[i][j] / s
		}},
		{"batch", SoftmaxBatch, func(e [][]float64, i, j int) float64 {
			s := 0.0
			for k := range e {
				s += e[k][j]
			}
			return e[i][j] / s
		}},
	}
	e := make([][]float64, len(logits))
	for i, row := range logits {
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		for _, v := range row {
			e[i] = append(e[i], math.Exp(float64(v)-m))
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run1(t, func(x *graph.Node) *graph.Node { return Softmax(x, tc.mode) }, logits)
			for i := range logits {
				for j := range logits[i] {
					g := float64(got[i*3+j])
					if math.IsNaN(g) || math.IsInf(g, 0) || !near(g, tc.want(e, i, j), 1e-6) {
						t.Errorf("Softmax[%d][%d] = %v, want %v", i, j, g, tc.want(e, i, j))
					}
				}
			}
		})
	}
}

func TestSoftmaxNormalisationAxis(t *testing.T) {
	logits := [][]float32{{0.5, -2, 3, 80}, {10, 11, 12, -13}, {-90, 0, 0, 1}}
	sums := func(mode SoftmaxMode, axis int) []float32 {
		return run1(t, func(x *graph.Node) *graph.Node { return graph.ReduceSum(Softmax(x, mode), axis) }, logits)
	}
	for i, s := range sums(SoftmaxRow, 1) {
		if !near(float64(s), 1, 1e-6) {
			t.Errorf("row softmax: row %d sums to %v, want 1", i, s)
		}
	}
	for j, s := range sums(SoftmaxBatch, 0) {
		if !near(float64(s), 1, 1e-6) {
			t.Errorf("batch softmax: column %d sums to %v over the batch, want 1", j, s)
		}
	}
	rowSums := sums(SoftmaxBatch, 1)
	if near(float64(rowSums[0]), 1, 1e-3) && near(float64(rowSums[1]), 1, 1e-3) {
		t.Errorf("batch softmax rows sum to 1 (%v): it does not reproduce the original's batch-axis normalisation", rowSums)
	}
}

func TestBatchSoftmaxLossNearLogBatchSize(t *testing.T) {
	// With the original's normalisation over a batch of n similar examples every probability is
	// near 1/n, so the cross-entropy is near ln(n): ln(1000) = 6.9 in the original's table.
	const n = 1000
	logits := make([][]float32, n)
	targets := make([][]float32, n)
	for i := range logits {
		logits[i] = make([]float32, NumClasses)
		targets[i] = make([]float32, NumClasses)
		for j := range logits[i] {
			logits[i][j] = float32(math.Sin(float64(i*NumClasses+j))) * 0.1
		}
		targets[i][i%NumClasses] = 1
	}
	b, _ := backends.New("go")
	out, err := graph.ExecOnce(b, func(x, t *graph.Node) *graph.Node { return CrossEntropy(Softmax(x, SoftmaxBatch), t) }, logits, targets)
	if err != nil {
		t.Fatal(err)
	}
	loss := float64(tensors.ToScalar[float32](out))
	if !near(loss, math.Log(n), 0.05) {
		t.Errorf("batch-softmax loss = %v, want near ln(%d) = %v", loss, n, math.Log(n))
	}
}

func TestCrossEntropyAndAccuracy(t *testing.T) {
	y := [][]float32{{0.7, 0.2, 0.1}, {0.1, 0.1, 0.8}, {0.3, 0.4, 0.3}, {0.5, 0.25, 0.25}}
	tt := [][]float32{{1, 0, 0}, {0, 0, 1}, {1, 0, 0}, {0, 1, 0}}
	b, _ := backends.New("go")
	outs, err := graph.ExecOnceN(b, func(y, t *graph.Node) []*graph.Node {
		return []*graph.Node{CrossEntropy(y, t), Accuracy(y, t)}
	}, y, tt)
	if err != nil {
		t.Fatal(err)
	}
	wantLoss := -(math.Log(0.7) + math.Log(0.8) + math.Log(0.3) + math.Log(0.25)) / 4
	if got := float64(tensors.ToScalar[float32](outs[0])); !near(got, wantLoss, 1e-6) {
		t.Errorf("CrossEntropy = %v, want %v", got, wantLoss)
	}
	if got := tensors.ToScalar[float32](outs[1]); got != 0.5 {
		t.Errorf("Accuracy = %v, want 0.5 (rows 0 and 1 right, 2 and 3 wrong)", got)
	}
}

func TestSoftmaxModeText(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    SoftmaxMode
		wantErr bool
	}{{"row", SoftmaxRow, false}, {"batch", SoftmaxBatch, false}, {"", SoftmaxRow, false}, {"column", 0, true}} {
		got, err := parseSoftmaxMode(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("parseSoftmaxMode(%q) = %v, %v", tc.in, got, err)
		}
		if !tc.wantErr && tc.in != "" && got.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}
