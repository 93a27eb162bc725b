//go:build !unix

package backends

import (
	"errors"
	"runtime"
)

// execProgram replaces this process with exe, run with args and environ:
// not on this OS.
func execProgram(exe string, args, environ []string) error {
	return errors.New("a program cannot replace itself on " + runtime.GOOS)
}
