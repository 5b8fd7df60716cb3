package beamreplay

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/replay/wire"
	"github.com/signalab/signalab/signal"
)

// manifest is what a step tells the merge step: counts, and the shards it
// wrote. Beam delivers each committed bundle's manifest exactly once, so the
// merge reads exactly the shards of successful work, and ignores files that
// failed or retried attempts may have left behind.
type manifest struct {
	// Split is set for a read manifest (one per split).
	Split *Split `json:"split,omitempty"`
	// Input describes the split's whole file (size and SHA-256); only the
	// first split of each file sets it.
	Input *output.InputFile `json:"input,omitempty"`
	// Counts are the step's tallies: rows read and quarantined for a read
	// manifest, the logic's counts for a bundle manifest.
	Counts replay.Counts `json:"counts"`
	// Shard files, each sorted in its table's output order.
	Quarantine    []string `json:"quarantine,omitempty"`
	Signals       []string `json:"signals,omitempty"`
	Conversations []string `json:"conversations,omitempty"`
	Orders        []string `json:"orders,omitempty"`
	Sessions      []string `json:"sessions,omitempty"`
}

// readSplitFn reads one split with package event's reader (validation and
// quarantine included) and emits each valid event keyed by buyer, then one
// manifest with the split's counts and its quarantine shard.
type readSplitFn struct {
	Strict  bool   `json:"strict"`
	WorkDir string `json:"work_dir"`
}

func (fn *readSplitFn) ProcessElement(ctx context.Context, enc string, emit func(string, []byte), emitManifest func(string)) error {
	sp, err := DecodeSplit(enc)
	if err != nil {
		return err
	}
	var quar []event.Quarantined
	opts := event.ReadOptions{Strict: fn.Strict, OnQuarantine: func(q event.Quarantined) error {
		q.File, q.Path = sp.File, sp.Path
		quar = append(quar, q)
		return nil
	}}
	var input *output.InputFile
	if IsURL(sp.Path) {
		// Download the object, read the local copy as the whole file.
		local, n, sum, err := download(ctx, sp.Path, extOf(sp.Format, sp.Gzip))
		if err != nil {
			return err
		}
		defer os.Remove(local)
		input = &output.InputFile{Path: sp.Path, Format: string(sp.Format), Bytes: n, SHA256: sum}
		if sp.Gzip {
			input.Format += "+gzip"
		}
		r, err := event.Open([]string{local}, opts)
		if err != nil {
			return sp.fixError(err, local)
		}
		defer r.Close()
		return fn.emitSplit(sp, &splitReader{Reader: r, sp: sp, tmp: local}, &quar, input, emit, emitManifest)
	}
	r, err := openSplit(sp, opts)
	if err != nil {
		return err
	}
	defer r.Close()
	return fn.emitSplit(sp, r, &quar, input, emit, emitManifest)
}

// emitSplit emits the events of r, then the split's manifest.
func (fn *readSplitFn) emitSplit(sp Split, r *splitReader, quarp *[]event.Quarantined, input *output.InputFile,
	emit func(string, []byte), emitManifest func(string)) error {
	var packs eventPacks
	for {
		batch, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		for i := range batch {
			e := &batch[i]
			e.File = sp.File
			e.Row += sp.FirstRow - 1
			packs.add(e)
		}
		if packs.bytes >= packBudget {
			packs.flush(emit)
		}
	}
	packs.flush(emit)
	m := manifest{Split: &sp, Input: input}
	if input == nil && sp.RowGroupStart == 0 {
		in, err := checksumInput(sp)
		if err != nil {
			return err
		}
		m.Input = &in
	}
	quar := *quarp
	m.Counts.Read = r.RowsRead()
	for code, n := range r.CurrencyCounts() {
		if m.Counts.Currencies == nil {
			m.Counts.Currencies = map[string]int64{}
		}
		m.Counts.Currencies[code] += n
	}
	for reason, n := range r.QuarantineCounts() {
		if n > 0 {
			if m.Counts.Quarantined == nil {
				m.Counts.Quarantined = map[string]int64{}
			}
			m.Counts.Quarantined[string(reason)] += n
		}
	}
	if len(quar) > 0 {
		for i := range quar {
			quar[i].Row += sp.FirstRow - 1
		}
		path := joinPath(fn.WorkDir, "quarantine", fmt.Sprintf("file%06d-rg%06d.jsonl", sp.File, sp.RowGroupStart))
		if err := writeQuarantineShard(path, quar); err != nil {
			return err
		}
		m.Quarantine = []string{path}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	emitManifest(string(b))
	return nil
}

// packBudget bounds the encoded bytes a reader holds in packs before it
// emits them.
const packBudget = 32 << 20

// eventPacks pre-groups a split's events by buyer: each buyer's events are
// one value, wire.Version followed by the events' wire records, so the
// shuffle moves one element per buyer and split (or per buyer and
// packBudget bytes) instead of one per event. Runners pay a fixed cost per
// element (a windowed-value header, an allocation, a slot in the group),
// which this divides by the events per buyer. The grouping result is the
// same: GroupByKey gathers every pack of a buyer, and the logic orders the
// buyer's events by content anyway.
type eventPacks struct {
	byKey map[string][]byte
	keys  []string // first-seen order, so emission order is deterministic
	bytes int
}

func (p *eventPacks) add(e *event.Event) {
	if p.byKey == nil {
		p.byKey = map[string][]byte{}
	}
	k := BuyerKeyString(e.Key())
	v, ok := p.byKey[k]
	if !ok {
		p.keys = append(p.keys, k)
		v = append(v, wire.Version)
	}
	n := len(v)
	v = wire.AppendEvent(v, e)
	p.byKey[k] = v
	p.bytes += len(v) - n
}

func (p *eventPacks) flush(emit func(string, []byte)) {
	for _, k := range p.keys {
		emit(k, p.byKey[k])
	}
	clear(p.byKey)
	p.keys, p.bytes = p.keys[:0], 0
}

// unpackEvents appends the events of one pack to dst, decoded with d
// (which copies strings: the pack's bytes belong to the runner).
func unpackEvents(d *wire.Decoder, b []byte, dst []event.Event) ([]event.Event, error) {
	if len(b) == 0 || b[0] != wire.Version {
		if len(b) == 0 {
			return dst, fmt.Errorf("decode event pack: empty")
		}
		return dst, fmt.Errorf("decode event pack: record version %d, this binary reads %d (are the launcher and the workers the same build?)", b[0], wire.Version)
	}
	for b = b[1:]; len(b) > 0; {
		var e event.Event
		n, err := d.Decode(b, &e)
		if err != nil {
			return dst, fmt.Errorf("decode event pack: %w", err)
		}
		dst = append(dst, e)
		b = b[n:]
	}
	return dst, nil
}

// checksumInput describes a split's file as replay.json's inputs do (as the
// embedded engine's checksumInputs): path as given, format ("+gzip" when
// compressed), bytes, SHA-256.
func checksumInput(sp Split) (output.InputFile, error) {
	f, err := os.Open(sp.Path)
	if err != nil {
		return output.InputFile{}, fmt.Errorf("checksum input: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return output.InputFile{}, fmt.Errorf("checksum input %s: %w", sp.Path, err)
	}
	format := string(sp.Format)
	if sp.Gzip {
		format += "+gzip"
	}
	return output.InputFile{Path: sp.Path, Format: format, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// writeQuarantineShard writes quarantined rows, sorted by (file, row), as
// JSON Lines.
func writeQuarantineShard(path string, rows []event.Quarantined) error {
	slices.SortFunc(rows, compareQuarantined)
	return writeFile(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		for i := range rows {
			if err := enc.Encode(&rows[i]); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

func compareQuarantined(a, b event.Quarantined) int {
	if c := cmp.Compare(a.File, b.File); c != 0 {
		return c
	}
	return cmp.Compare(a.Row, b.Row)
}

// readQuarantineShard reads what writeQuarantineShard wrote.
func readQuarantineShard(path string) ([]event.Quarantined, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read quarantine shard: %w", err)
	}
	defer f.Close()
	var out []event.Quarantined
	dec := json.NewDecoder(bufio.NewReader(f))
	for {
		var q event.Quarantined
		if err := dec.Decode(&q); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("read quarantine shard %s: %w", path, err)
		}
		out = append(out, q)
	}
}

// replayBuyersFn runs each buyer's grouped events through a replay.Buyer
// (Replay, which orders them exactly as the embedded engine does) and
// buffers the output rows of the bundle. When the buffer holds SpillRows
// rows, and at the end of the bundle, it writes them as sorted shards; the
// bundle's manifest lists them with the summed counts.
type replayBuyersFn struct {
	Params    string `json:"params"` // signal.Params as JSON
	Order     int    `json:"order"`
	WorkDir   string `json:"work_dir"`
	SpillRows int    `json:"spill_rows"`
	Sessions  int64  `json:"sessions"` // session gap (time.Duration), 0: none

	buyer  *replay.Buyer
	dec    wire.Decoder
	bundle string
	seq    int
	events []event.Event
	out    replay.Output // the bundle's rows since the last spill, and its counts
	m      manifest
}

func (fn *replayBuyersFn) Setup() error {
	var params signal.Params
	if err := json.Unmarshal([]byte(fn.Params), &params); err != nil {
		return fmt.Errorf("decode params: %w", err)
	}
	fn.buyer = replay.NewBuyer(event.BuyerKey{}, params, replay.Order(fn.Order))
	fn.buyer.TrackSessions(time.Duration(fn.Sessions))
	fn.dec = wire.Decoder{Copy: true}
	return nil
}

func (fn *replayBuyersFn) StartBundle(_ func(string)) {
	fn.bundle = newRunID()
	fn.seq = 0
	fn.m = manifest{}
	fn.out.Reset()
}

func (fn *replayBuyersFn) ProcessElement(key string, values func(*[]byte) bool, _ func(string)) error {
	fn.events = fn.events[:0]
	var b []byte
	for values(&b) {
		var err error
		if fn.events, err = unpackEvents(&fn.dec, b, fn.events); err != nil {
			return fmt.Errorf("buyer %q: %w", key, err)
		}
	}
	fn.buyer.Replay(fn.events, &fn.out)
	clear(fn.events) // drop references to strings
	fn.dec.Reset()
	if fn.out.Rows() >= fn.SpillRows {
		return fn.spill()
	}
	return nil
}

// spill writes the buffered rows as one sorted shard per table.
func (fn *replayBuyersFn) spill() error {
	base := joinPath(fn.WorkDir, "rows", fn.bundle+"-"+strconv.Itoa(fn.seq))
	fn.seq++
	if len(fn.out.Signals) > 0 {
		p := base + "-signals.parquet"
		if err := writeShard(p, fn.out.Signals, output.CompareSignals); err != nil {
			return err
		}
		fn.m.Signals = append(fn.m.Signals, p)
	}
	if len(fn.out.Conversations) > 0 {
		p := base + "-conversations.parquet"
		if err := writeShard(p, fn.out.Conversations, output.CompareConversations); err != nil {
			return err
		}
		fn.m.Conversations = append(fn.m.Conversations, p)
	}
	if len(fn.out.Orders) > 0 {
		p := base + "-orders.parquet"
		if err := writeShard(p, fn.out.Orders, output.CompareOrders); err != nil {
			return err
		}
		fn.m.Orders = append(fn.m.Orders, p)
	}
	if len(fn.out.Sessions) > 0 {
		p := base + "-sessions.parquet"
		if err := writeShard(p, fn.out.Sessions, output.CompareSessions); err != nil {
			return err
		}
		fn.m.Sessions = append(fn.m.Sessions, p)
	}
	counts := fn.out.Counts
	fn.out.Reset()
	fn.out.Counts = counts // the counts go into the manifest at the end of the bundle
	return nil
}

func (fn *replayBuyersFn) FinishBundle(emit func(string)) error {
	if err := fn.spill(); err != nil {
		return err
	}
	fn.m.Counts = fn.out.Counts
	fn.out.Counts = replay.Counts{}
	b, err := json.Marshal(fn.m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	emit(string(b))
	return nil
}
