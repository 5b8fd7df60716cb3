package cliflag

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestPaths(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.parquet", "b.jsonl", "with,comma.csv"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b, comma := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "with,comma.csv")
	glob := filepath.Join(dir, "*.parquet")
	cases := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"repeated", []string{"--events", a, "--events", b}, []string{a, b}, ""},
		{"commas", []string{"--events", a + "," + b}, []string{a, b}, ""},
		{"glob", []string{"--events", glob}, []string{glob}, ""},
		{"a path with a comma", []string{"--events", comma}, []string{comma}, ""},
		{"folder", []string{"--events", dir}, []string{dir}, ""},
		{"missing", []string{"--events", a + "," + filepath.Join(dir, "nope.parquet")}, nil, "nope.parquet: no such file, folder or glob"},
		{"glob without match", []string{"--events", filepath.Join(dir, "*.csv.gz")}, nil, "no file matches this glob"},
		{"url refused", []string{"--events", "gs://bucket/x.parquet"}, nil, "no such file"},
		{"newline-separated list", []string{"--events", a + "\n" + b}, nil, "a path with a line break"},
	}
	for _, c := range cases {
		var got []string
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		PathsVar(fs, &got, "events", "")
		err := fs.Parse(c.args)
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.wantErr)
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr == "" && !slices.Equal(got, c.want):
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestPathsURLsAndFolders(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.csv")
	os.WriteFile(file, []byte("x"), 0o644)
	var got []string
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	PathsVar(fs, &got, "events", "").AllowURLs = true
	if err := fs.Parse([]string{"--events", "gs://bucket/logs/*.parquet," + file}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"gs://bucket/logs/*.parquet", file}) {
		t.Errorf("got %q", got)
	}
	var in []string
	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	PathsVar(fs, &in, "in", "").Folders = true
	if err := fs.Parse([]string{"--in", file}); err == nil || !strings.Contains(err.Error(), "want a folder") {
		t.Errorf("a file for --in: err = %v", err)
	}
	if err := Args([]string{file, filepath.Join(dir, "missing")}, false); err == nil || !strings.Contains(err.Error(), "missing: no such") {
		t.Errorf("Args: err = %v", err)
	}
}
