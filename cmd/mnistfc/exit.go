package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mnistfc/mnistfc/mnistfc/sweepdir"
)

// Exit statuses of mnistfc, as "mnistfc help" and the README list them.
const (
	exitOK          = 0   // Done.
	exitError       = 1   // Something failed (data, backend, files...).
	exitUsage       = 2   // Bad command line: unknown command or flag, bad value, a -resume that does not match.
	exitDiverged    = 3   // train: the loss became NaN or infinite; the epochs that ran are written.
	exitInterrupted = 130 // Stopped by Ctrl-C (SIGINT) or SIGTERM; what finished is written.
)

// statusError is an error with the exit status it calls for.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(code int, err error) error {
	if err == nil {
		return nil
	}
	return &statusError{code, err}
}

func usageError(err error) error { return withStatus(exitUsage, err) }

// asUsage gives a sweepdir.UsageError the status of a bad command line.
func asUsage(err error) error {
	var ue *sweepdir.UsageError
	if errors.As(err, &ue) {
		return usageError(err)
	}
	return err
}

// exitStatus is the status for err (nil: 0).
func exitStatus(err error) int {
	var se *statusError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &se):
		return se.code
	}
	return exitError
}

// errInterrupted is the cause of the context that onInterrupt cancels.
var errInterrupted = errors.New("interrupted")

// onInterrupt returns a context cancelled by the first SIGINT (Ctrl-C) or
// SIGTERM, after printing "mnistfc: interrupt: <what>" on stderr; a second
// one exits at once with status 130. stop restores the default handling.
func onInterrupt(what string) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-ch
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "\nmnistfc: %v: %s (press Ctrl-C again to quit at once)\n", s, what)
		cancel(errInterrupted)
		if s, ok := <-ch; ok {
			fmt.Fprintf(os.Stderr, "\nmnistfc: %v again: quitting at once\n", s)
			os.Exit(exitInterrupted)
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(ch)
		cancel(nil)
	}
}
