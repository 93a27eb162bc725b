package analysis

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mnistfc/mnistfc/mnistfc"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// randomData returns n examples of random pixels and labels.
func randomData(n int) *mnistfc.Dataset {
	r := rand.New(rand.NewPCG(1, 2))
	d := &mnistfc.Dataset{Pixels: make([]uint8, n*mnistfc.NumPixels), Labels: make([]uint8, n)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(r.IntN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(r.IntN(mnistfc.NumClasses))
	}
	return d
}

func randomLogits(n int, seed uint64) ([]Row, []uint8) {
	r := rand.New(rand.NewPCG(seed, 7))
	z, labels := make([]Row, n), make([]uint8, n)
	for i := range z {
		for c := range z[i] {
			z[i][c] = 4 * r.NormFloat64()
		}
		labels[i] = uint8(r.IntN(mnistfc.NumClasses))
	}
	return z, labels
}

// The float64 logits give the probabilities the library computes in
// float32 on a backend.
func TestLogitsMatchLibrary(t *testing.T) {
	p := mnistfc.InitParams(mnistfc.InitDefault, 20, 3)
	d := randomData(16)
	m := &mnistfc.Model{Network: mnistfc.FullyConnected(20), Weights: p.Weights(), BatchSize: 16}
	_, probs, err := m.Predict(d, "go")
	if err != nil {
		t.Fatal(err)
	}
	for n, row := range Logits(p, d) {
		e := stableExp(row)
		sum := 0.0
		for _, v := range e {
			sum += v
		}
		for c := range e {
			if got := float64(probs[n*mnistfc.NumClasses+c]); !near(e[c]/sum, got, 1e-5) {
				t.Fatalf("example %d, class %d: softmax of Logits %v, library %v", n, c, e[c]/sum, got)
			}
		}
	}
}

func TestEvalBatchSoftmax(t *testing.T) {
	z, labels := randomLogits(40, 1)
	for _, batch := range []int{1, 4, 10, 40} {
		ev := EvalBatchSoftmax(z, labels, batch)
		// Every batch is full here: the loss is ln(batch) + LogRatio, and each
		// class's column sums to 1 over a batch, so a row sums to 10/batch on average.
		if !near(ev.Loss, math.Log(float64(batch))+ev.LogRatio, 1e-9) || !near(ev.RowSum, 10/float64(batch), 1e-9) {
			t.Errorf("batch %d: loss %v vs ln(batch)+LogRatio %v; row sum %v, want %v", batch, ev.Loss, math.Log(float64(batch))+ev.LogRatio, ev.RowSum, 10/float64(batch))
		}
		if ev.PTrue <= 0 || ev.PTrue > 1 || ev.Accuracy < 0 || ev.Accuracy > 1 {
			t.Errorf("batch %d: PTrue %v, accuracy %v", batch, ev.PTrue, ev.Accuracy)
		}
	}
	// A batch of one: every y is 1, so the first class wins everywhere.
	zeros := 0
	for _, l := range labels {
		if l == 0 {
			zeros++
		}
	}
	if ev := EvalBatchSoftmax(z, labels, 1); ev.Loss != 0 || ev.PTrue != 1 || !near(ev.Accuracy, float64(zeros)/float64(len(z)), 1e-12) {
		t.Errorf("batches of 1: %+v, want loss 0, PTrue 1, accuracy %v", ev, float64(zeros)/float64(len(z)))
	}
	// A last, smaller batch is a batch of its own.
	whole := EvalBatchSoftmax(z[:30], labels[:30], 10)
	part := EvalBatchSoftmax(z[:30], labels[:30], 20) // 20, then 10.
	if whole == part {
		t.Error("batches of 10 and of 20+10 give the same numbers")
	}
}

func TestLogitAccuracy(t *testing.T) {
	z := []Row{{0, 1}, {2, 1}, {0, 0, 3}}
	if got := LogitAccuracy(z, []uint8{1, 1, 2}); !near(got, 2.0/3, 1e-12) {
		t.Errorf("LogitAccuracy = %v, want 2/3", got)
	}
}

func TestGradientCosine(t *testing.T) {
	// Equal logits, every class as often: the two gradients are the same.
	for _, perClass := range []int{1, 2} {
		var z []Row
		var labels []uint8
		for range perClass {
			for c := range mnistfc.NumClasses {
				z, labels = append(z, Row{}), append(labels, uint8(c))
			}
		}
		if got := GradientCosine(z, labels); !near(got, 1, 1e-12) {
			t.Errorf("%d per class, equal logits: cosine %v, want 1", perClass, got)
		}
	}
	z, labels := randomLogits(100, 2)
	if got := GradientCosine(z, labels); !(got > -1 && got < 0.999) {
		t.Errorf("random logits: cosine %v, want in (-1, 1)", got)
	}
}

func TestRelativeChange(t *testing.T) {
	if got := RelativeChange([]float32{3, 4}, []float32{0, 5}); !near(got, math.Sqrt(10)/5, 1e-7) {
		t.Errorf("RelativeChange = %v, want %v", got, math.Sqrt(10)/5)
	}
	if got := RelativeChange([]float32{1, 2}, []float32{1, 2}); got != 0 {
		t.Errorf("no change: %v", got)
	}
	if got := MaxAbsChange([]float32{1, -2, 3}, []float32{1.5, 1, 3}); got != 3 {
		t.Errorf("MaxAbsChange = %v, want 3", got)
	}
	if got := ClassShare([]uint8{0, 1, 0, 2}, 0); got != 0.5 {
		t.Errorf("ClassShare = %v, want 0.5", got)
	}
}

func TestConfusions(t *testing.T) {
	labels := []uint8{0, 0, 0, 1, 1, 2, 2, 2, 2}
	preds := []uint8{0, 1, 1, 1, 0, 2, 2, 2, 0}
	var cm [mnistfc.NumClasses][mnistfc.NumClasses]int
	for i := range labels {
		cm[labels[i]][preds[i]]++
	}
	got := MostConfused(cm)[:3]
	want := []Confusion{{0, 1, 2, 2.0 / 3}, {1, 0, 1, 0.5}, {2, 0, 1, 0.25}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MostConfused = %+v, want %+v", got, want)
	}
	if rates := ErrorRates(cm); !near(rates[0], 2.0/3, 1e-12) || rates[1] != 0.5 || rates[2] != 0.25 || rates[3] != 0 {
		t.Errorf("ErrorRates = %v", rates)
	}

	probs := make([]float32, len(labels)*mnistfc.NumClasses)
	for i, p := range preds {
		probs[i*mnistfc.NumClasses+int(p)] = 0.5 + float32(i)/20 // Later examples are surer.
	}
	wrong, conf := Mistakes(labels, preds, probs)
	if !reflect.DeepEqual(wrong, []int{8, 4, 2, 1}) || conf[0] != float64(probs[8*mnistfc.NumClasses]) {
		t.Errorf("Mistakes = %v %v, want [8 4 2 1], most confident first", wrong, conf)
	}
	right, bad := MeanConfidence(labels, preds, probs)
	if !near(right, (0.5+0.65+0.75+0.8+0.85)/5, 1e-6) || !near(bad, (0.55+0.6+0.7+0.9)/4, 1e-6) {
		t.Errorf("MeanConfidence = %v, %v", right, bad)
	}
}
