package grading

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/internal/studentcode"
)

// HiddenPrefix starts the name of a hidden check's observation.
const HiddenPrefix = "hidden:"

// ObserveHidden runs a teacher's hidden checks, each a function of the
// seed that calls the submission's functions and returns numbers, and
// writes one Observation line per check to out, in the order of their
// names. It runs in the submission's program, after Observe.
func ObserveHidden(seed uint64, checks map[string]func(seed uint64) []float64, out io.Writer) error {
	names := make([]string, 0, len(checks))
	for name := range checks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		check := checks[name]
		o := observeOne(HiddenPrefix+name, func() (*Observation, error) {
			v := check(seed)
			return &Observation{Outputs: map[string]Values{"values": {Dims: []int{len(v)}, Values: v}}}, nil
		})
		if err := writeLine(out, o); err != nil {
			return err
		}
	}
	return nil
}

// JudgeHidden compares the hidden checks' numbers of a submission
// (observed) with those of the solution's program on the same seed
// (reference): equal within float32 tolerances, one Verdict per check of
// the reference, its exercise named after the check.
func JudgeHidden(observed, reference []Observation) []Verdict {
	got := map[string]*Observation{}
	for i := range observed {
		if o := &observed[i]; got[o.Check] == nil {
			got[o.Check] = o
		}
	}
	var verdicts []Verdict
	for _, ref := range reference {
		if !strings.HasPrefix(ref.Check, HiddenPrefix) {
			continue
		}
		v := Verdict{Check: ref.Check, Exercise: ref.Check}
		o := got[ref.Check]
		want := ref.Outputs["values"].Values
		switch {
		case ref.Error != "":
			v.Message = "the solution fails this check: " + ref.Error
		case o == nil:
			v.Message = "the submission's program did not report it (it does not compile with the submission's code, or the program stopped)"
		case o.Error != "":
			v.Message = o.Error
		case len(o.Outputs["values"].Values) != len(want):
			v.Message = fmt.Sprintf("%d numbers, want %d", len(o.Outputs["values"].Values), len(want))
		default:
			if i, d := worstDiff(o.Outputs["values"].Values, want, 1e-5, 1e-4); i >= 0 {
				v.Message = fmt.Sprintf("number %d is %.6g, want %.6g (difference %.2g)", i, o.Outputs["values"].Values[i], want[i], d)
			} else {
				v.Passed, v.Message = true, fmt.Sprintf("%d numbers match the solution's", len(want))
			}
		}
		verdicts = append(verdicts, v)
	}
	return verdicts
}

// Compute runs fn on input (a Go slice or a tensor) on the grading backend
// and returns its output's values: what a hidden check returns.
//
//	func HiddenShiftedSoftmax(seed uint64) []float64 {
//		return grading.Compute(func(z *graph.Node) *graph.Node { return softmax(graph.AddScalar(z, 100)) }, logits(seed))
//	}
func Compute(fn func(*graph.Node) *graph.Node, input any) []float64 {
	backend, err := backends.New(Backend)
	if err != nil {
		panic(err)
	}
	out, err := graph.CallOnce(backend, studentcode.Guard1("the hidden check's function", fn), input)
	if err != nil {
		panic(err)
	}
	v, err := float64Values(out)
	if err != nil {
		panic(err)
	}
	return v.Values
}
