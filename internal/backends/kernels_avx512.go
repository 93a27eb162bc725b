//go:build amd64 && goexperiment.simd

package backends

import "simd/archsimd"

// cpuHasAVX512 reports whether the pure-Go backend has two kernel families
// to choose from here: this build has its SIMD kernels and the CPU has
// AVX-512, as GoMLX's compute module decides it.
func cpuHasAVX512() bool { return archsimd.X86.AVX512() }
