package grading

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute"

	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/internal/finite"
	"github.com/mnistfc/mnistfc/internal/studentcode"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// A Verdict is the grader's decision on one check.
type Verdict struct {
	Check    string `json:"check"`
	Exercise string `json:"exercise"`
	Passed   bool   `json:"passed"`
	Message  string `json:"message"`
}

// Judge compares what a submission's program observed (its lines, in any
// order; the first line of a check counts, a check without one fails) with
// the library's answers on the Case of seed, and returns a Verdict per
// check, in the order of Checks. It never runs a submission's code.
func Judge(seed uint64, observed []Observation) ([]Verdict, error) {
	c := NewCase(seed)
	backend, err := backends.New(Backend)
	if err != nil {
		return nil, err
	}
	first := map[string]*Observation{}
	for i := range observed {
		if o := &observed[i]; first[o.Check] == nil {
			first[o.Check] = o
		}
	}
	var verdicts []Verdict
	for _, ch := range Checks {
		v := Verdict{Check: ch.Check, Exercise: ch.Exercise}
		o := first[ch.Check]
		switch {
		case o == nil:
			v.Message = "the submission's program stopped before this check reported"
		case o.Error == errMissing.Error():
			v.Message = fmt.Sprintf("%s is missing, or does not compile", ch.Function)
		case o.Error != "":
			v.Message = o.Error
		default:
			msg, err := judges[ch.Check](backend, c, o)
			if err != nil {
				v.Message = err.Error()
			} else {
				v.Passed, v.Message = true, msg
			}
		}
		verdicts = append(verdicts, v)
	}
	return verdicts, nil
}

type judge func(compute.Backend, *Case, *Observation) (string, error)

var judges = map[string]judge{
	"sigmoid":       judgeSigmoid,
	"softmax":       judgeSoftmax,
	"cross-entropy": judgeCrossEntropy,
	"accuracy":      judgeAccuracy,
	"forward":       judgeForward,
	"gradient":      judgeGradient,
	"training":      judgeTraining,
}

func judgeSigmoid(_ compute.Backend, c *Case, o *Observation) (string, error) {
	n := len(c.SigmoidX)
	y, err := output(o, "y", []int{n}, "apply σ to each element: the same shape as x")
	if err != nil {
		return "", err
	}
	dy, err := output(o, "dy", []int{n}, "")
	if err != nil {
		return "", err
	}
	worst := 0.0
	for i, x := range c.SigmoidX {
		want := 1 / (1 + math.Exp(-float64(x)))
		if !finite.Is(y[i]) {
			return "", fmt.Errorf("σ(%g) = %v: e^(-x) overflows float32 for large |x|; compute it from e^(-|x|)", x, y[i])
		}
		if d := math.Abs(y[i] - want); d > 1e-6+1e-5*want {
			hint := ""
			if math.Abs(y[i]-(1-want)) <= 1e-6+1e-5*want {
				hint = ": that is σ(-x) = 1/(1+e^x); check the sign of the exponent"
			}
			return "", fmt.Errorf("σ(%g) = %.6g, want %.6g%s", x, y[i], want, hint)
		}
		worst = max(worst, math.Abs(y[i]-want))
		if i >= c.SmoothN {
			continue // The derivative is compared where e^(-x) is a float32.
		}
		if slope := want * (1 - want); !(math.Abs(dy[i]-slope) <= 1e-6+1e-3*slope) {
			return "", fmt.Errorf("σ'(%g) = %.6g by automatic differentiation, want σ(x)(1-σ(x)) = %.6g: σ is right but its graph does not differentiate "+
				"to its slope; avoid graph.StopGradient and operations without a gradient", x, dy[i], slope)
		}
	}
	return fmt.Sprintf("σ at %d points from %g to %g within %.2g; σ' matches σ(1-σ) at the %d points in [-8, 8]",
		n, slices.Min(c.SigmoidX), slices.Max(c.SigmoidX), worst, c.SmoothN), nil
}

func judgeSoftmax(_ compute.Backend, c *Case, o *Observation) (string, error) {
	rows, cols := len(c.Logits), len(c.Logits[0])
	p, err := output(o, "p", []int{rows, cols}, "one probability per logit: the same shape as the logits")
	if err != nil {
		return "", err
	}
	dp, err := output(o, "dp", []int{rows, cols}, "")
	if err != nil {
		return "", err
	}
	want, slope := make([]float64, rows*cols), make([]float64, rows*cols)
	rowSums, colSums := make([]float64, rows), make([]float64, cols)
	for i, z := range c.Logits {
		top, sum := float64(slices.Max(z)), 0.0
		for j, v := range z {
			want[i*cols+j] = math.Exp(float64(v) - top)
			sum += want[i*cols+j]
		}
		wp := 0.0
		for j := range z {
			want[i*cols+j] /= sum
			wp += float64(c.SoftmaxWeights[i][j]) * want[i*cols+j]
		}
		for j := range z {
			slope[i*cols+j] = want[i*cols+j] * (float64(c.SoftmaxWeights[i][j]) - wp)
			rowSums[i] += p[i*cols+j]
			colSums[j] += p[i*cols+j]
		}
	}
	near1 := func(v []float64) bool {
		return !slices.ContainsFunc(v, func(x float64) bool { return !(math.Abs(x-1) <= 1e-4) })
	}
	switch {
	case slices.ContainsFunc(p, func(v float64) bool { return !finite.Is(v) }):
		return "", fmt.Errorf("softmax of logits %v has values that are not finite numbers", c.Logits)
	case !near1(rowSums) && near1(colSums):
		return "", fmt.Errorf("on logits of shape [%d %d] each column sums to 1, not each row: that normalises every class over the batch, "+
			"the original notebook's bug; divide each row by its own sum, over axis 1", rows, cols)
	case !near1(rowSums):
		return "", fmt.Errorf("on logits of shape [%d %d] the rows sum to %.4f, want 1 each", rows, cols, rowSums)
	}
	if i, d := worstDiff(p, want, 1e-6, 1e-4); i >= 0 {
		return "", fmt.Errorf("softmax(z) row %d is %.4f, want %.4f (difference %.2g) for the logits %.3f", i/cols, p[i/cols*cols:i/cols*cols+cols],
			want[i/cols*cols:i/cols*cols+cols], d, c.Logits[i/cols])
	}
	if i, d := worstDiff(dp, slope, 1e-6, 1e-3); i >= 0 {
		return "", fmt.Errorf("the gradient of Σ w·softmax(z) with respect to z[%d][%d] is %.6g by automatic differentiation, want %.6g (difference %.2g): "+
			"the values are right but the graph does not differentiate to them; avoid graph.StopGradient", i/cols, i%cols, dp[i], slope[i], d)
	}
	return fmt.Sprintf("softmax of random logits [%d %d]: every row sums to 1, values and gradient match", rows, cols), nil
}

func judgeCrossEntropy(_ compute.Backend, c *Case, o *Observation) (string, error) {
	rows, cols := len(c.Probs), len(c.Probs[0])
	loss, err := scalar(o, "loss", "the loss is one number, -Σ t·ln(y) summed over the classes and averaged over the examples")
	if err != nil {
		return "", err
	}
	dloss, err := output(o, "dloss", []int{rows, cols}, "")
	if err != nil {
		return "", err
	}
	want, slope := 0.0, make([]float64, rows*cols)
	n := float64(rows)
	for i, k := range c.Classes {
		want -= math.Log(float64(c.Probs[i][k])) / n
		slope[i*cols+k] = -1 / (n * float64(c.Probs[i][k]))
	}
	if !(math.Abs(loss-want) <= 1e-5*max(1, want)) {
		hint := ""
		switch {
		case math.Abs(loss-n*want) <= 1e-5*n*want:
			hint = fmt.Sprintf(": that is N = %d times too large; divide the sum by the batch size", rows)
		case math.Abs(loss+want) <= 1e-5*want:
			hint = ": that has the wrong sign; the loss is -Σ t·ln(y) / N, a positive number"
		case !finite.Is(loss):
			hint = ": take the log of the probabilities y, not of the one-hot targets t"
		}
		return "", fmt.Errorf("on %d examples of %d classes (true classes %v) it gives %.6g, want %.6g, the mean of -ln(probability of the true class)%s",
			rows, cols, c.Classes, loss, want, hint)
	}
	if i, d := worstDiff(dloss, slope, 1e-5, 1e-3); i >= 0 {
		return "", fmt.Errorf("∂loss/∂y[%d][%d] is %.6g by automatic differentiation, want %.6g (difference %.2g): the value is right but its graph does not "+
			"differentiate to it", i/cols, i%cols, dloss[i], slope[i], d)
	}
	return fmt.Sprintf("%.6f on %d examples of %d classes, and its gradient with respect to y, match", loss, rows, cols), nil
}

func judgeAccuracy(_ compute.Backend, c *Case, o *Observation) (string, error) {
	for k, classes := range c.AccuracyClasses {
		got, err := scalar(o, fmt.Sprintf("accuracy%d", k), "the accuracy is one number, the share of examples predicted right")
		if err != nil {
			return "", err
		}
		right := 0
		for i, p := range c.Probs {
			if argmax(p) == classes[i] {
				right++
			}
		}
		want := float64(right) / float64(len(classes))
		if !(math.Abs(got-want) <= 1e-6) {
			hint := ""
			switch {
			case math.Abs(got-float64(right)) <= 1e-6:
				hint = ": that is the number of examples predicted right; divide by N for their share"
			case math.Abs(got-(1-want)) <= 1e-6:
				hint = ": that is the share of examples predicted wrong"
			}
			return "", fmt.Errorf("with true classes %v, whose most probable classes are %v, it gives %.6g, want %d/%d = %.6g%s",
				classes, predictedClasses(c.Probs), got, right, len(classes), want, hint)
		}
	}
	return fmt.Sprintf("right on %d sets of true classes for %d examples", len(c.AccuracyClasses), len(c.Probs)), nil
}

func predictedClasses(probs [][]float32) []int {
	out := make([]int, len(probs))
	for i, p := range probs {
		out[i] = argmax(p)
	}
	return out
}

func judgeForward(b compute.Backend, c *Case, o *Observation) (string, error) {
	ref, names, err := studentcode.Logits(b, mnistfc.FullyConnected(c.Hidden), c.Params.Weights(), c.Images)
	if err != nil {
		return "", fmt.Errorf("the grader's reference: %w", err)
	}
	if !slices.Equal(o.Names, names) {
		return "", fmt.Errorf("with hidden = %d it declares the variables %s, want %s: two mnistfc.Linear layers in the scopes "+
			"scope.In(\"fc1\") (hidden units) and scope.In(\"fc2\") (mnistfc.NumClasses outputs)", c.Hidden, strings.Join(o.Names, ", "), strings.Join(names, ", "))
	}
	want, err := float64Values(ref)
	if err != nil {
		return "", err
	}
	got, err := output(o, "logits", want.Dims, "one logit per class for every image")
	if err != nil {
		return "", err
	}
	if i, d := worstDiff(got, want.Values, 1e-4, 1e-4); i >= 0 {
		return "", fmt.Errorf("with hidden = %d, image %d's logits differ from the library's by %.3g (same weights): compute fc1, then sigmoid, then fc2 "+
			"on its output, and return fc2's output (the logits, not probabilities)", c.Hidden, i/mnistfc.NumClasses, d)
	}
	return fmt.Sprintf("logits of %d random images with hidden = %d and random weights match the library's", len(c.Images), c.Hidden), nil
}

func judgeGradient(b compute.Backend, c *Case, o *Observation) (string, error) {
	loss, grads, names, err := Gradient(b, mnistfc.FullyConnected(c.Hidden), c.Params.Weights(), c.Images, c.Labels)
	if err != nil {
		return "", fmt.Errorf("the grader's reference: %w", err)
	}
	if !slices.Equal(sorted(o.Names), sorted(names)) {
		return "", fmt.Errorf("the loss depends on the weights %s, want %s", strings.Join(o.Names, ", "), strings.Join(names, ", "))
	}
	want, err := float64Values(loss)
	if err != nil {
		return "", err
	}
	got, err := scalar(o, "loss", "the loss is one number")
	if err != nil {
		return "", err
	}
	if !(math.Abs(got-want.Values[0]) <= 1e-4*max(1, want.Values[0])) {
		return "", fmt.Errorf("the loss of network(%d) on %d random images is %.6g, want %.6g: check forward, softmax and crossEntropy", c.Hidden, len(c.Images), got, want.Values[0])
	}
	for k, name := range names {
		w, err := float64Values(grads[k])
		if err != nil {
			return "", err
		}
		g, err := output(o, "d/"+name, w.Dims, "")
		if err != nil {
			return "", err
		}
		scale := 0.0
		for _, v := range w.Values {
			scale = max(scale, math.Abs(v))
		}
		if i, d := worstDiff(g, w.Values, 1e-6+1e-3*scale, 0); i >= 0 {
			return "", fmt.Errorf("∂loss/∂%s[%d] is %.6g by automatic differentiation (what training follows), want %.6g (difference %.2g): look for graph.StopGradient, "+
				"or operations without a useful gradient, between the weights and the loss", name, i, g[i], w.Values[i], d)
		}
	}
	return fmt.Sprintf("loss %.4f and its gradient with respect to %s match the library's (hidden = %d, random weights and images)", got, strings.Join(names, ", "), c.Hidden), nil
}

func judgeTraining(_ compute.Backend, c *Case, o *Observation) (string, error) {
	want, err := TrainingLosses(c, mnistfc.FullyConnected(c.Hidden))
	if err != nil {
		return "", fmt.Errorf("the grader's reference: %w", err)
	}
	got, err := output(o, "losses", []int{len(want)}, fmt.Sprintf("one loss per step, %d steps", len(want)))
	if err != nil {
		return "", err
	}
	for i := range want {
		if !(math.Abs(got[i]-want[i]) <= 1e-3*max(1, want[i])) {
			return "", fmt.Errorf("step %d of SGD (lr %g, batches of %d) has loss %.6g, want %.6g", i+1, trainLR, trainBatch, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d steps of SGD follow the library's losses, %.4f to %.4f", len(want), want[0], want[len(want)-1]), nil
}

// output returns the values of output name of o, checking its dimensions.
func output(o *Observation, name string, dims []int, what string) ([]float64, error) {
	v, ok := o.Outputs[name]
	if !ok {
		return nil, fmt.Errorf("the submission's program did not report %q", name)
	}
	if !slices.Equal(v.Dims, dims) || len(v.Values) != shapeSize(dims) {
		if what == "" {
			what = "the shape of the input"
		}
		return nil, fmt.Errorf("it returns shape %v, want %v: %s", v.Dims, dims, what)
	}
	return v.Values, nil
}

// scalar returns output name of o, which must hold one number.
func scalar(o *Observation, name, what string) (float64, error) {
	v, ok := o.Outputs[name]
	if !ok {
		return 0, fmt.Errorf("the submission's program did not report %q", name)
	}
	if len(v.Values) != 1 || shapeSize(v.Dims) != 1 {
		return 0, fmt.Errorf("it returns shape %v: %s", v.Dims, what)
	}
	return v.Values[0], nil
}

func shapeSize(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// worstDiff returns the index and size of the largest difference of got
// from want beyond abs + rel·|want| (a NaN is beyond any), or -1.
func worstDiff(got, want []float64, abs, rel float64) (int, float64) {
	at, worst := -1, 0.0
	for i := range want {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > abs+rel*math.Abs(want[i]) && d > worst {
			at, worst = i, d
		}
	}
	return at, worst
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
