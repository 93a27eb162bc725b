// Package torchcompat emulates, bit for bit, the parts of PyTorch's CPU
// random number generation that the original notebook's initial weights
// and training batch order depend on:
//
//	torch.manual_seed(seed)                            // NewGenerator(seed)
//	fc1 = nn.Linear(784, H); fc2 = nn.Linear(H, 10)    // Generator.Linear, twice
//	for epoch ...:
//	    for x, y in DataLoader(train, shuffle=True)    // Generator.EpochOrder
//	    for x, y in DataLoader(validation)             // Generator.LoaderBaseSeed
//
// mnistfc's Init "torch" (mnistfc.InitTorch) trains from those weights in
// that order.
//
// The emulated PyTorch code (aten/src/ATen/core/MT19937RNGEngine.h,
// CPUGeneratorImpl.cpp, core/TransformationHelper.h,
// native/cpu/DistributionTemplates.h, native/TensorFactories.cpp's
// randperm_cpu, torch/nn/init.py, torch/utils/data/sampler.py and
// dataloader.py) gives the same numbers in PyTorch 1.13 (Debian's
// python3-torch) and 2.15 (PyPI), checked value for value
// (torchcompat_test.go, testdata/torch_golden.json). What does differ is
// the CPU kernel of uniform_: see Generator.NoFMA.
package torchcompat

import "math"

// mt19937 constants (Matsumoto and Nishimura's MT19937, as in PyTorch's
// at::mt19937 and C++'s std::mt19937).
const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// Generator is PyTorch's default CPU generator (CPUGeneratorImpl, a
// 32-bit Mersenne Twister, mt19937) in the state torch.manual_seed(seed)
// leaves it in. Its methods draw what the original notebook's PyTorch code
// draws from torch's global generator, in the same order, so that a sequence
// of calls reproduces that code's numbers exactly.
//
// A Generator is not safe for concurrent use.
type Generator struct {
	// NoFMA makes UniformFloat32 (and so Linear) round twice, as PyTorch
	// does with its kernels for the "default" CPU capability
	// (ATEN_CPU_CAPABILITY=default, or a CPU without AVX2; torch.__config__
	// reports it as "NO AVX" in 1.13, "DEFAULT" in 2.x). The zero value,
	// false, gives the fused multiply-add of PyTorch's AVX2 and AVX-512
	// kernels, which every x86-64 CPU with AVX2 (and Colab's) uses. The two
	// differ by one unit in the last place in about half of the values
	// (41032 of the 78400 in W1 for seed 0, hidden 100).
	NoFMA bool

	state [mtN]uint32
	next  int // Index of the next state word to temper; mtN means "regenerate first".
}

// NewGenerator returns the generator in the state torch.manual_seed(seed)
// (or torch.Generator().manual_seed(seed)) leaves PyTorch's CPU generator in:
// mt19937 initialised with the low 32 bits of seed, as PyTorch's
// mt19937(uint64_t seed) does (the high 32 bits are ignored, so seeds that
// differ only there give the same numbers, in PyTorch too).
func NewGenerator(seed uint64) *Generator {
	g := &Generator{next: mtN}
	g.state[0] = uint32(seed)
	for j := 1; j < mtN; j++ {
		prev := g.state[j-1]
		g.state[j] = 1812433253*(prev^(prev>>30)) + uint32(j)
	}
	return g
}

// twist regenerates the 624 state words (the Mersenne Twister's "next state").
func (g *Generator) twist() {
	s := &g.state
	for j := 0; j < mtN; j++ {
		y := s[j]&mtUpperMask | s[(j+1)%mtN]&mtLowerMask
		v := s[(j+mtM)%mtN] ^ y>>1
		if y&1 != 0 {
			v ^= mtMatrixA
		}
		s[j] = v
	}
	g.next = 0
}

// Random returns the next 32-bit output of the Mersenne Twister, like
// PyTorch's CPUGeneratorImpl::random().
func (g *Generator) Random() uint32 {
	if g.next >= mtN {
		g.twist()
	}
	y := g.state[g.next]
	g.next++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Random64 returns two 32-bit outputs joined into 64 bits, the first one in
// the high half, like PyTorch's CPUGeneratorImpl::random64().
func (g *Generator) Random64() uint64 {
	hi := g.Random()
	lo := g.Random()
	return uint64(hi)<<32 | uint64(lo)
}

// RandomInt64 returns what torch.empty((), dtype=torch.int64).random_()
// returns: Random64() modulo 2^63, a non-negative int64.
func (g *Generator) RandomInt64() int64 {
	return int64(g.Random64() & math.MaxInt64)
}

// UniformFloat32 fills v like a contiguous float32 tensor's
// tensor.uniform_(from, to) on the CPU: from and to are rounded to float32,
// and each element, in memory order, takes the low 24 bits of one 32-bit
// draw as x = bits·2⁻²⁴ in [0, 1) and becomes x·(to-from) + from.
//
// PyTorch computes that last expression in float32 in a kernel compiled once
// per CPU capability; GCC contracts it into a fused multiply-add in the AVX2
// and AVX-512 builds (one rounding) but not in the "default" build (two
// roundings). Which one runs depends on the CPU (and ATEN_CPU_CAPABILITY),
// so the field NoFMA selects; checked on PyTorch 1.13 (Debian) and 2.15
// (PyPI), both behave this way.
func (g *Generator) UniformFloat32(v []float32, from, to float64) {
	lo, hi := float32(from), float32(to)
	width := hi - lo
	for i := range v {
		x := float32(g.Random()&(1<<24-1)) * (1.0 / (1 << 24))
		if g.NoFMA {
			// The explicit conversion keeps the Go compiler from fusing.
			v[i] = float32(x*width) + lo
		} else {
			// x·width needs at most 48 significant bits and the sum at most
			// 49, so the float64 FMA is exact and rounding it once to float32
			// is exactly the float32 FMA.
			v[i] = float32(math.FMA(float64(x), float64(width), float64(lo)))
		}
	}
}

// kaimingUniformBound is the bound of nn.init.kaiming_uniform_(w, a=√5) for
// a weight with fan_in inputs, computed with the same float64 operations as
// torch/nn/init.py: gain = sqrt(2/(1+a²)), std = gain/sqrt(fan_in),
// bound = sqrt(3)·std (which is 1/sqrt(fan_in) up to rounding).
func kaimingUniformBound(fanIn int) float64 {
	a := math.Sqrt(5)
	gain := math.Sqrt(2.0 / (1 + a*a))
	std := gain / math.Sqrt(float64(fanIn))
	return math.Sqrt(3.0) * std
}

// Linear returns what building nn.Linear(in, out) on the CPU draws from
// this generator as torch's global generator, bit for bit, and advances it
// as PyTorch's: the [out, in] weight (row-major, one row per output) with
// kaiming_uniform_(a=√5), then the bias uniform in ±1/sqrt(in).
//
// The original calls torch.manual_seed(0) right before building its
// model, nn.Linear(784, H) then nn.Linear(H, 10), so two calls of Linear
// on NewGenerator(0) give its initial weights.
func (g *Generator) Linear(in, out int) (weight, bias []float32) {
	weight = make([]float32, out*in)
	bias = make([]float32, out)
	bound := kaimingUniformBound(in)
	g.UniformFloat32(weight, -bound, bound)
	biasBound := 1 / math.Sqrt(float64(in))
	g.UniformFloat32(bias, -biasBound, biasBound)
	return weight, bias
}

// Randperm returns torch.randperm(n, generator=g) on the CPU for
// n < 2³²/20 (every data set here): the identity permutation shuffled by
// i = 0..n-2 swapping element i with element i + Random() % (n-i).
// (For larger n PyTorch 2.x switches to another algorithm, not emulated.)
func (g *Generator) Randperm(n int) []int {
	if n < 0 {
		panic("torchcompat: Randperm of a negative size")
	}
	if uint64(n) >= math.MaxUint32/20 {
		panic("torchcompat: Randperm emulates PyTorch only for n < 2^32/20")
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < n-1; i++ {
		z := i + int(uint64(g.Random())%uint64(n-i))
		perm[i], perm[z] = perm[z], perm[i]
	}
	return perm
}

// LoaderBaseSeed consumes and returns what creating an iterator over a
// torch.utils.data.DataLoader (num_workers=0, shuffled or not) draws from
// the global generator: its _base_seed, torch.empty((), dtype=torch.int64).random_().
//
// The original loop iterates its validation DataLoader after the training
// one in every epoch it validates; that draw moves the next epoch's shuffle,
// so a faithful emulation calls LoaderBaseSeed once after each validation
// pass (and once per test pass), besides EpochOrder once per training pass.
func (g *Generator) LoaderBaseSeed() int64 {
	return g.RandomInt64()
}

// EpochOrder returns the order in which one pass over
// DataLoader(dataset of n examples, batch_size, shuffle=True) visits the
// examples, and advances this (global) generator as that pass does in
// PyTorch 1.13 and 2.x with num_workers=0:
//
//  1. the iterator draws its base seed (LoaderBaseSeed);
//  2. RandomSampler draws seed = torch.empty((), dtype=torch.int64).random_(),
//     seeds a new torch.Generator with it,
//  3. and yields torch.randperm(n, generator) from that new generator.
//
// Batch k holds the examples order[k·batch : (k+1)·batch].
func (g *Generator) EpochOrder(n int) []int {
	g.LoaderBaseSeed()
	seed := g.RandomInt64()
	return NewGenerator(uint64(seed)).Randperm(n)
}
