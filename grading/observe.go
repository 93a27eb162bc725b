package grading

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/internal/backends"
	"github.com/mnistfc/mnistfc/internal/jsonfinite"
	"github.com/mnistfc/mnistfc/internal/studentcode"
	"github.com/mnistfc/mnistfc/mnistfc"
)

// Exercises are a submission's functions, as the student's notebook
// declares them. A nil function is one the submission lacks (or that does
// not compile): its exercises get no credit.
type Exercises struct {
	Sigmoid      func(x *graph.Node) *graph.Node
	Softmax      func(z *graph.Node) *graph.Node
	CrossEntropy func(y, t *graph.Node) *graph.Node
	Accuracy     func(y, t *graph.Node) *graph.Node
	Forward      func(scope *model.Scope, x *graph.Node, hidden int) *graph.Node
	Network      func(hidden int) mnistfc.Network
}

// An Observation is what one check saw a submission's function compute:
// named outputs, or the error that stopped it. It is all a submission's
// program reports; Judge decides.
type Observation struct {
	Check   string            `json:"check"`
	Outputs map[string]Values `json:"outputs,omitempty"`
	Names   []string          `json:"names,omitempty"` // Variables a network declared, "path [dims]".
	Error   string            `json:"error,omitempty"`
}

// Values are a tensor's dimensions and values.
type Values struct {
	Dims   []int     `json:"dims"`
	Values []float64 `json:"values"`
}

// Checks are the checks, in order, and the exercise each grades.
var Checks = []struct{ Check, Exercise, Function string }{
	{"sigmoid", "sigmoid", "sigmoid"},
	{"softmax", "softmax", "softmax"},
	{"cross-entropy", "cross-entropy", "crossEntropy"},
	{"accuracy", "accuracy", "accuracy"},
	{"forward", "forward", "forward"},
	{"gradient", "training", "network"},
	{"training", "training", "network"},
}

// CheckTimeout bounds each check inside the submission's program: one
// that hangs is reported and the next one runs.
const CheckTimeout = 60 * time.Second

// Observe calls the submission's functions ex on the Case of seed, one
// check after the other, and writes one JSON Observation line per check to
// out as soon as it is known. It runs in the submission's program.
func Observe(seed uint64, ex Exercises, out io.Writer) error {
	c := NewCase(seed)
	backend, err := backends.New(Backend)
	if err != nil {
		return err
	}
	for _, ch := range Checks {
		o := observeOne(ch.Check, func() (*Observation, error) { return observers[ch.Check](backend, c, ex) })
		if err := writeLine(out, o); err != nil {
			return err
		}
	}
	return nil
}

// writeLine writes o as one line of JSON, NaN and infinities as null (a
// submission's function may compute them).
func writeLine(out io.Writer, o *Observation) error {
	b, err := jsonfinite.Marshal(o)
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// ReadObservation reads one line that writeLine wrote, null as NaN.
func ReadObservation(line []byte) (Observation, error) {
	var o Observation
	err := jsonfinite.Unmarshal(line, &o)
	return o, err
}

// observeOne runs one observer within CheckTimeout, turning its panics
// into the Observation's error.
func observeOne(check string, fn func() (*Observation, error)) *Observation {
	done := make(chan *Observation, 1)
	go func() {
		o, err := func() (o *Observation, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = studentcode.PanicError("the check", r)
				}
			}()
			return fn()
		}()
		if err != nil {
			o = &Observation{Error: studentcode.Reason(err)}
		}
		done <- o
	}()
	select {
	case o := <-done:
		o.Check = check
		return o
	case <-time.After(CheckTimeout):
		return &Observation{Check: check, Error: fmt.Sprintf("did not finish within %s", CheckTimeout)}
	}
}

type observer func(compute.Backend, *Case, Exercises) (*Observation, error)

var observers = map[string]observer{
	"sigmoid":       observeSigmoid,
	"softmax":       observeSoftmax,
	"cross-entropy": observeCrossEntropy,
	"accuracy":      observeAccuracy,
	"forward":       observeForward,
	"gradient":      observeGradient,
	"training":      observeTraining,
}

var errMissing = errors.New("missing")

func observeSigmoid(b compute.Backend, c *Case, ex Exercises) (*Observation, error) {
	if ex.Sigmoid == nil {
		return nil, errMissing
	}
	f := studentcode.Guard1("sigmoid", ex.Sigmoid)
	outs, err := graph.CallOnceN(b, func(x *graph.Node) []*graph.Node {
		y := f(x)
		return []*graph.Node{y, graph.Gradient(graph.ReduceAllSum(y), x)[0]}
	}, c.SigmoidX)
	if err != nil {
		return nil, err
	}
	return outputs(map[string]*tensors.Tensor{"y": outs[0], "dy": outs[1]})
}

func observeSoftmax(b compute.Backend, c *Case, ex Exercises) (*Observation, error) {
	if ex.Softmax == nil {
		return nil, errMissing
	}
	f := studentcode.Guard1("softmax", ex.Softmax)
	outs, err := graph.CallOnceN(b, func(z, w *graph.Node) []*graph.Node {
		p := f(z)
		return []*graph.Node{p, graph.Gradient(graph.ReduceAllSum(graph.Mul(p, w)), z)[0]}
	}, c.Logits, c.SoftmaxWeights)
	if err != nil {
		return nil, err
	}
	return outputs(map[string]*tensors.Tensor{"p": outs[0], "dp": outs[1]})
}

func observeCrossEntropy(b compute.Backend, c *Case, ex Exercises) (*Observation, error) {
	if ex.CrossEntropy == nil {
		return nil, errMissing
	}
	f := studentcode.Guard2("crossEntropy", ex.CrossEntropy)
	outs, err := graph.CallOnceN(b, func(y, t *graph.Node) []*graph.Node {
		loss := f(y, t)
		return []*graph.Node{loss, graph.Gradient(graph.ReduceAllSum(loss), y)[0]}
	}, c.Probs, studentcode.OneHot(c.Classes, len(c.Probs[0])))
	if err != nil {
		return nil, err
	}
	return outputs(map[string]*tensors.Tensor{"loss": outs[0], "dloss": outs[1]})
}

func observeAccuracy(b compute.Backend, c *Case, ex Exercises) (*Observation, error) {
	if ex.Accuracy == nil {
		return nil, errMissing
	}
	f := studentcode.Guard2("accuracy", ex.Accuracy)
	e, err := graph.NewExec(b, func(y, t *graph.Node) *graph.Node { return f(y, t) })
	if err != nil {
		return nil, err
	}
	defer e.Finalize()
	got := map[string]*tensors.Tensor{}
	for k, classes := range c.AccuracyClasses {
		outs, err := e.Call(c.Probs, studentcode.OneHot(classes, len(c.Probs[0])))
		if err != nil {
			return nil, err
		}
		got[fmt.Sprintf("accuracy%d", k)] = outs[0]
	}
	return outputs(got)
}

func observeForward(b compute.Backend, c *Case, ex Exercises) (*Observation, error) {
	if ex.Forward == nil {
		return nil, errMissing
	}
	f := ex.Forward
	net := mnistfc.Network{Logits: func(scope *model.Scope, x *graph.Node) *graph.Node {
		return studentcode.GuardNode("forward", func() *graph.Node { return f(scope, x, c.Hidden) })
	}}
	logits, names, err := studentcode.Logits(b, net, c.Params.Weights(), c.Images)
	if err != nil {
		return nil, err
	}
	o, err := outputs(map[string]*tensors.Tensor{"logits": logits})
	if o != nil {
		o.Names = names
	}
	return o, err
}

func observeGradient(b compute.Backend, c *Case, ex Exercises) (*Observation, error) {
	net, err := network(ex, c.Hidden)
	if err != nil {
		return nil, err
	}
	loss, grads, names, err := Gradient(b, net, c.Params.Weights(), c.Images, c.Labels)
	if err != nil {
		return nil, err
	}
	got := map[string]*tensors.Tensor{"loss": loss}
	for i, g := range grads {
		got["d/"+names[i]] = g
	}
	o, err := outputs(got)
	if o != nil {
		o.Names = names
	}
	return o, err
}

func observeTraining(b compute.Backend, c *Case, ex Exercises) (*Observation, error) {
	net, err := network(ex, c.Hidden)
	if err != nil {
		return nil, err
	}
	losses, err := TrainingLosses(c, net)
	if err != nil {
		return nil, err
	}
	return &Observation{Outputs: map[string]Values{"losses": {Dims: []int{len(losses)}, Values: losses}}}, nil
}

// network returns the submission's network(hidden), guarded.
func network(ex Exercises, hidden int) (mnistfc.Network, error) {
	if ex.Network == nil {
		return mnistfc.Network{}, errMissing
	}
	net := studentcode.Guard("network", func() mnistfc.Network { return ex.Network(hidden) })
	if net.Logits == nil || net.Softmax == nil || net.Loss == nil {
		return net, fmt.Errorf("network(%d) leaves Logits, Softmax or Loss nil: the network trains on the notebook's forward, softmax and crossEntropy", hidden)
	}
	return studentcode.Network(net), nil
}

// Gradient returns the loss of net (its logits, softmax and loss) on
// images with labels, with weights as its variables, and its gradient with
// respect to each trainable variable it uses, named "path".
func Gradient(b compute.Backend, net mnistfc.Network, weights mnistfc.Weights, images [][]float32, labels []int) (*tensors.Tensor, []*tensors.Tensor, []string, error) {
	store, err := studentcode.Store(weights)
	if err != nil {
		return nil, nil, nil, err
	}
	l := make([]int32, len(labels))
	for i, v := range labels {
		l[i] = int32(v)
	}
	var names []string
	outs, err := model.CallOnceN(b, store, func(scope *model.Scope, x, labels *graph.Node) []*graph.Node {
		loss, grads, ns := studentcode.Gradient(net, scope, x, labels)
		names = ns
		return append([]*graph.Node{loss}, grads...)
	}, images, l)
	if err != nil {
		return nil, nil, nil, err
	}
	return outs[0], outs[1:], names, nil
}

// TrainingLosses trains net with the Case's training configuration and
// returns the loss of every step.
func TrainingLosses(c *Case, net mnistfc.Network) ([]float64, error) {
	cfg := c.TrainConfig()
	cfg.Init = mnistfc.InitTorch
	var losses []float64
	_, err := mnistfc.Train(context.Background(), cfg, mnistfc.WithData(c.Train), mnistfc.WithNetwork(net),
		mnistfc.OnStep(func(s mnistfc.StepStats) { losses = append(losses, s.Loss) }))
	return losses, err
}

// outputs converts tensors to Values (float64).
func outputs(ts map[string]*tensors.Tensor) (*Observation, error) {
	o := &Observation{Outputs: map[string]Values{}}
	for name, t := range ts {
		v, err := float64Values(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		o.Outputs[name] = v
	}
	return o, nil
}

func float64Values(t *tensors.Tensor) (Values, error) {
	dims := slices.Clone(t.Shape().Dimensions)
	var vals []float64
	switch t.DType() {
	case dtypes.Float64:
		v, err := tensors.CopyFlatData[float64](t)
		if err != nil {
			return Values{}, err
		}
		vals = v
	case dtypes.Float32:
		v, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return Values{}, err
		}
		for _, x := range v {
			vals = append(vals, float64(x))
		}
	default:
		return Values{}, fmt.Errorf("dtype %s, want a floating-point tensor", t.DType())
	}
	return Values{Dims: dims, Values: vals}, nil
}
