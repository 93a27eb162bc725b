package notebook

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/internal/finite"
	"github.com/mnistfc/mnistfc/internal/studentcode"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// This file holds the checks of the assignment's exercises, which the
// notebook's check cells call, e.g. notebook.CheckSigmoid(sigmoid). Each
// runs a student's function on cases with known answers, prints what it
// computed, then one line:
//
//	✓ sigmoid: what was verified
//	✗ sigmoid: what is wrong, and what to do about it
//
// They are the student's feedback: the grader does not read them, it
// grades from values (package grading). A check never stops the cell's
// program: it recovers a panic of the student's code (a stub's "TODO", an
// error of GoMLX's graph building, through package studentcode) and
// reports it on its line.

// ExampleLogits are the worked example of the softmax, cross-entropy and
// accuracy checks: 3 examples, 4 classes. ExampleClasses are their true
// classes; the third example's most probable class is 1, so the accuracy
// is 2/3.
var (
	ExampleLogits  = [][]float32{{1, 2, 3, 4}, {2, 0, -1, 1}, {8, 10, 0, 5}}
	ExampleClasses = []int{3, 0, 2}
)

// sigmoidInputs are where CheckSigmoid evaluates σ and its derivative:
// e^(-x) overflows float32 at x = -100.
var sigmoidInputs = []float32{-100, -20, -10, -5, -2, 0, 2, 5, 10, 20, 100}

// largeLogits are logits whose exponentials overflow float32 unless each
// row's maximum is subtracted first.
var largeLogits = [][]float32{{1000, 1001, 1002, 1003}, {-1000, -999, -998, -997}}

// CheckSigmoid checks sigmoid against the library's mnistfc.Sigmoid at x
// from -100 to 100, and its derivative by automatic differentiation (what
// training uses) against σ(x)(1-σ(x)): finite everywhere, also where
// e^(-x) overflows. It prints x, σ(x) and σ'(x), then its line, and
// reports whether sigmoid passed.
func CheckSigmoid(sigmoid func(x *graph.Node) *graph.Node) bool {
	return check("sigmoid", func() (string, error) {
		f := studentcode.Guard1("sigmoid", sigmoid)
		builtin := false
		outs, err := graph.CallOnceN(Backend(), func(x *graph.Node) []*graph.Node {
			y := f(x)
			sameShape("sigmoid", "x", y, x, "apply σ to each element")
			builtin = usesOp(x.Graph(), graph.NodeTypeLogistic)
			slope := graph.Gradient(graph.ReduceAllSum(y), x)[0]
			return float64s(y, slope, mnistfc.Sigmoid(x))
		}, sigmoidInputs)
		if err != nil {
			return "", err
		}
		y, slope, want := flat(outs[0]), flat(outs[1]), flat(outs[2])
		fmt.Printf("x       %v\nσ(x)    %.3g\nσ'(x)   %.2g\n", sigmoidInputs, float32s(y), float32s(slope))
		if builtin {
			return "", errors.New("it uses graph.Sigmoid, GoMLX's built-in; write σ with primitive operations (graph.Exp, graph.Div, ...), as the assignment asks")
		}
		x := sigmoidInputs
		for i, v := range y {
			if !finite.Is(v) {
				return "", fmt.Errorf("σ(%g) = %v: e^(-x) overflows float32 for large |x|; compute it from e^(-|x|) (see the text above)", x[i], v)
			}
		}
		worst, at := maxDiff(y, want)
		if worst > 1e-6 {
			hint := ""
			if flipped, _ := maxDiff(y, mapped(want, func(v float64) float64 { return 1 - v })); flipped <= 1e-6 {
				hint = ": it computes σ(-x) = 1/(1+e^x); check the sign of the exponent"
			}
			return "", fmt.Errorf("σ(%g) = %.4g, want %.4g (max |ours - library| = %.3g)%s", x[at], y[at], want[at], worst, hint)
		}
		for i, s := range slope {
			d := want[i] * (1 - want[i])
			if !finite.Is(s) {
				return "", fmt.Errorf("σ'(%g) = %v: the derivative that training uses is not finite. Where e^(-x) overflows (x below about -88 in float32), "+
					"automatic differentiation of 1/(1+e^(-x)) computes ∞/∞; compute e = e^(-|x|) ≤ 1 and return 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0 (graph.Where)", x[i], s)
			}
			if math.Abs(s-d) > 1e-6+1e-3*d {
				return "", fmt.Errorf("σ'(%g) = %.4g by automatic differentiation, want σ(x)(1-σ(x)) = %.4g: σ is right but its graph does not differentiate to its slope; avoid graph.StopGradient and non-differentiable operations", x[i], s, d)
			}
		}
		return fmt.Sprintf("max |ours - library| = %.3g; σ'(x) = σ(x)(1-σ(x)), finite for every x, %.2g at x = 0", worst, slope[slices.Index(x, 0)]), nil
	})
}

// CheckSoftmax checks softmax on the 3×4 example (ExampleLogits): every row
// sums to 1 and equals the library's mnistfc.Softmax; and on logits near
// ±1000, whose exponentials overflow unless each row's maximum is
// subtracted first. It prints the example's probabilities with their row
// and column sums, then its line.
func CheckSoftmax(softmax func(z *graph.Node) *graph.Node) bool {
	return check("softmax", func() (string, error) {
		f := studentcode.Guard1("softmax", softmax)
		e := graph.MustNewExec(Backend(), func(z *graph.Node) []*graph.Node {
			p := f(z)
			sameShape("softmax", "the logits", p, z, "one probability per logit")
			return float64s(p, mnistfc.Softmax(z, mnistfc.SoftmaxRow))
		})
		defer e.Finalize()
		outs, err := e.Call(ExampleLogits)
		if err != nil {
			return "", err
		}
		p, want := flat(outs[0]), flat(outs[1])
		rows, cols := sums(p, 4)
		fmt.Printf("softmax of the 3×4 example logits:\n%.4f\n  row sums    %.4f\n  column sums %.4f\n", matrix(p, 4), float32s(rows), float32s(cols))
		switch {
		case slices.ContainsFunc(p, func(v float64) bool { return !finite.Is(v) }):
			return "", fmt.Errorf("probabilities %.4g are not all finite numbers", float32s(p))
		case !allNear(rows, 1, 1e-5) && allNear(cols, 1, 1e-5):
			return "", fmt.Errorf("each column sums to 1, not each row (row sums %.4f): that normalises every class over the batch, "+
				"the original notebook's bug; divide each row by its own sum over the classes, axis 1: graph.ReduceAndKeep(e, graph.ReduceSum, 1)", float32s(rows))
		case !allNear(rows, 1, 1e-5):
			return "", fmt.Errorf("the rows sum to %.4f, want 1 each: divide each row's exponentials by their sum over that row (axis 1)", float32s(rows))
		}
		worst, at := maxDiff(p, want)
		if worst > 1e-6 {
			return "", fmt.Errorf("row %d is %.4f, want %.4f (max |ours - library| = %.3g): e^(z - max) divided by the row's sum of them",
				at/4, float32s(p[at/4*4:at/4*4+4]), float32s(want[at/4*4:at/4*4+4]), worst)
		}
		outs, err = e.Call(largeLogits)
		if err != nil {
			return "", err
		}
		big, bigWant := flat(outs[0]), flat(outs[1])
		if slices.ContainsFunc(big, func(v float64) bool { return !finite.Is(v) }) {
			return "", fmt.Errorf("for logits near ±1000 it gives %.3g: e^1000 overflows float32 (and e^-1000 is 0, so 0/0); "+
				"subtract each row's maximum before graph.Exp, graph.ReduceAndKeep(z, graph.ReduceMax, 1): the result is the same", float32s(big))
		}
		if bigWorst, _ := maxDiff(big, bigWant); bigWorst > 1e-6 {
			return "", fmt.Errorf("for logits near ±1000 it gives %.4f, want %.4f", float32s(big), float32s(bigWant))
		}
		return fmt.Sprintf("every row sums to 1, max |ours - library| = %.3g; right for logits near ±1000 too", worst), nil
	})
}

// CheckCrossEntropy checks crossEntropy on the worked example: the
// library's probabilities of ExampleLogits with the one-hot targets of
// ExampleClasses, against the mean of -ln(probability of the true class).
func CheckCrossEntropy(crossEntropy func(y, t *graph.Node) *graph.Node) bool {
	return check("cross-entropy", func() (string, error) {
		f := studentcode.Guard2("crossEntropy", crossEntropy)
		var dims []int
		outs, err := graph.CallOnceN(Backend(), func(z, t *graph.Node) []*graph.Node {
			y := mnistfc.Softmax(z, mnistfc.SoftmaxRow)
			loss := f(y, t)
			dims = loss.Shape().Dimensions
			return float64s(loss, y)
		}, ExampleLogits, studentcode.OneHot(ExampleClasses, 4))
		if err != nil {
			return "", err
		}
		got, y := flat(outs[0]), flat(outs[1])
		n := float64(len(ExampleClasses))
		want := 0.0
		for i, c := range ExampleClasses {
			want -= math.Log(y[i*4+c]) / n
		}
		if len(dims) != 0 {
			if slices.Equal(dims, []int{len(ExampleClasses)}) {
				return "", fmt.Errorf("it returns one value per example, %.4f (shape %v): the loss is their mean over the batch, one number", float32s(got), dims)
			}
			return "", fmt.Errorf("it returns shape %v: the loss is one number, -t·ln(y) summed over the classes and averaged over the examples", dims)
		}
		fmt.Printf("cross-entropy of the 3×4 example, true classes %v: %.6f (want %.6f)\n", ExampleClasses, got[0], want)
		return scalarCheck(got[0], want, []hint{
			{n * want, "that is N = 3 times too large: divide the sum by the batch size N, y.Shape().Dimensions[0]"},
			{-want, "that has the wrong sign: the loss is -Σ t·ln(y) / N, a positive number"},
			{-n * want, "that has the wrong sign and is N = 3 times too large: -Σ t·ln(y), divided by the batch size N"},
		}, "the mean over the examples of -ln(the probability of the true class)",
			"take the log of the probabilities y, graph.Log(y), not of the one-hot targets t, whose zeros give -∞")
	})
}

// accuracyCases are the true classes CheckAccuracy tries on ExampleLogits,
// whose rows are predicted as classes 3, 0 and 1.
var accuracyCases = [][]int{ExampleClasses, {3, 1, 2}, {3, 0, 1}}

// CheckAccuracy checks accuracy on the probabilities of ExampleLogits with
// three sets of true classes (accuracies 2/3, 1/3 and 1).
func CheckAccuracy(accuracy func(y, t *graph.Node) *graph.Node) bool {
	return check("accuracy", func() (string, error) {
		f := studentcode.Guard2("accuracy", accuracy)
		var dims []int
		e := graph.MustNewExec(Backend(), func(z, t *graph.Node) *graph.Node {
			a := f(mnistfc.Softmax(z, mnistfc.SoftmaxRow), t)
			dims = a.Shape().Dimensions
			return graph.ConvertDType(a, dtypes.Float64)
		})
		defer e.Finalize()
		predicted := []int{3, 0, 1}
		for k, classes := range accuracyCases {
			outs, err := e.Call(ExampleLogits, studentcode.OneHot(classes, 4))
			if err != nil {
				return "", err
			}
			if len(dims) != 0 {
				return "", fmt.Errorf("it returns shape %v: the accuracy is one number, the share of examples predicted right", dims)
			}
			got, right := flat(outs[0])[0], 0
			for i := range classes {
				if classes[i] == predicted[i] {
					right++
				}
			}
			want := float64(right) / float64(len(classes))
			if k == 0 {
				fmt.Printf("accuracy of the 3×4 example, true classes %v: %.6f (want %.6f)\n", classes, got, want)
			}
			hints := []hint{
				{float64(right), "that is the number of examples predicted right: divide by N for their share"},
				{1 - want, "that is the share of examples predicted wrong"},
			}
			advice := fmt.Sprintf("the share of examples whose most probable class is the true one (true classes %v, most probable %v): "+
				"compare graph.ArgMax(y, 1) with graph.ArgMax(t, 1), along the classes", classes, predicted)
			if _, err := scalarCheck(got, want, hints, advice, "the accuracy is a share, from 0 to 1"); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("2/3, 1/3 and 1 on the example with %d sets of true classes", len(accuracyCases)), nil
	})
}

// hint is a wrong value a check recognises, and what it says about it.
type hint struct {
	value float64
	says  string
}

// scalarCheck compares a check's result with want: it passes within 1e-5
// (relative); a value near one of the hints fails with its words, another
// one with advice, a NaN or infinity with notFinite.
func scalarCheck(got, want float64, hints []hint, advice, notFinite string) (string, error) {
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-5*max(1, math.Abs(b)) }
	switch {
	case !finite.Is(got):
		return "", fmt.Errorf("it gives %v: %s", got, notFinite)
	case near(got, want):
		return fmt.Sprintf("%.6f as expected", got), nil
	}
	for _, h := range hints {
		if near(got, h.value) {
			return "", fmt.Errorf("it gives %.6f, want %.6f: %s", got, want, h.says)
		}
	}
	return "", fmt.Errorf("it gives %.6f, want %.6f: %s", got, want, advice)
}

// forwardImages is how many validation images CheckForward runs.
const forwardImages = 500

// CheckForward checks the network's forward pass, network(hidden).Logits,
// against the library's mnistfc.FullyConnected with the same weights (the
// original's initial weights) on validation images, for hidden sizes 100
// and 7: its variables (fc1 and fc2, as the original's layers), the shape
// of the logits [N, 10] and their values; then, when the network's softmax
// runs, its probabilities too.
func CheckForward(network func(hidden int) mnistfc.Network) bool {
	return check("forward", func() (string, error) {
		val := Data(mnistfc.DefaultConfig()).Validation
		pixels := make([]float32, 0, forwardImages*mnistfc.NumPixels)
		for i := range forwardImages {
			pixels = append(pixels, val.Image(i)...)
		}
		x := tensors.FromFlatDataAndDimensions(pixels, forwardImages, mnistfc.NumPixels)
		worst, note := 0.0, ""
		for _, hidden := range []int{100, 7} {
			net := studentcode.Network(studentcode.Guard("network", func() mnistfc.Network { return network(hidden) }))
			if net.Logits == nil {
				return "", fmt.Errorf("network(%d) has no Logits function", hidden)
			}
			initial := mnistfc.InitParams(mnistfc.InitTorch, hidden, 0).Weights()
			ours, declared, err := studentcode.Logits(Backend(), net, initial, x)
			if err != nil && hidden == 100 {
				return "", err
			} else if err != nil {
				return "", fmt.Errorf("with hidden = %d: %s", hidden, studentcode.Reason(err))
			}
			if want := weightNames(initial); !slices.Equal(declared, want) {
				return "", fmt.Errorf("with hidden = %d it declares the variables %s, want %s: two mnistfc.Linear layers in the scopes "+
					"scope.In(\"fc1\") (hidden units) and scope.In(\"fc2\") (mnistfc.NumClasses outputs), as the original's fc1 and fc2",
					hidden, strings.Join(declared, ", "), strings.Join(want, ", "))
			}
			if dims := ours.Shape().Dimensions; !slices.Equal(dims, []int{forwardImages, mnistfc.NumClasses}) {
				return "", fmt.Errorf("with hidden = %d it returns logits of shape %v, want [%d %d]: one logit per class for every image",
					hidden, dims, forwardImages, mnistfc.NumClasses)
			}
			library, _, err := studentcode.Logits(Backend(), mnistfc.FullyConnected(hidden), initial, x)
			if err != nil {
				return "", err
			}
			a, b := flat(ours), flat(library)
			d, _ := maxDiff(a, b)
			if d > 1e-4 {
				if p, err := exec1(func(z *graph.Node) *graph.Node { return mnistfc.Softmax(z, mnistfc.SoftmaxRow) }, library); err == nil {
					if dp, _ := maxDiff(a, flat(p)); dp <= 1e-4 {
						return "", errors.New("it returns probabilities: forward ends with the logits of fc2, and network applies the softmax")
					}
				}
				return "", fmt.Errorf("with hidden = %d its logits differ from the library's by up to %.3g (same weights): compute fc1, then sigmoid, then fc2 on its output", hidden, d)
			}
			worst = max(worst, d)
			if hidden != 100 {
				continue
			}
			note = probabilitiesNote(net, ours, library)
		}
		fmt.Printf("forward: logits of %d validation images, hidden sizes 100 and 7, against mnistfc.FullyConnected with the original's initial weights\n", forwardImages)
		return fmt.Sprintf("logits [%d %d], max |ours - library| = %.3g; %s", forwardImages, mnistfc.NumClasses, worst, note), nil
	})
}

// probabilitiesNote compares the probabilities of net's softmax on its
// logits ours with the library's on its logits library, and says how that
// went: the forward check does not fail for the softmax, which has its
// own check.
func probabilitiesNote(net mnistfc.Network, ours, library *tensors.Tensor) string {
	softmax := net.Softmax
	if softmax == nil {
		softmax = func(z *graph.Node) *graph.Node { return mnistfc.Softmax(z, mnistfc.SoftmaxRow) }
	}
	p, err := exec1(softmax, ours)
	if name := studentcode.Unwritten(err); name != "" {
		return "probabilities not compared until " + name + " is written"
	} else if err != nil {
		return "probabilities not compared: the network's softmax fails: " + studentcode.Reason(err)
	}
	want, err := exec1(func(z *graph.Node) *graph.Node { return mnistfc.Softmax(z, mnistfc.SoftmaxRow) }, library)
	if err != nil {
		return "probabilities not compared: " + studentcode.Reason(err)
	}
	if d, _ := maxDiff(flat(p), flat(want)); d > 1e-5 {
		return fmt.Sprintf("its probabilities differ from the library's by up to %.3g, which is the softmax's part (see its check)", d)
	}
	return "the probabilities match too"
}

// weightNames returns "name [dims]" of each weight.
func weightNames(ws mnistfc.Weights) []string {
	var names []string
	for _, w := range ws {
		names = append(names, fmt.Sprintf("%s %v", w.Name, w.Dims))
	}
	return names
}

// CheckGradient checks the gradient that training follows: GoMLX's
// automatic differentiation of the loss of network(4) (its forward pass,
// softmax and loss) with respect to a sample of each weight, against
// central finite differences, in float64 on 5 random images.
func CheckGradient(network func(hidden int) mnistfc.Network) bool {
	return check("gradient", func() (string, error) {
		const n, hidden, eps = 5, 4, 1e-6
		net := studentcode.Network(studentcode.Guard("network", func() mnistfc.Network { return network(hidden) }))
		rng := rand.New(rand.NewPCG(1, 2))
		pixels := make([]float64, n*mnistfc.NumPixels)
		for i := range pixels {
			pixels[i] = rng.NormFloat64() * 0.5
		}
		labels := make([]int32, n)
		for i := range labels {
			labels[i] = int32(rng.IntN(mnistfc.NumClasses))
		}
		x, t := tensors.FromFlatDataAndDimensions(pixels, n, mnistfc.NumPixels), tensors.FromValue(labels)
		store := model.NewStore()
		var names []string
		grads, err := model.CallOnceN(Backend(), store, func(scope *model.Scope, x, labels *graph.Node) []*graph.Node {
			_, grads, ns := studentcode.Gradient(net, scope, x, labels)
			names = ns
			return grads
		}, x, t)
		if err != nil {
			return "", err
		}
		lossExec, err := model.NewExec(Backend(), store, func(scope *model.Scope, x, labels *graph.Node) *graph.Node {
			// The pure-Go backend bakes the variables' values into a graph
			// that is not a training one; the weights change between calls.
			scope.SetTraining(x.Graph(), true)
			return studentcode.Loss(net, scope, x, labels)
		})
		if err != nil {
			return "", err
		}
		defer lossExec.Finalize()
		loss := func() (float64, error) {
			out, err := lossExec.Call(x, t)
			if err != nil {
				return 0, err
			}
			return flat(out[0])[0], nil
		}
		compared, worst := 0, 0.0
		for k, name := range names {
			v := store.GetVariable("/" + name)
			values, err := tensors.CopyFlatData[float64](Must(v.Value()))
			if err != nil {
				return "", err
			}
			dims := v.Shape().Dimensions
			analytic := flat(grads[k])
			for i := 0; i < len(values); i += 1 + len(values)/6 {
				at := func(delta float64) (float64, error) {
					changed := slices.Clone(values)
					changed[i] += delta
					if err := v.SetValue(tensors.FromFlatDataAndDimensions(changed, dims...)); err != nil {
						return 0, err
					}
					return loss()
				}
				up, err := at(eps)
				if err != nil {
					return "", err
				}
				down, err := at(-eps)
				if err != nil {
					return "", err
				}
				numeric := (up - down) / (2 * eps)
				diff := math.Abs(numeric - analytic[i])
				if !finite.Is(analytic[i]) || diff > 1e-5*max(1, math.Abs(numeric)) {
					return "", fmt.Errorf("∂loss/∂%s[%d] is %.6g by automatic differentiation (what training follows) but %.6g by finite differences: "+
						"look for graph.StopGradient, or operations without a useful gradient (ArgMax, comparisons, rounding), between the weights and the loss", name, i, analytic[i], numeric)
				}
				worst = max(worst, diff/max(1, math.Abs(numeric)))
				compared++
			}
			Must(0, v.SetValue(tensors.FromFlatDataAndDimensions(values, dims...)))
		}
		return fmt.Sprintf("automatic differentiation matches finite differences on %d weights of %s (float64, largest difference %.2g)",
			compared, strings.Join(names, ", "), worst), nil
	})
}

// CheckTraining trains network(100) for one epoch as the experiment with
// hidden size 100 and learning rate 0.1 starts (the original's initial
// weights, 51 steps of plain SGD) and checks that the training loss goes
// down and the validation accuracy ends well above chance.
func CheckTraining(network func(hidden int) mnistfc.Network) bool {
	return check("training", func() (string, error) {
		cfg := mnistfc.DefaultConfig()
		cfg.Epochs, cfg.Init, cfg.Backend = 1, mnistfc.InitTorch, BackendName()
		net := studentcode.Network(studentcode.Guard("network", func() mnistfc.Network { return network(cfg.HiddenDim) }))
		var losses []float64
		res, err := mnistfc.Train(context.Background(), cfg, mnistfc.WithData(Data(cfg)), mnistfc.WithNetwork(net), Progress("training check", 1),
			mnistfc.OnStep(func(s mnistfc.StepStats) { losses = append(losses, s.Loss) }))
		if err != nil {
			return "", err
		}
		if len(losses) == 0 || len(res.Epochs) == 0 {
			return "", errors.New("no training step ran")
		}
		first, last, ep := losses[0], losses[len(losses)-1], res.Epochs[0]
		fmt.Printf("training check: hidden 100, lr %g, one epoch of %d steps: loss %.4f at the first step, %.4f at the last; validation loss %.4f, accuracy %.4f\n",
			cfg.LearningRate, len(losses), first, last, ep.ValLoss, ep.ValAccuracy)
		switch {
		case res.Diverged || !finite.Is(first) || !finite.Is(last):
			return "", fmt.Errorf("the loss is not a finite number (%.4g at the first step, %.4g at the last): check softmax and crossEntropy for overflows and log(0)", first, last)
		case last > 0.8*first:
			return "", fmt.Errorf("the loss does not go down: %.4f at the first step, %.4f at the last of %d: check that network trains on crossEntropy of softmax's probabilities, and the gradient check",
				first, last, len(losses))
		case ep.ValAccuracy < 0.5:
			return "", fmt.Errorf("the validation accuracy after one epoch is %.4f, want at least 0.5 (the library's network reaches about 0.75)", ep.ValAccuracy)
		}
		return fmt.Sprintf("one epoch lowers the loss from %.3f to %.3f; validation accuracy %.3f", first, last, ep.ValAccuracy), nil
	})
}
