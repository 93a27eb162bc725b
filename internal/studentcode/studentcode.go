// Package studentcode calls a student's GoMLX functions safely: their
// panics become errors that name the function, and the error a student
// reads says what went wrong without GoMLX's wrapping; and it runs a
// student's network on given weights (Logits, Loss). The notebook's checks
// and the grader's observations both call students' code through it.
//
// GoMLX (v0.28.16) returns a graph function's panic as an error only when
// the panic's value is an error; with any other value (panic("TODO")) it
// re-panics, and the deferred clean-up of its Exec then waits forever. So a
// student's function is always called through Guard, which turns its panics
// into a *Panic error.
package studentcode

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/mnistfc/mnistfc/mnistfc"
)

// Panic is a panic of a student's function, as an error.
type Panic struct {
	Fn    string // Which function.
	Value any    // What it panicked with.
}

func (p *Panic) Error() string { return fmt.Sprintf("%s panicked: %v", p.Fn, p.Value) }

// PanicError returns r, recovered from fn, as an error: r itself when it
// already wraps a *Panic.
func PanicError(fn string, r any) error {
	var sp *Panic
	if err, ok := r.(error); ok && errors.As(err, &sp) {
		return err
	}
	return &Panic{Fn: fn, Value: r}
}

// Guard calls f, turning a panic into a *Panic for fn.
func Guard[T any](fn string, f func() T) T {
	defer func() {
		if r := recover(); r != nil {
			panic(PanicError(fn, r))
		}
	}()
	return f()
}

// GuardNode is Guard for a function that builds a node: a nil node is a
// panic too.
func GuardNode(fn string, f func() *graph.Node) *graph.Node {
	out := Guard(fn, f)
	if out == nil {
		panic(&Panic{Fn: fn, Value: "it returned nil"})
	}
	return out
}

// Guard1 returns f guarded, for a function of one node.
func Guard1(fn string, f func(*graph.Node) *graph.Node) func(*graph.Node) *graph.Node {
	return func(x *graph.Node) *graph.Node { return GuardNode(fn, func() *graph.Node { return f(x) }) }
}

// Guard2 returns f guarded, for a function of two nodes.
func Guard2(fn string, f func(a, b *graph.Node) *graph.Node) func(a, b *graph.Node) *graph.Node {
	return func(a, b *graph.Node) *graph.Node { return GuardNode(fn, func() *graph.Node { return f(a, b) }) }
}

// Network returns net with its functions guarded.
func Network(net mnistfc.Network) mnistfc.Network {
	if f := net.Logits; f != nil {
		net.Logits = func(scope *model.Scope, x *graph.Node) *graph.Node {
			return GuardNode("the network's forward pass", func() *graph.Node { return f(scope, x) })
		}
	}
	if f := net.Softmax; f != nil {
		net.Softmax = Guard1("the network's softmax", f)
	}
	if f := net.Loss; f != nil {
		net.Loss = Guard2("the network's loss", f)
	}
	return net
}

// todo matches the panic of a stub of the student's notebook.
var todo = regexp.MustCompile(`^TODO: write (\w+)`)

// Reason returns what a student should read about err: for a panic of
// their code, what panicked, without GoMLX's wrapping.
func Reason(err error) string {
	var sp *Panic
	if errors.As(err, &sp) {
		if name := Unwritten(err); name != "" {
			return fmt.Sprintf("%s is not written yet (it panics with %q): write it in its cell, run that cell, then this one", name, fmt.Sprint(sp.Value))
		}
		return sp.Error()
	}
	msg := err.Error()
	if loc := gomlxWrapping.FindAllStringIndex(msg, -1); loc != nil {
		msg = msg[loc[len(loc)-1][1]:]
	}
	return msg
}

// gomlxWrapping is what GoMLX puts before the error of a graph function.
var gomlxWrapping = regexp.MustCompile(`graphFn for ".*?" panicked: `)

// Unwritten returns the name of the function whose stub panicked, when err
// is the panic of a stub, or "".
func Unwritten(err error) string {
	var sp *Panic
	if errors.As(err, &sp) {
		if m := todo.FindStringSubmatch(strings.TrimSpace(fmt.Sprint(sp.Value))); m != nil {
			return m[1]
		}
	}
	return ""
}

// Logits runs net.Logits on x (a tensor, or Go slices [N][784]) with
// weights as its variables, on backend b; it returns the logits in
// float64 and every variable the graph uses, as "path [dims]".
func Logits(b compute.Backend, net mnistfc.Network, weights mnistfc.Weights, x any) (*tensors.Tensor, []string, error) {
	store, err := Store(weights)
	if err != nil {
		return nil, nil, err
	}
	var declared []string
	out, err := model.CallOnce(b, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		out := net.Logits(scope, x)
		for v := range scope.IterVariables() {
			if v.InUseByGraph(x.Graph()) {
				declared = append(declared, fmt.Sprintf("%s %v", strings.TrimPrefix(v.Path(), "/"), v.Shape().Dimensions))
			}
		}
		return graph.ConvertDType(out, dtypes.Float64)
	}, x)
	return out, declared, err
}

// Store returns a store holding copies of weights as its variables.
func Store(weights mnistfc.Weights) (*model.Store, error) {
	store := model.NewStore()
	for _, w := range weights {
		if _, err := store.CreateVariable("/"+w.Name, tensors.FromFlatDataAndDimensions(slices.Clone(w.Values), w.Dims...)); err != nil {
			return nil, err
		}
	}
	return store, nil
}

// Loss is the loss of net on images x with classes labels, as training
// computes it: net's logits, softmax and loss (the library's where net has
// none), as a scalar. A loss of more than one number panics with an error
// that says so.
func Loss(net mnistfc.Network, scope *model.Scope, x, labels *graph.Node) *graph.Node {
	y := net.Logits(scope, x)
	if net.Softmax != nil {
		y = net.Softmax(y)
	} else {
		y = mnistfc.Softmax(y, mnistfc.SoftmaxRow)
	}
	t := graph.OneHot(labels, mnistfc.NumClasses, x.DType())
	var loss *graph.Node
	if net.Loss != nil {
		loss = net.Loss(y, t)
	} else {
		loss = mnistfc.CrossEntropy(y, t)
	}
	if loss.Shape().Size() != 1 {
		panic(fmt.Errorf("the loss has shape %v, want one number", loss.Shape().Dimensions))
	}
	return graph.Reshape(loss)
}

// Gradient is Loss with its gradient with respect to each trainable
// variable of scope that it uses, and their paths (without the leading
// "/"). A loss that uses no weights panics with an error that says so.
func Gradient(net mnistfc.Network, scope *model.Scope, x, labels *graph.Node) (loss *graph.Node, grads []*graph.Node, names []string) {
	loss = Loss(net, scope, x, labels)
	var vars []*graph.Node
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(x.Graph()) {
			names = append(names, strings.TrimPrefix(v.Path(), "/"))
			vars = append(vars, v.NodeValue(x.Graph()))
		}
	}
	if len(vars) == 0 {
		panic(errors.New("the loss depends on no weights"))
	}
	return loss, graph.Gradient(loss, vars...), names
}

// OneHot returns the one-hot rows of classes, of width n: the targets the
// exercises' loss takes, for the notebook's checks and the grader.
func OneHot(classes []int, n int) [][]float32 {
	rows := make([][]float32, len(classes))
	for i, c := range classes {
		rows[i] = make([]float32, n)
		rows[i][c] = 1
	}
	return rows
}
