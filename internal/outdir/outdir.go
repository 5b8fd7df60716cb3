// Package outdir replaces a command's set of output files in a folder as
// one unit, with one writer at a time.
//
// A command calls Begin on its --out folder, writes every output into
// Tx.Dir, and calls Commit. Begin takes an exclusive lock on the folder
// (flock on --out/.signalab.lock); a second writer fails at once with a
// *BusyError. Tx.Dir is a staging folder next to --out
// (.<name>.staging-*); Commit carries every entry of --out the command does
// not own over into it (hard links, so nothing is copied) and then swaps
// the two folders in one atomic step (renameat2 RENAME_EXCHANGE on Linux):
// a reader, or a crash at any instant, sees either the whole old set or the
// whole new one, never a mix. The old folder is then removed. Files the
// command owns that the new set lacks (a stale output of an earlier run)
// are not carried over.
//
// Stale temporaries (staging folders of a crashed run, spill folders, and
// atomic-write temporaries inside --out) are removed by the next Begin on
// the same folder: holding the lock proves that no live process owns them.
//
// Where the swap cannot be done (--out's parent folder is not writable,
// --out is a mount point, or the file system has no atomic exchange), the
// staging folder lives inside --out and Commit renames the files into
// place one by one: each file is still replaced atomically, but a crash
// between two renames leaves a mix (docs/limits.md says so).
package outdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/signalab/signalab/internal/fault"
)

// LockFile is the name of the lock inside an output folder.
const LockFile = ".signalab.lock"

// Tx is one replacement of a command's outputs in a folder.
type Tx struct {
	// Out is the output folder (absolute, symlinks resolved).
	Out string
	// Dir is where the command writes its outputs.
	Dir string

	given   string   // out as the command named it (for Final)
	owned   []string // names and glob patterns of the command's outputs
	lock    *os.File
	inPlace bool
	done    bool
}

// BusyError is the error of Begin on a folder another process is writing.
type BusyError struct {
	Out    string
	Holder string // what the holder wrote into the lock file, if anything
}

func (e *BusyError) Error() string {
	h := ""
	if e.Holder != "" {
		h = " (" + e.Holder + ")"
	}
	return fmt.Sprintf("output folder %s is being written by another signalab process%s; wait for it to finish, or choose another --out", e.Out, h)
}

// stalePatterns are temporaries inside an output folder that a crashed run
// can leave: spill and staging folders, atomic-write temporaries.
var stalePatterns = []string{".spill-*", ".staging-*", ".*.tmp-*"}

// Begin locks the output folder out (creating it if needed), removes stale
// temporaries and returns a transaction whose Dir receives the new outputs.
// owned lists the file names (or glob patterns, e.g. "signals-*.parquet")
// that make up the command's output set. command names the writer in the
// lock file (for the message a second writer gets).
func Begin(out, command string, owned []string) (*Tx, error) {
	abs, err := resolve(out)
	if err != nil {
		return nil, fmt.Errorf("output folder %s: %w", out, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder %s: %w", out, err)
	}
	lock, err := acquire(abs, command)
	if err != nil {
		return nil, err
	}
	t := &Tx{Out: abs, given: out, owned: owned, lock: lock}
	t.removeStale()
	parent, base := filepath.Split(abs)
	if dir, err := os.MkdirTemp(parent, "."+base+".staging-"); err == nil && sameDevice(parent, abs) {
		t.Dir = dir
		// The staging folder becomes --out: give it --out's permissions
		// (MkdirTemp makes it 0700).
		if st, err := os.Stat(abs); err == nil {
			os.Chmod(dir, st.Mode().Perm())
		}
	} else {
		if err == nil {
			os.Remove(dir)
		}
		t.inPlace = true
		if t.Dir, err = os.MkdirTemp(abs, ".staging-"); err != nil {
			t.release()
			return nil, fmt.Errorf("create staging folder in %s: %w", abs, err)
		}
	}
	fault.Point("outdir: begun " + abs)
	return t, nil
}

// resolve returns out as an absolute path with symlinks resolved (a
// symlinked --out is replaced at its target, keeping the link). A path that
// exists and is not a folder is an error.
func resolve(out string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return abs, nil
	case err != nil:
		return "", err
	case !st.IsDir():
		return "", errors.New("is a file, not a folder; give a folder for the outputs")
	}
	return filepath.EvalSymlinks(abs)
}

func acquire(dir, command string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock output folder %s: %w", dir, err)
	}
	if err := tryLock(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			holder = strings.TrimSpace(string(b))
		}
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, &BusyError{Out: dir, Holder: holder}
		}
		return nil, fmt.Errorf("lock output folder %s: %w", dir, err)
	}
	// Say who holds it; the file is shared by every generation of the
	// folder (Commit carries it over as a hard link), so this is what a
	// second writer reads.
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d, %s, since %s", os.Getpid(), command, time.Now().UTC().Format(time.RFC3339))
	}
	return f, nil
}

// removeStale removes what crashed runs left: their staging and swapped-out
// folders next to Out, and temporaries inside it.
func (t *Tx) removeStale() {
	parent, base := filepath.Split(t.Out)
	for _, pat := range []string{"." + base + ".staging-*", "." + base + ".old-*"} {
		matches, _ := filepath.Glob(filepath.Join(parent, escapeGlob(pat)))
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
	for _, pat := range stalePatterns {
		matches, _ := filepath.Glob(filepath.Join(t.Out, pat))
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
}

// escapeGlob escapes the glob metacharacters of a folder name, keeping the
// trailing "*".
func escapeGlob(pat string) string {
	head := strings.TrimSuffix(pat, "*")
	var b strings.Builder
	for _, r := range head {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

// Final returns the path that p, a path inside Dir, will have once Commit
// has put the set in place: under the output folder as the command named
// it (the out given to Begin, e.g. "out/generated/events.parquet"). A
// command that writes an input of its own into Dir (signalab demo's
// generated log) records it by this name. Other paths come back unchanged.
func (t *Tx) Final(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(t.Dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return filepath.Join(t.given, rel)
}

// Owns reports whether name belongs to the command's output set.
func (t *Tx) Owns(name string) bool {
	for _, p := range t.owned {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Commit makes the outputs written into Dir the content of Out, as one
// step (see the package comment), and releases the lock.
func (t *Tx) Commit() error {
	if t.done {
		return errors.New("outdir: transaction already ended")
	}
	defer t.Abort()
	if t.inPlace {
		return t.commitInPlace()
	}
	cwdInside := cwdWithin(t.Out)
	if carried, err := t.carryOver(); err != nil {
		// A file system without hard links (or a file that cannot be
		// linked): put the new files into place one by one instead.
		for _, name := range carried {
			os.RemoveAll(filepath.Join(t.Dir, name))
		}
		if rerr := t.commitInPlace(); rerr != nil {
			return fmt.Errorf("%v; then: %w", err, rerr)
		}
		return nil
	}
	if err := syncDir(t.Dir); err != nil {
		return err
	}
	fault.Point("outdir: carried over " + t.Out)
	err := exchange(t.Dir, t.Out)
	if err != nil {
		// No atomic exchange here: two renames, with a moment in which Out
		// does not exist (a crash then leaves the old set in .<name>.old-*,
		// removed by the next run; docs/limits.md).
		parent, base := filepath.Split(t.Out)
		old := filepath.Join(parent, "."+base+".old-"+fmt.Sprint(os.Getpid()))
		if err := os.Rename(t.Out, old); err != nil {
			return fmt.Errorf("replace %s: %w", t.Out, err)
		}
		fault.Point("outdir: moved aside " + t.Out)
		if err := os.Rename(t.Dir, t.Out); err != nil {
			os.Rename(old, t.Out)
			return fmt.Errorf("replace %s: %w", t.Out, err)
		}
		t.Dir = old
	}
	fault.Point("outdir: exchanged " + t.Out)
	parent, _ := filepath.Split(t.Out)
	syncDir(parent)
	if cwdInside {
		// The process's working folder was the old one; follow the path.
		os.Chdir(t.Out)
	}
	// t.Dir now names the old folder: Abort removes it.
	return nil
}

// carryOver puts every entry of Out that the new set neither replaces nor
// drops into Dir: files as hard links, symlinks as symlinks, folders as
// folders of hard links.
// It returns the names it put into Dir.
func (t *Tx) carryOver() (carried []string, err error) {
	entries, err := os.ReadDir(t.Out)
	if err != nil {
		return nil, fmt.Errorf("read output folder: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if t.Owns(name) || isStale(name) {
			continue
		}
		dst := filepath.Join(t.Dir, name)
		if _, err := os.Lstat(dst); err == nil {
			continue // the new set has its own
		}
		carried = append(carried, name)
		if err := linkTree(filepath.Join(t.Out, name), dst); err != nil {
			return carried, fmt.Errorf("keep %s in the new output set: %w", filepath.Join(t.Out, name), err)
		}
	}
	return carried, nil
}

func isStale(name string) bool {
	for _, p := range stalePatterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// linkTree recreates src at dst: a hard link for a file, a copy of a
// symlink, a folder whose entries are linked in turn.
func linkTree(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		return err
	}
	switch m := st.Mode(); {
	case m.IsRegular():
		return os.Link(src, dst)
	case m&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	case m.IsDir():
		if err := os.Mkdir(dst, m.Perm()); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := linkTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s is neither a file, a folder nor a symlink; move it out of the output folder", src)
}

// commitInPlace moves the staged files into Out one by one and removes the
// owned files the new set lacks.
func (t *Tx) commitInPlace() error {
	entries, err := os.ReadDir(t.Dir)
	if err != nil {
		return err
	}
	fresh := map[string]bool{}
	for _, e := range entries {
		fresh[e.Name()] = true
		if err := os.Rename(filepath.Join(t.Dir, e.Name()), filepath.Join(t.Out, e.Name())); err != nil {
			return fmt.Errorf("move %s into %s: %w", e.Name(), t.Out, err)
		}
		fault.Point("outdir: moved " + e.Name())
	}
	old, err := os.ReadDir(t.Out)
	if err != nil {
		return err
	}
	for _, e := range old {
		if t.Owns(e.Name()) && !fresh[e.Name()] {
			os.RemoveAll(filepath.Join(t.Out, e.Name()))
		}
	}
	return syncDir(t.Out)
}

// Abort removes the staging folder (after Commit: the old folder) and
// releases the lock. It is safe to call more than once.
func (t *Tx) Abort() {
	if t.done {
		return
	}
	t.done = true
	if t.Dir != "" {
		os.RemoveAll(t.Dir)
	}
	t.release()
}

func (t *Tx) release() {
	if t.lock != nil {
		t.lock.Close() // closing the descriptor releases the flock
		t.lock = nil
	}
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// cwdWithin reports whether the process's working folder is dir or inside it.
func cwdWithin(dir string) bool {
	wd, err := os.Getwd()
	if err != nil {
		return false
	}
	if w, err := filepath.EvalSymlinks(wd); err == nil {
		wd = w
	}
	return wd == dir || strings.HasPrefix(wd, dir+string(filepath.Separator))
}

func sameDevice(a, b string) bool {
	return deviceOf(a) == deviceOf(b)
}

// LockExisting takes the lock of dir when dir is already an output folder
// (it holds a LockFile), for a command that writes one file into it
// atomically (signalab report, import): it then cannot land between
// another writer's staging and swap. In any other folder it takes no lock
// and leaves no lock file. release is never nil.
func LockExisting(dir, command string) (release func(), err error) {
	if _, err := os.Stat(filepath.Join(dir, LockFile)); err != nil {
		return func() {}, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return func() {}, err
	}
	f, err := acquire(abs, command)
	if err != nil {
		return func() {}, err
	}
	return func() { f.Close() }, nil
}
