//go:build !(linux && cgo && !noxla)

package backends

// resolveXLAConfig is never reached in builds without XLA: New
// reports that the backend is not compiled in before calling it.
func resolveXLAConfig(config string) (string, error) { return config, nil }

// disableXLAAutoInstall has nothing to do in builds without XLA.
func disableXLAAutoInstall() {}

// xlaCPUInstalled is false in builds without XLA.
func xlaCPUInstalled() bool { return false }

// xlaBuild reports whether this build can run XLA: not this one.
const xlaBuild = false

// xlaCUDAInstalled is false in builds without XLA.
func xlaCUDAInstalled() bool { return false }

// XLACPUPlugin finds no plugin in builds without XLA.
func XLACPUPlugin() (path string, searched []string) { return "", nil }
