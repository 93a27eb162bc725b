package notebook

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/mnistfc/mnistfc/internal/studentcode"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// A stub's panic reaches the notebook's cells as an error, not as a
// program that waits forever (see package studentcode).
func TestExecOfAStub(t *testing.T) {
	_, err := graph.ExecOnce(Backend(), safeFn(stub1("sigmoid")), []float32{1})
	if err == nil || studentcode.Reason(err) != `sigmoid is not written yet (it panics with "TODO: write sigmoid"): write it in its cell, run that cell, then this one` {
		t.Errorf("err = %v, reason %q", err, studentcode.Reason(err))
	}
	_, _, err = guarded(&mnistfc.Model{Network: network(solutionForward, stub1("softmax"), solutionCrossEntropy)(3),
		Weights: mnistfc.InitParams(mnistfc.InitTorch, 3, 0).Weights(), BatchSize: 10}).Evaluate(
		&mnistfc.Dataset{Pixels: make([]uint8, 10*mnistfc.NumPixels), Labels: make([]uint8, 10)}, BackendName())
	if err == nil || !strings.Contains(studentcode.Reason(err), "softmax is not written yet") {
		t.Errorf("Evaluate: err = %v", err)
	}
}
