// Package analysis holds the computations of the analysis notebook
// (notebooks/analysis.ipynb), apart from its cells so that they are tested:
// the two-layer network's logits recomputed in float64, the original's batch
// softmax applied to them batch by batch, how far weights moved, and the
// most confused classes of a model.
//
// Training, evaluation on a backend and plots come from the mnistfc,
// notebook and plotting packages; this package only does arithmetic on the
// host.
//
//	z := analysis.Logits(params, data.Test)
//	ev := analysis.EvalBatchSoftmax(z, data.Test.Labels, 1000)
//	fmt.Println(ev.Loss, math.Log(1000)+ev.LogRatio) // equal for full batches
package analysis

import (
	"cmp"
	"math"
	"slices"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// Row is one example's logits (or probabilities) over the classes.
type Row = [mnistfc.NumClasses]float64

// Logits returns z = W2·σ(W1·x + b1) + b2 of the network
// mnistfc.FullyConnected with weights p for every example of d, computed in
// float64 on the host: the numbers the notebook studies the softmax on,
// free of float32 rounding.
func Logits(p *mnistfc.Params, d *mnistfc.Dataset) []Row {
	z := make([]Row, d.Len())
	h := make([]float64, p.Hidden)
	for n := range z {
		x := d.Image(n)
		for j := range h {
			w := p.HiddenUnitWeights(j)
			s := float64(p.B1[j])
			for i, v := range x {
				s += float64(w[i]) * float64(v)
			}
			h[j] = 1 / (1 + math.Exp(-s))
		}
		for c := range mnistfc.NumClasses {
			s := float64(p.B2[c])
			for j, v := range h {
				s += float64(p.W2[c*p.Hidden+j]) * v
			}
			z[n][c] = s
		}
	}
	return z
}

// argmax returns the first class with the largest value.
func argmax(v Row) int {
	best := 0
	for c := range v {
		if v[c] > v[best] {
			best = c
		}
	}
	return best
}

// stableExp returns e[c] = exp(z[c] - max(z)) of one row.
func stableExp(z Row) Row {
	m := z[argmax(z)]
	var e Row
	for c := range e {
		e[c] = math.Exp(z[c] - m)
	}
	return e
}

// BatchEval is what the original's batch softmax gives on a data set cut
// into consecutive batches: each class's exponentials divided by their sum
// over the batch, y[n][c] = e[n][c] / Σ_k e[k][c].
type BatchEval struct {
	Loss     float64 // Mean of -ln y[n][true].
	LogRatio float64 // Mean of ln(mean_k e[k][true] / e[n][true]): Loss = ln(batch) + LogRatio when every batch is full.
	PTrue    float64 // Mean of y[n][true].
	RowSum   float64 // Mean of Σ_c y[n][c] (1 for a real softmax).
	Accuracy float64 // Share of examples whose largest y[n][c] is the true class.
}

// EvalBatchSoftmax applies the original's batch softmax to the logits z in
// consecutive batches of the given size (the last may be smaller).
func EvalBatchSoftmax(z []Row, labels []uint8, batch int) BatchEval {
	var ev BatchEval
	for lo := 0; lo < len(z); lo += batch {
		hi := min(lo+batch, len(z))
		e := make([]Row, hi-lo)
		var colSum Row
		for k := lo; k < hi; k++ {
			e[k-lo] = stableExp(z[k])
			for c := range colSum {
				colSum[c] += e[k-lo][c]
			}
		}
		for k := lo; k < hi; k++ {
			t := int(labels[k])
			var y Row
			for c := range y {
				y[c] = e[k-lo][c] / colSum[c]
				ev.RowSum += y[c]
			}
			ev.Loss -= math.Log(y[t])
			ev.LogRatio += math.Log(colSum[t] / float64(hi-lo) / e[k-lo][t])
			ev.PTrue += y[t]
			if argmax(y) == t {
				ev.Accuracy++
			}
		}
	}
	n := float64(len(z))
	return BatchEval{ev.Loss / n, ev.LogRatio / n, ev.PTrue / n, ev.RowSum / n, ev.Accuracy / n}
}

// LogitAccuracy returns the share of examples whose largest logit is the
// true class: the accuracy of the correct (row) softmax.
func LogitAccuracy(z []Row, labels []uint8) float64 {
	hits := 0
	for n := range z {
		if argmax(z[n]) == int(labels[n]) {
			hits++
		}
	}
	return float64(hits) / float64(len(z))
}

// GradientCosine returns the cosine between the gradients, with respect to
// the logits z of one batch, of the batch softmax's loss, N_c·y[n][c] -
// t[n][c] (N_c: examples of class c in the batch; row maxima held fixed),
// and of the row softmax's, p[n][c] - t[n][c]: how much the two losses
// push the logits the same way.
func GradientCosine(z []Row, labels []uint8) float64 {
	var colSum, count Row
	e := make([]Row, len(z))
	for k := range z {
		e[k] = stableExp(z[k])
		for c := range colSum {
			colSum[c] += e[k][c]
		}
		count[labels[k]]++
	}
	var dot, nb, nr float64
	for k := range z {
		rowSum := 0.0
		for _, v := range e[k] {
			rowSum += v
		}
		for c := range mnistfc.NumClasses {
			t := 0.0
			if int(labels[k]) == c {
				t = 1
			}
			gb := count[c]*e[k][c]/colSum[c] - t
			gr := e[k][c]/rowSum - t
			dot, nb, nr = dot+gb*gr, nb+gb*gb, nr+gr*gr
		}
	}
	return dot / math.Sqrt(nb*nr)
}

// RelativeChange returns ‖w - w0‖ / ‖w0‖: how far weights moved from where
// they started, relative to their size then.
func RelativeChange(w, w0 []float32) float64 {
	var diff, norm float64
	for i := range w0 {
		d := float64(w[i] - w0[i])
		diff += d * d
		norm += float64(w0[i]) * float64(w0[i])
	}
	return math.Sqrt(diff / norm)
}

// Confusion counts, for a confusion matrix cm[true][predicted], one
// off-diagonal cell.
type Confusion struct {
	True, Pred int
	Count      int
	Share      float64 // Count over the number of examples of the true class.
}

// MostConfused returns the off-diagonal cells of the confusion matrix cm,
// most frequent first (ties in row-major order).
func MostConfused(cm [mnistfc.NumClasses][mnistfc.NumClasses]int) []Confusion {
	var pairs []Confusion
	for t, row := range cm {
		total := 0
		for _, n := range row {
			total += n
		}
		for p, n := range row {
			if p != t {
				pairs = append(pairs, Confusion{t, p, n, float64(n) / float64(max(total, 1))})
			}
		}
	}
	slices.SortStableFunc(pairs, func(a, b Confusion) int { return cmp.Compare(b.Count, a.Count) })
	return pairs
}

// ErrorRates returns, for each true class, the share of its examples that
// the confusion matrix cm counts as predicted wrong.
func ErrorRates(cm [mnistfc.NumClasses][mnistfc.NumClasses]int) []float64 {
	rates := make([]float64, mnistfc.NumClasses)
	for t, row := range cm {
		total := 0
		for _, n := range row {
			total += n
		}
		rates[t] = float64(total-row[t]) / float64(max(total, 1))
	}
	return rates
}

// Mistakes returns the examples whose prediction is wrong, the most
// confident first, with the probability the model gave its prediction
// (probs: NumClasses per example).
func Mistakes(labels, preds []uint8, probs []float32) (wrong []int, confidence []float64) {
	conf := func(i int) float64 { return float64(probs[i*mnistfc.NumClasses+int(preds[i])]) }
	for i := range labels {
		if preds[i] != labels[i] {
			wrong = append(wrong, i)
		}
	}
	slices.SortStableFunc(wrong, func(a, b int) int { return cmp.Compare(conf(b), conf(a)) })
	confidence = make([]float64, len(wrong))
	for k, i := range wrong {
		confidence[k] = conf(i)
	}
	return wrong, confidence
}

// MeanConfidence returns the mean probability the model gave its
// prediction, over the right and over the wrong predictions.
func MeanConfidence(labels, preds []uint8, probs []float32) (right, wrong float64) {
	var nRight, nWrong int
	for i := range labels {
		c := float64(probs[i*mnistfc.NumClasses+int(preds[i])])
		if preds[i] == labels[i] {
			right, nRight = right+c, nRight+1
		} else {
			wrong, nWrong = wrong+c, nWrong+1
		}
	}
	return right / float64(max(nRight, 1)), wrong / float64(max(nWrong, 1))
}

// MaxAbsChange returns the largest |w[i] - w0[i]|.
func MaxAbsChange(w, w0 []float32) float64 {
	m := 0.0
	for i := range w0 {
		m = max(m, math.Abs(float64(w[i]-w0[i])))
	}
	return m
}

// ClassShare returns the share of labels equal to class.
func ClassShare(labels []uint8, class uint8) float64 {
	n := 0
	for _, l := range labels {
		if l == class {
			n++
		}
	}
	return float64(n) / float64(max(len(labels), 1))
}
