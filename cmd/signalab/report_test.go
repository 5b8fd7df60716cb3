package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reportFixture is the realistic run folder of the reports package.
var reportFixture = filepath.Join("..", "..", "reports", "testdata", "run")

func TestReportCommandFormats(t *testing.T) {
	out := t.TempDir()
	cases := []struct {
		args   []string
		file   string
		prefix string
	}{
		{[]string{"--out", filepath.Join(out, "r.html")}, "r.html", "<!DOCTYPE html>"},
		{[]string{"--out", filepath.Join(out, "r.md")}, "r.md", "## inbox-buyer-signals"},
		{[]string{"--out", filepath.Join(out, "r.json")}, "r.json", "{\n  \"schema_version\""},
		{[]string{"--out", filepath.Join(out, "report"), "--format", "md"}, "report", "## "},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		args := append([]string{"report", "--in", reportFixture}, c.args...)
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d, stderr %s", args, code, stderr.String())
		}
		b, err := os.ReadFile(filepath.Join(out, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), c.prefix) {
			t.Errorf("%v: file starts %q, want %q", args, string(b[:min(len(b), 40)]), c.prefix)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: wrote %d bytes to standard output, want none (the report goes to --out)", args, stdout.Len())
		}
		if !strings.Contains(stderr.String(), "wrote "+filepath.Join(out, c.file)) {
			t.Errorf("%v: stderr %q does not name the file written", args, stderr.String())
		}
	}
}

func TestReportCommandStdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"report", "--in", reportFixture, "--out", "-", "--format", "md"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "### Health") {
		t.Errorf("stdout lacks the Markdown report: %q", stdout.String())
	}
}

func TestReportCommandErrors(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"report", "--out", "x.html"}, []string{"--in is required", "Try:"}},
		{[]string{"report", "--in", reportFixture}, []string{"--out is required", "Try:"}},
		{[]string{"report", "--in", reportFixture, "--out", filepath.Join(empty, "x"), "--format", "pdf"},
			[]string{`unknown report format "pdf"`, "Try:"}},
		{[]string{"report", "--in", empty, "--out", filepath.Join(empty, "r.html")},
			[]string{"has no results.json", "signalab analyze"}},
		// A folder as --out (before: "rename … file exists"; issue 16).
		{[]string{"report", "--in", reportFixture, "--out", empty},
			[]string{"--out " + empty + " is a folder", filepath.Join(empty, "report.html")}},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr.String(), w)
			}
		}
		if _, err := os.Stat(filepath.Join(empty, "r.html")); err == nil {
			t.Errorf("%v: a failed report left a file behind", c.args)
		}
	}
}
