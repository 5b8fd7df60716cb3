//go:build !unix

package outdir

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// tryLock does not lock on this system (documented in docs/limits.md).
func tryLock(*os.File) error { return nil }

func deviceOf(string) uint64 { return 0 }
