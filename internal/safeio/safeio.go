// Package safeio opens input files so that hostile inputs fail fast with a
// clear error instead of hanging or exhausting memory: only regular files
// are read (a FIFO would block in open or be consumed once, /dev/zero never
// ends), whole-file reads are capped, and a Limiter bounds the bytes one
// record may take. The limits are in docs/limits.md.
package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// KindOf names what a non-regular file is, for messages: "a named pipe
// (FIFO)", "a device", "a socket", "a folder", or "" for a regular file.
func KindOf(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a folder"
	}
	return "not a regular file"
}

// NotRegularError is the error of a path that is not a regular file.
type NotRegularError struct {
	Path string
	Kind string // KindOf
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: is %s, not a regular file; signalab reads only regular files (copy the data into a file first)", e.Path, e.Kind)
}

// CheckRegular returns a *NotRegularError when path (symlinks followed) is
// not a regular file, the error of Stat when it cannot be checked, or nil.
func CheckRegular(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if k := KindOf(st.Mode()); k != "" {
		return &NotRegularError{Path: path, Kind: k}
	}
	return nil
}

// Open opens path for reading when it is a regular file (symlinks
// followed). The file is opened without blocking, so a FIFO returns at once
// (as a *NotRegularError) instead of waiting for a writer.
func Open(path string) (*os.File, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if k := KindOf(st.Mode()); k != "" {
		f.Close()
		return nil, &NotRegularError{Path: path, Kind: k}
	}
	if err := clearNonBlocking(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// TooLongError is the error of a file or record beyond its limit.
type TooLongError struct {
	What  string // "file", "line", "record"
	Limit int64
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("%s longer than %s", e.What, Size(e.Limit))
}

// Size renders a byte count in MiB or KiB for messages.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads a regular file of at most max bytes.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w", path, &TooLongError{What: "file", Limit: max})
	}
	return b, nil
}

// Limiter passes reads through from R and fails with a *TooLongError once
// more than Max bytes were read since the last Reset. A reader of records
// calls Reset after each record, so the error means one record (plus the
// read-ahead of any buffer above the Limiter) exceeded Max.
type Limiter struct {
	R    io.Reader
	Max  int64
	What string // for the error: "line", "record"
	n    int64
}

// Read implements io.Reader.
func (l *Limiter) Read(p []byte) (int, error) {
	if l.n > l.Max {
		return 0, &TooLongError{What: l.What, Limit: l.Max}
	}
	if rest := l.Max + 1 - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.R.Read(p)
	l.n += int64(n)
	return n, err
}

// Reset starts counting anew.
func (l *Limiter) Reset() { l.n = 0 }

// IsTooLong reports whether err is (or wraps) a *TooLongError.
func IsTooLong(err error) bool {
	var t *TooLongError
	return errors.As(err, &t)
}

// Limits of whole-file reads (docs/limits.md).
const (
	// MaxSpecBytes bounds an experiment spec (experiment.yaml).
	MaxSpecBytes = 16 << 20
	// MaxJSONBytes bounds a JSON file read whole (results.json,
	// replay.json, assign.json, metrics.json, manifest.json).
	MaxJSONBytes = 1 << 30
)
