// Package studentcode calls a student's GoMLX functions safely: their
// panics become errors that name the function, and the error a student
// reads says what went wrong without GoMLX's wrapping. The notebook's
// checks and the grader's observations both call students' code through it.
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
	"strings"

	"github.com/gomlx/gomlx/core/graph"
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
