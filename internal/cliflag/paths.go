// Package cliflag holds the flag types the CLIs (cmd/signalab and
// beam/cmd/signalab-beam) share, so that one rule holds in every command.
package cliflag

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// Paths is a flag holding a list of input paths (files, folders or globs).
// The one rule for lists in every command:
//
//   - the flag may be repeated (--events a --events b);
//   - a value may list several paths separated by commas (--events a,b),
//     unless the whole value names an existing file or folder (a path that
//     contains a comma is taken as is);
//   - every path must exist, or be a glob (*, ?, [) that matches at least one
//     file; anything else is an error when the flag is parsed, so a typo
//     fails before any work starts. With AllowURLs, a value with a scheme
//     (gs://bucket/x) is taken as is; its existence is the runner's business.
type Paths struct {
	list      *[]string
	AllowURLs bool
	// Folders requires every path to be a folder (for --in).
	Folders bool
}

// PathsVar defines a Paths flag on fs, storing into list.
func PathsVar(fs *pflag.FlagSet, list *[]string, name, usage string) *Paths {
	p := &Paths{list: list}
	fs.Var(p, name, usage)
	return p
}

// String returns the paths joined with commas.
func (p *Paths) String() string {
	if p.list == nil {
		return ""
	}
	return strings.Join(*p.list, ",")
}

// Type names the flag's value in help output.
func (p *Paths) Type() string { return "paths" }

// Set adds the paths of one flag value (see Paths).
func (p *Paths) Set(v string) error {
	parts, err := Split(v, p.AllowURLs, p.Folders)
	if err != nil {
		return err
	}
	*p.list = append(*p.list, parts...)
	return nil
}

// Split applies the rule of Paths to one value and returns its paths.
func Split(v string, allowURLs, folders bool) ([]string, error) {
	if v == "" {
		return nil, fmt.Errorf("empty path")
	}
	if _, err := os.Stat(v); err == nil {
		return []string{v}, Check(v, allowURLs, folders)
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if err := Check(s, allowURLs, folders); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q names no path", v)
	}
	return out, nil
}

// Check reports whether one path follows the rule of Paths: it exists (a
// folder, with folders), or is a glob matching something, or (with
// allowURLs) is a URL.
func Check(s string, allowURLs, folders bool) error {
	if allowURLs && IsURL(s) {
		return nil
	}
	st, err := os.Stat(s)
	if err == nil {
		if folders && !st.IsDir() {
			return fmt.Errorf("%s is a file; want a folder", s)
		}
		return nil
	}
	if strings.ContainsAny(s, "*?[") {
		m, gerr := filepath.Glob(s)
		if gerr != nil {
			return fmt.Errorf("%s: bad glob pattern (%v)", s, gerr)
		}
		if len(m) == 0 {
			return fmt.Errorf("%s: no file matches this glob", s)
		}
		return nil
	}
	if strings.ContainsAny(s, "\n\r") {
		return fmt.Errorf("%q: a path with a line break (a list from $(...) or a file?); separate paths with commas or repeat the flag", s)
	}
	what := "file, folder or glob"
	if folders {
		what = "folder"
	}
	return fmt.Errorf("%s: no such %s", s, what)
}

// IsURL reports whether s starts with a URL scheme (gs://, s3://, ...).
func IsURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// Args applies the rule of Paths to positional arguments that are more
// paths (replay --events a b): each is one path and must exist or match.
func Args(args []string, allowURLs bool) error {
	for _, a := range args {
		if err := Check(a, allowURLs, false); err != nil {
			return err
		}
	}
	return nil
}
