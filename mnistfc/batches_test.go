package mnistfc

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/mnistfc/mnistfc/internal/backends"
)

// checkNormaliseGraph: normalise, in a graph on the named backend, gives
// Normalise's values for every pixel value, on a dataset uploaded as the
// runs upload theirs: bit for bit (tol 0), or within tol.
func checkNormaliseGraph(t *testing.T, backendName string, tol float64) {
	t.Helper()
	backend, err := backends.New(backendName)
	if err != nil {
		t.Fatal(err)
	}
	n := 1000
	d := &Dataset{Pixels: make([]uint8, n*NumPixels), Labels: make([]uint8, n)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(i * 7 / 5)
	}
	set, err := upload(backend, d, d.Len())
	if err != nil {
		t.Fatal(err)
	}
	defer set.free()
	exec, err := graph.NewExec(backend, normalise)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out := exec.MustExec(set.x)[0]
	got := tensors.MustCopyFlatData[float32](out)
	out.FinalizeAll()
	inexact := 0
	for i, v := range got {
		want := Normalise(d.Pixels[i])
		if v == want {
			continue
		}
		inexact++
		if math.Abs(float64(v)-float64(want)) > tol {
			t.Fatalf("%s: pixel value %d: the graph gives %v, Normalise %v (tolerance %g)", backendName, d.Pixels[i], v, want, tol)
		}
	}
	t.Logf("%s: %d of %d values differ from Normalise's, within %g", backendName, inexact, len(got), tol)
}

func TestNormaliseGraph(t *testing.T) { checkNormaliseGraph(t, "go", 0) }

// A set uploaded with padding rows (as validation and test sets are, to
// share one evaluation graph) evaluates as it does without them, with a
// smaller last batch too.
func TestEvaluatePaddedSet(t *testing.T) {
	full := officialData(t)
	d := full.Test.Subset(identity(2500))
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	eval, err := newEvaluatorFor(backend, FullyConnected(20), InitParams(InitDefault, 20, 1).Weights(), SoftmaxRow)
	if err != nil {
		t.Fatal(err)
	}
	defer eval.finalize()
	type result struct {
		loss, acc float64
		probs     []float32
	}
	var results []result
	for _, rows := range []int{d.Len(), d.Len() + 700} {
		set, err := upload(backend, d, rows)
		if err != nil {
			t.Fatal(err)
		}
		loss, acc, probs, err := eval.evaluate(set, 1000, PhaseTest, nil)
		set.free()
		if err != nil {
			t.Fatalf("%d rows: %v", rows, err)
		}
		results = append(results, result{loss, acc, probs})
	}
	a, b := results[0], results[1]
	if a.loss != b.loss || a.acc != b.acc || !slices.Equal(a.probs, b.probs) {
		t.Errorf("with padding: loss %v, accuracy %v, %d probabilities; without: %v, %v, %d", b.loss, b.acc, len(b.probs), a.loss, a.acc, len(a.probs))
	}
	if len(a.probs) != d.Len()*NumClasses {
		t.Errorf("%d probabilities for %d examples", len(a.probs), d.Len())
	}
}
