package outdir

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempLock is the lock file inside a folder made by Temp.
const tempLock = ".lock"

// Temp creates a temporary folder root/<prefix>* (for example a spill
// folder under --tmp) that holds a lock for as long as release is not
// called, and first removes the folders root/<prefix>* whose lock no
// process holds: what crashed runs left behind. Folders that live only
// inside an output folder's staging folder need no Temp: the output
// folder's lock covers them.
func Temp(root, prefix string) (dir string, release func(), err error) {
	removeUnlocked(root, prefix)
	// Made under another name and renamed once locked, so that a folder
	// named <prefix>* always has its lock file.
	pending, err := os.MkdirTemp(root, ".pending"+prefix)
	if err != nil {
		return "", nil, err
	}
	lock, err := os.OpenFile(filepath.Join(pending, tempLock), os.O_RDWR|os.O_CREATE, 0o644)
	if err == nil {
		err = tryLock(lock)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(pending)
		return "", nil, err
	}
	dir = filepath.Join(root, prefix+strings.TrimPrefix(filepath.Base(pending), ".pending"+prefix))
	if err := os.Rename(pending, dir); err != nil {
		lock.Close()
		os.RemoveAll(pending)
		return "", nil, err
	}
	return dir, func() {
		os.RemoveAll(dir)
		lock.Close()
	}, nil
}

// removeUnlocked removes root/<prefix>* folders whose lock is free (or
// missing: left by an older version), and pending folders older than an
// hour.
func removeUnlocked(root, prefix string) {
	matches, _ := filepath.Glob(filepath.Join(root, escapeGlob(prefix+"*")))
	for _, m := range matches {
		f, err := os.OpenFile(filepath.Join(m, tempLock), os.O_RDWR, 0)
		if err != nil {
			if os.IsNotExist(err) {
				os.RemoveAll(m)
			}
			continue
		}
		if tryLock(f) == nil {
			os.RemoveAll(m) // nobody holds it: stale
		}
		f.Close()
	}
	pending, _ := filepath.Glob(filepath.Join(root, escapeGlob(".pending"+prefix+"*")))
	for _, m := range pending {
		if st, err := os.Stat(m); err == nil && time.Since(st.ModTime()) > time.Hour {
			os.RemoveAll(m)
		}
	}
}
