// Package atomicfile writes files atomically: to a temporary file in the
// destination's folder, synced, then renamed over the destination, so an
// interrupted or failed write never leaves a truncated file where a good one
// is expected.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/signalab/signalab/internal/fault"
)

// Write creates path atomically with the bytes fill writes. If fill returns an
// error, the destination is left untouched and the temporary file removed.
func Write(path string, fill func(w io.Writer) error) (err error) {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := fill(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// WriteBytes writes b to path atomically.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// File is a file being written atomically: writes go to a temporary file
// beside the destination; Commit puts it in place, Abort (or a failed
// Commit) removes it and leaves the destination untouched. A command that
// writes several files writes them all, then commits them one after the
// other, so that a failure while writing any of them replaces none.
type File struct {
	tmp  *os.File
	path string
	done bool
}

// Create starts writing path atomically (creating its folder if needed).
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create folder for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{tmp: tmp, path: path}, nil
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.tmp.Write(p) }

// Commit syncs the temporary file and renames it over the destination.
func (f *File) Commit() (err error) {
	if f.done {
		return fmt.Errorf("write %s: already committed or aborted", f.path)
	}
	defer func() {
		if err != nil {
			f.Abort()
		}
	}()
	if err = f.tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err = f.tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err = os.Chmod(f.tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	fault.Point("atomicfile: before rename " + filepath.Base(f.path))
	if err = os.Rename(f.tmp.Name(), f.path); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	f.done = true
	fault.Point("atomicfile: after rename " + filepath.Base(f.path))
	return nil
}

// Abort removes the temporary file; the destination is untouched. It does
// nothing after Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}
