//go:build !(onnx && linux && amd64 && cgo)

package backends

// ONNXBuild reports whether this program was built with the ONNX Runtime
// backend (build tag onnx).
const ONNXBuild = false

// checkONNX is never reached in builds without ONNX Runtime: New
// reports that the backend is not compiled in before calling it.
func checkONNX(string) error { return nil }

// disableONNXAutoInstall has nothing to do in builds without ONNX Runtime.
func disableONNXAutoInstall() {}
