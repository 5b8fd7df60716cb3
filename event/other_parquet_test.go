package event

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// otherParquet writes a Parquet file that is not a v1 event log: without
// buyer_id, or (wrongType) with event_time as a string.
func otherParquet(t testing.TB, wrongType bool) []byte {
	var buf bytes.Buffer
	var err error
	if wrongType {
		type row struct {
			EventID   string `parquet:"event_id"`
			Kind      string `parquet:"kind"`
			EventTime string `parquet:"event_time"`
			ShopID    string `parquet:"shop_id"`
			BuyerID   string `parquet:"buyer_id"`
		}
		err = parquet.Write(&buf, []row{{"e", "page_view", "2026-03-01T00:00:00Z", "s", "b"}})
	} else {
		type row struct {
			EventID   string `parquet:"event_id"`
			Kind      string `parquet:"kind"`
			EventTime int64  `parquet:"event_time,timestamp(microsecond)"`
			ShopID    string `parquet:"shop_id"`
		}
		err = parquet.Write(&buf, []row{{"e", "page_view", 1, "s"}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeParquetNoTime writes events with a nullable event_time column that is
// null in every row.
func writeParquetNoTime(t testing.TB, evs []Event) []byte {
	type row struct {
		EventID   string `parquet:"event_id"`
		Kind      string `parquet:"kind"`
		EventTime *int64 `parquet:"event_time,timestamp(microsecond)"`
		ShopID    string `parquet:"shop_id"`
		BuyerID   string `parquet:"buyer_id"`
	}
	rows := make([]row, len(evs))
	for i, e := range evs {
		rows[i] = row{EventID: e.EventID, Kind: string(e.Kind), ShopID: e.ShopID, BuyerID: e.BuyerID}
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
