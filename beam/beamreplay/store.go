package beamreplay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/atomicfile"
)

// Object stores. Inputs and the output folder may be URLs of a Beam file
// system (gs://bucket/logs/, s3://…, memfs://… in tests): anything with a
// scheme. Package event and the Parquet writers work on local files, so a
// worker downloads an input object to a temporary file before reading it,
// writes shards straight to the store, and the merge downloads the shards,
// merges locally and uploads the outputs.

// IsURL reports whether p names an object in a Beam file system rather than
// a local path.
func IsURL(p string) bool { return strings.Contains(p, "://") }

// joinPath joins a folder and a name, keeping a URL's scheme intact.
func joinPath(dir string, elem ...string) string {
	if IsURL(dir) {
		return strings.TrimSuffix(dir, "/") + "/" + path.Join(elem...)
	}
	return filepath.Join(append([]string{dir}, elem...)...)
}

// resolveURL expands one input URL like event.ResolvePaths expands a local
// path: a glob lists its matches, a URL ending in "/" is a folder (every
// supported object directly in it, skipping names starting with "." or
// "_"), anything else is one object. Matches are sorted by name.
func resolveURL(ctx context.Context, p string) ([]event.FileInfo, error) {
	fs, err := filesystem.New(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read events %s: %w", p, err)
	}
	defer fs.Close()
	var names []string
	explicit := false
	switch {
	case strings.ContainsAny(p, "*?["):
		names, err = fs.List(ctx, p)
		explicit = true
	case strings.HasSuffix(p, "/"):
		names, err = fs.List(ctx, p+"*")
	default:
		names, explicit = []string{p}, true
	}
	if err != nil {
		return nil, fmt.Errorf("read events %s: %w", p, err)
	}
	slices.Sort(names)
	var out []event.FileInfo
	for _, n := range names {
		base := path.Base(n)
		if !explicit && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || strings.Contains(strings.TrimPrefix(n, p), "/")) {
			continue
		}
		format, gz, ok := event.FormatOf(n)
		if !ok {
			if explicit {
				return nil, fmt.Errorf("read events %s: unsupported file type; use .parquet, .jsonl, .ndjson or .csv (text formats may be gzipped)", n)
			}
			continue
		}
		size, err := fs.Size(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("read events %s: %w; check the URL", n, err)
		}
		out = append(out, event.FileInfo{Path: n, Format: format, Gzip: gz, Size: size, Rows: -1})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read events %s: no .parquet, .jsonl, .ndjson or .csv objects match", p)
	}
	return out, nil
}

// resolveInputs resolves local paths with event.ResolvePaths and URLs with
// resolveURL, keeping the order of paths.
func resolveInputs(ctx context.Context, paths []string) ([]event.FileInfo, error) {
	var out []event.FileInfo
	for i := 0; i < len(paths); {
		j := i
		for j < len(paths) && IsURL(paths[j]) == IsURL(paths[i]) {
			j++
		}
		var files []event.FileInfo
		var err error
		if IsURL(paths[i]) {
			for _, p := range paths[i:j] {
				f, err := resolveURL(ctx, p)
				if err != nil {
					return nil, err
				}
				files = append(files, f...)
			}
		} else if files, err = event.ResolvePaths(paths[i:j]); err != nil {
			return nil, err
		}
		out = append(out, files...)
		i = j
	}
	if len(out) == 0 {
		return event.ResolvePaths(nil) // its "no event files given" error
	}
	return out, nil
}

// download copies the object url into a new temporary file whose name ends
// in ext, and returns the file's name, its size and its SHA-256.
func download(ctx context.Context, url, ext string) (string, int64, string, error) {
	fs, err := filesystem.New(ctx, url)
	if err != nil {
		return "", 0, "", fmt.Errorf("read %s: %w", url, err)
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, url)
	if err != nil {
		return "", 0, "", fmt.Errorf("read %s: %w", url, err)
	}
	defer r.Close()
	f, err := os.CreateTemp("", "signalab-beam-*"+ext)
	if err != nil {
		return "", 0, "", fmt.Errorf("read %s: %w", url, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, "", fmt.Errorf("read %s: %w", url, err)
	}
	return f.Name(), n, hex.EncodeToString(h.Sum(nil)), nil
}

// extOf is the file name ending that event.FormatOf maps to format.
func extOf(format event.Format, gz bool) string {
	ext := "." + string(format)
	if gz {
		ext += ".gz"
	}
	return ext
}

// writeFile writes path, a local file (atomically) or an object (committed
// when the writer closes, which object stores do atomically).
func writeFile(path string, fill func(w io.Writer) error) error {
	if !IsURL(path) {
		return atomicfile.Write(path, fill)
	}
	ctx := context.Background()
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fill(w); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// upload copies the local file src to the object dst.
func upload(src, dst string) error {
	return writeFile(dst, func(w io.Writer) error {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
}

// removeObjects removes objects when the file system supports it; it is
// best effort (leftover shards do not change any output).
func removeObjects(urls []string) {
	ctx := context.Background()
	for _, u := range urls {
		fs, err := filesystem.New(ctx, u)
		if err != nil {
			continue
		}
		if rm, ok := fs.(filesystem.Remover); ok {
			_ = rm.Remove(ctx, u)
		}
		fs.Close()
	}
}
