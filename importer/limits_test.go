package importer

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/signalab/signalab/event"
)

// TestImportLineLimit: an OTTO line or a REES46 record longer than the
// readers' limits (event.MaxLineBytes, event.MaxRecordBytes) is an error
// naming the file and line, read no further than the limit (before: a .gz
// with a 4 GiB OTTO line peaked at 8.4 GB; issue 16, class 3). The line
// here is 4 times the limit, compressed.
func TestImportLineLimit(t *testing.T) {
	big := func(head, tail string, lines bool) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		io.WriteString(zw, head)
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		if lines {
			chunk = bytes.Repeat([]byte("a\nb"), 1<<19)
		}
		for n := 0; n < 4*event.MaxLineBytes; n += len(chunk) {
			zw.Write(chunk)
		}
		io.WriteString(zw, tail)
		zw.Close()
		return buf.Bytes()
	}
	for _, c := range []struct {
		name   string
		format Format
		data   []byte
		want   string
	}{
		{"otto.jsonl.gz", FormatOTTO, big(`{"session":1,"events":[]}`+"\n"+`{"session":2,"x":"`, `"}`+"\n", false), "line 2: line longer than 64 MiB"},
		{"rees46.csv.gz", FormatREES46, big("event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"+
			"2019-10-01 00:00:00 UTC,view,1,2,c,b,1.00,7,s1\n2019-10-01 00:00:01 UTC,view,\"", "\",2,c,b,1.00,7,s1\n", true), "line 3: a CSV record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), c.name)
			if err := os.WriteFile(in, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ImportFile(in, filepath.Join(t.TempDir(), "out.parquet"), "", Options{Format: c.format})
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to name the file and %q", err, c.want)
			}
			// At most a few times the limit (append growth; see
			// event.TestCSVRecordLimit), not the whole line.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 10*event.MaxLineBytes {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestImportFIFO: an input that is a named pipe is an error at once.
func TestImportFIFO(t *testing.T) {
	in := filepath.Join(t.TempDir(), "p.jsonl")
	if err := syscall.Mkfifo(in, 0o644); err != nil {
		t.Skip(err)
	}
	_, err := ImportFile(in, filepath.Join(t.TempDir(), "out.parquet"), "", Options{Format: FormatOTTO})
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("error %v", err)
	}
}
