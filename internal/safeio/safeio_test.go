package safeio

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenRefusesNonRegular: a FIFO is refused without blocking (open of a
// FIFO for reading waits for a writer unless O_NONBLOCK), a device and a
// folder are refused, a regular file (also through a symlink) opens and
// reads normally.
func TestOpenRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "p")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	reg := filepath.Join(dir, "r.txt")
	os.WriteFile(reg, []byte("hello"), 0o644)
	link := filepath.Join(dir, "l.txt")
	os.Symlink(reg, link)
	for path, want := range map[string]string{fifo: "a named pipe (FIFO)", "/dev/zero": "a device", dir: "a folder"} {
		f, err := Open(path)
		if err == nil {
			f.Close()
			t.Errorf("%s: opened", path)
			continue
		}
		if !strings.Contains(err.Error(), path+": is "+want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	for _, p := range []string{reg, link} {
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(b) != "hello" {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	if _, err := ReadFile(reg, 4); err == nil || !strings.Contains(err.Error(), "file longer than 4 bytes") {
		t.Errorf("ReadFile over the limit: %v", err)
	}
	if b, err := ReadFile(reg, 5); err != nil || string(b) != "hello" {
		t.Errorf("ReadFile at the limit: %q %v", b, err)
	}
}

func TestLimiter(t *testing.T) {
	l := &Limiter{R: strings.NewReader(strings.Repeat("x", 100)), Max: 10, What: "record"}
	buf := make([]byte, 8)
	n, _ := l.Read(buf)
	l.Reset()
	m, _ := l.Read(buf)
	if n != 8 || m != 8 {
		t.Fatalf("reads %d %d", n, m)
	}
	_, err := io.ReadAll(l)
	if !IsTooLong(err) || err.Error() != "record longer than 10 bytes" {
		t.Errorf("err %v", err)
	}
}
