package assign

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/signalab/signalab/signal"
)

// TestReadUsersOwnTables: a conversations table with only the required
// columns, and an assignments table without bucket and reason (a user's own
// tables from a warehouse), are read with zero values for the rest.
func TestReadUsersOwnTables(t *testing.T) {
	dir := t.TempDir()
	type minimalConversation struct {
		ConversationID string `parquet:"conversation_id"`
		ShopID         string `parquet:"shop_id"`
		BuyerID        string `parquet:"buyer_id"`
		Channel        string `parquet:"channel"`
		StartedAt      int64  `parquet:"started_at,timestamp(microsecond)"`
	}
	at := t0.Add(time.Hour).UnixMicro()
	cp := filepath.Join(dir, "conversations.parquet")
	if err := writeParquet(cp, []minimalConversation{{"c1", "s1", "b1", "messenger", at}, {"c2", "s2", "b2", "messenger", at}}); err != nil {
		t.Fatal(err)
	}
	var got []signal.Conversation
	if err := ReadConversations(cp, func(c *signal.Conversation) error { got = append(got, *c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ShopID != "s2" || got[1].StartedAt != at || got[1].Triggered || got[1].ClosedAt != nil {
		t.Errorf("read %+v", got)
	}
	type minimalAssignment struct {
		UnitID       string `parquet:"unit_id"`
		Variant      string `parquet:"variant"`
		InExperiment bool   `parquet:"in_experiment"`
	}
	ap := filepath.Join(dir, "assignments.parquet")
	if err := writeParquet(ap, []minimalAssignment{{"s1", "control", true}, {"s2", "", false}}); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadAssignments(ap)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Variant != "control" || !rows[0].InExperiment || rows[0].Bucket != nil || rows[1].InExperiment {
		t.Errorf("read %+v", rows)
	}
}
