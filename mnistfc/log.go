package mnistfc

import (
	"fmt"
	"io"
	"strings"
)

// The lines of a run's log (WithLog), as the original prints them. Train
// writes them while it trains; Result.WriteLog writes them again from a
// finished run.

func trainLine(st EpochStats) string {
	return fmt.Sprintf("Train epoch %d: accuracy %v, loss %v\n", st.Epoch, st.TrainAccuracy, st.TrainLoss)
}

// validationLine prints the validation accuracy rounded to 3 decimals, the
// number the original compares.
func validationLine(st EpochStats) string {
	return fmt.Sprintf("Validation epoch %d: accuracy %v, loss %v\n", st.Epoch, roundTo3(st.ValAccuracy), st.ValLoss)
}

func bestLine(st EpochStats) string {
	return fmt.Sprintf("==== new best model! epoch %d, accuracy %v ====\n", st.Epoch, roundTo3(st.ValAccuracy))
}

func divergedLine(st EpochStats) string {
	if st.Validated {
		return fmt.Sprintf("diverged at epoch %d (train loss %v, validation loss %v): stopping\n", st.Epoch, st.TrainLoss, st.ValLoss)
	}
	return fmt.Sprintf("diverged at epoch %d (train loss %v): stopping\n", st.Epoch, st.TrainLoss)
}

func interruptedLine(epoch int) string {
	return fmt.Sprintf("interrupted after epoch %d: stopping\n", epoch)
}

func testLines(res *Result) string {
	if !res.Tested {
		return "no model to test: the run stopped before an epoch gave one\n"
	}
	return fmt.Sprintf("===== Test Results =====\nTest Accuracy : %v\nTest Loss : %v\n", res.TestAccuracy, res.TestLoss)
}

// WriteLog writes the log of the finished run r to w: the lines WithLog
// wrote while it trained.
func (r *Result) WriteLog(w io.Writer) error {
	var b strings.Builder
	for _, st := range r.Epochs {
		b.WriteString(trainLine(st))
		if st.Validated {
			b.WriteString(validationLine(st))
		}
		if st.NewBest {
			b.WriteString(bestLine(st))
		}
	}
	switch {
	case r.Diverged && len(r.Epochs) > 0:
		b.WriteString(divergedLine(r.Epochs[len(r.Epochs)-1]))
	case r.Interrupted && len(r.Epochs) > 0:
		b.WriteString(interruptedLine(r.Epochs[len(r.Epochs)-1].Epoch))
	}
	b.WriteString(testLines(r))
	_, err := io.WriteString(w, b.String())
	return err
}
