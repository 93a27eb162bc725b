//go:build unix

package backends

import "syscall"

// execProgram replaces this process with exe, run with args and environ.
func execProgram(exe string, args, environ []string) error {
	return syscall.Exec(exe, args, environ)
}
