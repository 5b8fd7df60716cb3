package assign

import (
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/signal"
)

func strconvItoa(i int) string { return strconv.Itoa(i) }

// writeConversations writes a conversations.parquet as the replay does.
func writeConversations(path string, rows []signal.Conversation) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		pw := parquet.NewGenericWriter[signal.Conversation](w)
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	})
}

// writeParquet writes rows of any parquet-tagged struct type.
func writeParquet[T any](path string, rows []T) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		pw := parquet.NewGenericWriter[T](w)
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	})
}
