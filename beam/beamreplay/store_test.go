package beamreplay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// TestParityObjectStore: inputs and outputs as URLs of a Beam file system
// (Beam's in-memory memfs:// here, standing in for gs:// or s3://). Workers
// download inputs, write shards to the store, and the merge uploads the
// outputs; the tables must still equal the embedded engine's on local copies
// of the same files.
func TestParityObjectStore(t *testing.T) {
	log := filepath.Join(repoRoot(t), "testdata", "events", "events.parquet")
	pq, err := os.ReadFile(log)
	if err != nil {
		t.Skipf("committed log not present: %v", err)
	}
	var jl strings.Builder
	for _, e := range generate(t, 50, 4) {
		jl.WriteString(jsonLine(e) + "\n")
	}
	local := t.TempDir()
	in := filepath.Join(local, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"events.parquet": pq, "more.jsonl": []byte(jl.String()), "_ignored.jsonl": []byte("x\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(in, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		memfs.Write("memfs://store/in/"+name, b)
	}

	emb := filepath.Join(local, "embedded")
	runEmbedded(t, []string{in}, emb, signal.DefaultParams(), replay.OrderArrival)
	runBeam(t, Options{Events: []string{"memfs://store/in/"}, Out: "memfs://store/out", Params: signal.DefaultParams()})

	ctx := context.Background()
	fs := memfs.New(ctx)
	got := filepath.Join(local, "beam")
	if err := os.MkdirAll(got, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile, output.QuarantineFile, output.SummaryFile} {
		b, err := readObject(ctx, fs, "memfs://store/out/"+n)
		if err != nil {
			t.Fatalf("output %s: %v", n, err)
		}
		if err := os.WriteFile(filepath.Join(got, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range diffOutputs(t, emb, got) {
		if strings.HasPrefix(d, "replay.json inputs differ") {
			continue // paths differ by design; checked below
		}
		t.Error(d)
	}
	a, b := readSummary(t, emb), readSummary(t, got)
	if len(a.Inputs) != 2 || len(b.Inputs) != 2 {
		t.Fatalf("inputs: embedded %d, beam %d; want 2 (names starting with _ skipped)", len(a.Inputs), len(b.Inputs))
	}
	for i := range a.Inputs {
		x, y := a.Inputs[i], b.Inputs[i]
		if y.Path != "memfs://store/in/"+filepath.Base(x.Path) || x.SHA256 != y.SHA256 || x.Bytes != y.Bytes || x.Format != y.Format {
			t.Errorf("input %d: embedded %+v, beam %+v", i, x, y)
		}
	}
	left, err := fs.List(ctx, "memfs://store/out/_beam/*/*/*")
	if err != nil || len(left) > 0 {
		t.Errorf("shards left in the store: %v (%v)", left, err)
	}
	var sum output.Summary
	if err := json.Unmarshal(mustRead(t, filepath.Join(got, output.SummaryFile)), &sum); err != nil || sum.Counts.Read != a.Counts.Read {
		t.Errorf("beam replay.json: read %d rows (%v), want %d", sum.Counts.Read, err, a.Counts.Read)
	}
}

func TestResolveURLErrors(t *testing.T) {
	memfs.Write("memfs://errs/a.txt", []byte("x"))
	for _, p := range []string{"memfs://errs/missing.parquet", "memfs://errs/a.txt", "memfs://errs/none/", "memfs://errs/*.csv"} {
		if _, _, err := PlanSplits([]string{p}, 0, true); err == nil || !strings.Contains(err.Error(), "memfs://errs/") {
			t.Errorf("%s: error %v, want one naming the URL", p, err)
		}
	}
}

func readObject(ctx context.Context, fs filesystem.Interface, url string) ([]byte, error) {
	r, err := fs.OpenRead(ctx, url)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, r)
	return buf.Bytes(), err
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
