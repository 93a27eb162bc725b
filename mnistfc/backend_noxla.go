//go:build !(linux && cgo && !noxla)

package mnistfc

// checkXLAPlugin is never reached in builds without XLA: NewBackend reports
// that the backend is not compiled in before calling it.
func checkXLAPlugin(string) error { return nil }
