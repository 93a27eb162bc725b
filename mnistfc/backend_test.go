package mnistfc

import "testing"

// trainOn trains cfg on the named backend, failing the test on an error
// (the backend comparisons of backend_onnx_test.go and backend_xla_test.go).
func trainOn(t *testing.T, cfg Config, data *Data, backend string) *Result {
	t.Helper()
	cfg.Backend = backend
	res, err := Train(t.Context(), cfg, WithData(data))
	if err != nil {
		t.Fatalf("backend %s: %v", backend, err)
	}
	return res
}
