package assign

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/replay"
)

// ReadSessions streams the rows of a sessions.parquet file (replay.Session)
// to fn in file order, and checks that order (shop_id, buyer_id,
// started_at): the metrics and assign stages group a buyer's sessions by
// reading them in it. fn's row is reused after it returns.
func ReadSessions(path string, fn func(s *replay.Session) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("sessions %s: not a readable Parquet file: %w", path, err)
	}
	for _, c := range []string{"shop_id", "buyer_id", "started_at", "triggered"} {
		if _, ok := pf.Schema().Lookup(c); !ok {
			return fmt.Errorf("sessions %s: no column %s (want the replay's sessions.parquet)", path, c)
		}
	}
	r := parquet.NewGenericReader[replay.Session](pf)
	defer r.Close()
	buf := make([]replay.Session, 1024)
	var prev replay.Session
	var row int64
	for {
		n, err := r.Read(buf)
		for i := 0; i < n; i++ {
			row++
			s := &buf[i]
			if row > 1 && sessionLess(s, &prev) {
				return fmt.Errorf("sessions %s: row %d is out of order (want shop_id, buyer_id, started_at order, as the replay writes it)", path, row)
			}
			if ferr := fn(s); ferr != nil {
				return ferr
			}
			prev = *s
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sessions %s: row %d: %w", path, row+1, err)
		}
	}
}

// sessionLess reports whether a comes before b in the order of
// sessions.parquet (shop_id, buyer_id, started_at).
func sessionLess(a, b *replay.Session) bool {
	if a.ShopID != b.ShopID {
		return a.ShopID < b.ShopID
	}
	if a.BuyerID != b.BuyerID {
		return a.BuyerID < b.BuyerID
	}
	return a.StartedAt < b.StartedAt
}

// ReadActivity streams the analysis units of a sessions.parquet to fn:
// every session (buyers false), or every buyer with the sum of its
// sessions that started in [from, to) (buyers true). inWindow is false for
// a session that started outside [from, to), or a buyer none of whose
// sessions did (then the Activity sums all of them, for the counts of
// units outside the window). With window false every unit is in it.
func ReadActivity(path string, buyers, window bool, from, to int64, fn func(a *replay.Activity, inWindow bool) error) error {
	in := func(t int64) bool { return !window || (t >= from && t < to) }
	if !buyers {
		return ReadSessions(path, func(s *replay.Session) error {
			var a replay.Activity
			a.Add(s)
			a.SessionID = replay.SessionID(s.ShopID, s.BuyerID, s.StartedAt)
			return fn(&a, in(s.StartedAt))
		})
	}
	var cur, all replay.Activity
	have := false
	flush := func() error {
		if !have {
			return nil
		}
		if cur.Sessions > 0 {
			return fn(&cur, true)
		}
		return fn(&all, false)
	}
	err := ReadSessions(path, func(s *replay.Session) error {
		if have && (s.ShopID != all.ShopID || s.BuyerID != all.BuyerID) {
			if err := flush(); err != nil {
				return err
			}
			cur, all = replay.Activity{}, replay.Activity{}
		}
		have = true
		all.Add(s)
		if in(s.StartedAt) {
			cur.Add(s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
