//go:build !(linux && cgo && !noxla)

package mnistfc

// resolveXLAConfig is never reached in builds without XLA: NewBackend
// reports that the backend is not compiled in before calling it.
func resolveXLAConfig(config string) (string, error) { return config, nil }

// xlaCPUInstalled is false in builds without XLA.
func xlaCPUInstalled() bool { return false }

// xlaCUDAInstalled is false in builds without XLA.
func xlaCUDAInstalled() bool { return false }

// XLACPUPlugin finds no plugin in builds without XLA.
func XLACPUPlugin() (path string, searched []string) { return "", nil }
