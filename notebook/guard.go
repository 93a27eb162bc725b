package notebook

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/mnistfc/mnistfc/internal/studentcode"
)

// This file holds the panic guards of the notebook's calls into a student's
// code: check runs a check and turns a panic into its ✗ line, and safeFn
// guards the functions the notebooks pass to Exec. The guards themselves,
// and the reading of the errors GoMLX wraps around a panic, are package
// studentcode's.

// check runs fn, which returns what it verified or an error saying what is
// wrong, prints the check's line and reports whether it passed. A panic in
// fn fails the check.
func check(name string, fn func() (string, error)) (ok bool) {
	msg, err := func() (msg string, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = studentcode.PanicError("the check", r)
			}
		}()
		return fn()
	}()
	if err != nil {
		fmt.Printf("✗ %s: %s\n", name, oneLine(studentcode.Reason(err)))
		return false
	}
	fmt.Printf("✓ %s: %s\n", name, oneLine(msg))
	return true
}

// safeFn returns fn guarded, when it is one of the shapes of function the
// notebooks pass to Exec.
func safeFn[F any](fn F) F {
	switch f := any(fn).(type) {
	case func(*graph.Node) *graph.Node:
		return any(studentcode.Guard1("the function", f)).(F)
	case func(a, b *graph.Node) *graph.Node:
		return any(studentcode.Guard2("the function", f)).(F)
	}
	return fn
}

// oneLine returns s on one line, at most 600 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		s = s[:597] + "..."
	}
	return s
}
