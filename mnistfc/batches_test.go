package mnistfc

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// checkNormaliseGraph: normalise, in a graph on the named backend, gives
// Normalise's values for every pixel value, on a dataset uploaded as the
// runs upload theirs: bit for bit (tol 0), or within tol.
func checkNormaliseGraph(t *testing.T, backendName string, tol float64) {
	t.Helper()
	backend, err := NewBackend(backendName)
	if err != nil {
		t.Fatal(err)
	}
	n := 1000
	d := &Dataset{Pixels: make([]uint8, n*NumPixels), Labels: make([]uint8, n)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(i * 7 / 5)
	}
	set, err := upload(backend, d)
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
