package torchcompat

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// torchGolden is what this package checks of testdata/torch_golden.json,
// written by PyTorch through `make torch-golden` (bench/torch_reference.py
// --golden): what the original notebook's code draws on the CPU with seed
// 0 and hidden size 100, with the fixed split "first 51000 training images
// train, last 9000 validate". mnistfc's golden test reads its training
// steps.
type torchGolden struct {
	GeneratedBy   string                  `json:"generated_by"`
	Torch         string                  `json:"torch"`
	CPUCapability string                  `json:"cpu_capability"`
	Seed          uint64                  `json:"seed"`
	Hidden        int                     `json:"hidden"`
	NTrain        int                     `json:"n_train"`
	Init          map[string]goldenTensor `json:"init"`
	Orders        []goldenOrder           `json:"orders"`
}

type goldenTensor struct {
	Shape  []int     `json:"shape"`
	SHA256 string    `json:"sha256"` // Of the float32 values, little-endian.
	First  []float64 `json:"first"`
	Last   []float64 `json:"last"`
}

type goldenOrder struct {
	Epoch  int    `json:"epoch"`
	N      int    `json:"n"`
	SHA256 string `json:"sha256"` // Of the indices as int64, little-endian.
	First  []int  `json:"first"`
	Last   []int  `json:"last"`
}

func loadTorchGolden(t *testing.T) *torchGolden {
	t.Helper()
	raw, err := os.ReadFile("testdata/torch_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g torchGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("testdata/torch_golden.json: %v", err)
	}
	if len(g.Init) != 4 || len(g.Orders) == 0 {
		t.Fatalf("testdata/torch_golden.json is incomplete; regenerate it with: %s", g.GeneratedBy)
	}
	return &g
}

// noFMA tells whether the golden file's PyTorch ran its kernels for the
// "default" CPU capability, whose uniform_ does not fuse the multiply-add:
// PyTorch 2.x calls it "DEFAULT", 1.13 "NO AVX".
func (g *torchGolden) noFMA() bool {
	return g.CPUCapability == "DEFAULT" || g.CPUCapability == "NO AVX"
}

// generator is the generator the golden file's PyTorch used.
func (g *torchGolden) generator() *Generator {
	tg := NewGenerator(g.Seed)
	tg.NoFMA = g.noFMA()
	return tg
}

func sha256Float32(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sha256Int64(v []int) string {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestGeneratorStream checks the Mersenne Twister and the 64-bit draws
// against known outputs: C++'s std::mt19937 reference value (the 10000th
// output with the default seed 5489 is 4123659995) and values printed by
// PyTorch 1.13 and 2.15.
func TestGeneratorStream(t *testing.T) {
	g := NewGenerator(5489)
	var v uint32
	for range 10000 {
		v = g.Random()
	}
	if v != 4123659995 {
		t.Errorf("10000th mt19937 output for seed 5489 = %d, want 4123659995", v)
	}
	// torch.manual_seed(0); torch.empty((), dtype=torch.int64).random_()
	if got := NewGenerator(0).RandomInt64(); got != 900450186894289455 {
		t.Errorf("first int64 random_() after manual_seed(0) = %d, want 900450186894289455", got)
	}
	// PyTorch seeds mt19937 with the low 32 bits of the seed only:
	// torch.Generator().manual_seed(2**40 + 7); torch.randperm(10, generator=g).
	want := []int{5, 0, 3, 4, 1, 7, 9, 6, 8, 2}
	if got := NewGenerator(1<<40 + 7).Randperm(10); !slices.Equal(got, want) {
		t.Errorf("randperm(10) after manual_seed(2**40+7) = %v, want %v", got, want)
	}
	if a, b := NewGenerator(1<<40+7).Random64(), NewGenerator(7).Random64(); a != b {
		t.Errorf("seeds 2^40+7 and 7 give %d and %d, want the same stream", a, b)
	}
	// Random64 is two 32-bit draws, the first in the high half.
	g1, g2 := NewGenerator(3), NewGenerator(3)
	hi, lo := g1.Random(), g1.Random()
	if got := g2.Random64(); got != uint64(hi)<<32|uint64(lo) {
		t.Errorf("Random64 = %#x, want %#x<<32|%#x", got, hi, lo)
	}
}

// TestRandperm: torch.Generator().manual_seed(12345); torch.randperm(51000, generator=g),
// as printed by PyTorch 1.13 and 2.15, and a permutation for small sizes.
func TestRandperm(t *testing.T) {
	p := NewGenerator(12345).Randperm(51000)
	wantFirst := []int{33690, 45347, 31975, 8580, 48244, 34482, 4090, 46414, 24973, 44603}
	if !slices.Equal(p[:10], wantFirst) {
		t.Errorf("randperm(51000) starts %v, want %v", p[:10], wantFirst)
	}
	if got, want := sha256Int64(p), "1a2da75034d35d913d95070dd695ac43bd6dd8aa27bbfa08017c411e4cad94f9"; got != want {
		t.Errorf("randperm(51000) SHA-256 %s, want PyTorch's %s", got, want)
	}
	for _, n := range []int{0, 1, 2, 7, 1000} {
		p := NewGenerator(uint64(n)).Randperm(n)
		s := slices.Clone(p)
		slices.Sort(s)
		for i, v := range s {
			if v != i {
				t.Fatalf("Randperm(%d) = %v is not a permutation", n, p)
			}
		}
	}
}

// TestKaimingUniformBound: kaiming_uniform_(a=√5)'s bound is 1/sqrt(fan_in)
// up to the rounding of PyTorch's float64 formula.
func TestKaimingUniformBound(t *testing.T) {
	for _, fanIn := range []int{784, 100, 5, 1} {
		got, want := kaimingUniformBound(fanIn), 1/math.Sqrt(float64(fanIn))
		if math.Abs(got-want) > 1e-15*want {
			t.Errorf("fan_in %d: bound %v, want about %v", fanIn, got, want)
		}
	}
}

// initialWeights returns what the original's two layers draw from g:
// nn.Linear(784, hidden), then nn.Linear(hidden, 10).
func initialWeights(g *Generator, hidden int) map[string][]float32 {
	w1, b1 := g.Linear(784, hidden)
	w2, b2 := g.Linear(hidden, 10)
	return map[string][]float32{"W1": w1, "B1": b1, "W2": w2, "B2": b2}
}

// TestLinearGolden: the initial weights are PyTorch's, bit for bit (max
// |diff| = 0: the SHA-256 of every tensor's float32 bytes is equal), and
// the generator is left where PyTorch's is (the epoch orders below follow).
func TestLinearGolden(t *testing.T) {
	golden := loadTorchGolden(t)
	tensors := initialWeights(golden.generator(), golden.Hidden)
	for _, name := range []string{"W1", "B1", "W2", "B2"} {
		v, want := tensors[name], golden.Init[name]
		size := 1
		for _, d := range want.Shape {
			size *= d
		}
		if len(v) != size {
			t.Errorf("%s: %d values, PyTorch's has shape %v", name, len(v), want.Shape)
			continue
		}
		maxDiff := 0.0
		for i, w := range want.First {
			maxDiff = max(maxDiff, math.Abs(float64(v[i])-w))
		}
		for i, w := range want.Last {
			maxDiff = max(maxDiff, math.Abs(float64(v[len(v)-len(want.Last)+i])-w))
		}
		if maxDiff != 0 {
			t.Errorf("%s: first/last values differ from PyTorch's by up to %g", name, maxDiff)
		}
		if got := sha256Float32(v); got != want.SHA256 {
			t.Errorf("%s: SHA-256 of the float32 values %s, PyTorch's %s (torch %s, %s)", name, got, want.SHA256, golden.Torch, golden.CPUCapability)
		}
	}
	t.Logf("initial weights identical to torch %s (%s kernels): max |diff| = 0", golden.Torch, golden.CPUCapability)

	// The other rounding (FMA or not) must change some values: this test can tell them apart.
	other := golden.generator()
	other.NoFMA = !other.NoFMA
	w1, otherW1 := tensors["W1"], initialWeights(other, golden.Hidden)["W1"]
	differ := 0
	for i := range w1 {
		if w1[i] != otherW1[i] {
			differ++
		}
	}
	if differ == 0 {
		t.Errorf("NoFMA=%v gives the same W1 as NoFMA=%v", other.NoFMA, !other.NoFMA)
	}
	t.Logf("with NoFMA=%v instead, %d of %d W1 values differ (in the last bit)", other.NoFMA, differ, len(w1))
}

// TestEpochOrderGolden: the training orders of epochs 1-3 equal those of
// the original loop's shuffled DataLoader, with the validation DataLoader's
// iterator drawing its base seed after each training pass.
func TestEpochOrderGolden(t *testing.T) {
	golden := loadTorchGolden(t)
	g := golden.generator()
	initialWeights(g, golden.Hidden)
	var first []int
	for _, want := range golden.Orders {
		order := g.EpochOrder(golden.NTrain)
		g.LoaderBaseSeed() // The validation pass.
		if want.Epoch == 1 {
			first = order
		}
		if len(order) != want.N {
			t.Fatalf("epoch %d: %d indices, want %d", want.Epoch, len(order), want.N)
		}
		if !slices.Equal(order[:len(want.First)], want.First) || !slices.Equal(order[len(order)-len(want.Last):], want.Last) {
			t.Errorf("epoch %d: order starts %v and ends %v, PyTorch's %v ... %v", want.Epoch,
				order[:len(want.First)], order[len(order)-len(want.Last):], want.First, want.Last)
		}
		if got := sha256Int64(order); got != want.SHA256 {
			t.Errorf("epoch %d: order SHA-256 %s, PyTorch's %s", want.Epoch, got, want.SHA256)
		}
	}
	// Without the validation pass's draw the second epoch's order is another one.
	g = golden.generator()
	initialWeights(g, golden.Hidden)
	if o := g.EpochOrder(golden.NTrain); !slices.Equal(o, first) {
		t.Fatal("EpochOrder is not deterministic")
	}
	if len(golden.Orders) > 1 && sha256Int64(g.EpochOrder(golden.NTrain)) == golden.Orders[1].SHA256 {
		t.Error("epoch 2's order does not depend on the validation pass's draw: the check above proves nothing")
	}
}
