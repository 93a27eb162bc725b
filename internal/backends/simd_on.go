//go:build goexperiment.simd

package backends

// SIMDBuild reports whether this program was built with GOEXPERIMENT=simd,
// which gives the pure-Go backend its AVX2/AVX-512 matrix products (about
// 8x faster training on an AVX-512 CPU).
const SIMDBuild = true
