package analysis

import (
	"io"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/results"
)

// Output file names.
const (
	ResultsJSON    = "results.json"
	ResultsParquet = "results.parquet"
)

// Write writes dir/results.json and dir/results.parquet atomically.
func Write(dir string, r *results.Results) error {
	b, err := results.Marshal(r)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, ResultsJSON), b); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, ResultsParquet), func(w io.Writer) error {
		pw := parquet.NewGenericWriter[results.ParquetRow](w, parquet.Compression(&zstd.Codec{}))
		rows := make([]results.ParquetRow, len(r.Rows))
		for i := range r.Rows {
			rows[i] = r.Rows[i].Flatten()
		}
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	})
}
