//go:build !goexperiment.simd

package backends

// SIMDBuild reports whether this program was built with GOEXPERIMENT=simd,
// which gives the pure-Go backend its AVX2/AVX-512 matrix products (what
// they gain: docs/performance.md, "What made the difference").
const SIMDBuild = false
