// Package exitcode maps errors to the process exit codes of signalab's CLI
// contract: 0 success, 1 a check failed (golden mismatch, diff found, a gate
// such as SRM), 2 an error (bad input, usage, I/O).
package exitcode

import (
	"errors"
	"fmt"
)

// Exit codes.
const (
	OK          = 0
	CheckFailed = 1
	Error       = 2
)

// CheckFailedError reports that the work ran but a check did not pass.
// The CLI prints its message and exits with code 1.
type CheckFailedError struct{ Msg string }

func (e *CheckFailedError) Error() string { return e.Msg }

// Checkf returns a CheckFailedError with a formatted message.
func Checkf(format string, args ...any) error {
	return &CheckFailedError{Msg: fmt.Sprintf(format, args...)}
}

// UsageError is a mistake in how the command was called. The CLI prints the
// message and a "Try:" line with Hint.
type UsageError struct {
	Err  error
	Hint string
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message and a hint.
func Usagef(hint, format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...), Hint: hint}
}

// Code returns the exit code for err.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var cf *CheckFailedError
	if errors.As(err, &cf) {
		return CheckFailed
	}
	return Error
}
