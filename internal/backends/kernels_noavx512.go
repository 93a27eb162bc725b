//go:build !(amd64 && goexperiment.simd)

package backends

// cpuHasAVX512 reports whether the pure-Go backend has two kernel families
// to choose from here: never in a build without GOEXPERIMENT=simd or off
// amd64.
func cpuHasAVX512() bool { return false }
