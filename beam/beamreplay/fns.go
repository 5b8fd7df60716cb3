package beamreplay

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
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
	Input *replay.InputFile `json:"input,omitempty"`
	// Counts are the step's tallies: rows read and quarantined for a read
	// manifest, the logic's counts for a bundle manifest.
	Counts replay.Counts `json:"counts"`
	// Shard files, each sorted in its table's output order.
	Quarantine    []string `json:"quarantine,omitempty"`
	Signals       []string `json:"signals,omitempty"`
	Conversations []string `json:"conversations,omitempty"`
	Orders        []string `json:"orders,omitempty"`
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
	var input *replay.InputFile
	if IsURL(sp.Path) {
		// Download the object, read the local copy as the whole file.
		local, n, sum, err := download(ctx, sp.Path, extOf(sp.Format, sp.Gzip))
		if err != nil {
			return err
		}
		defer os.Remove(local)
		input = &replay.InputFile{Path: sp.Path, Format: string(sp.Format), Bytes: n, SHA256: sum}
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
func (fn *readSplitFn) emitSplit(sp Split, r *splitReader, quarp *[]event.Quarantined, input *replay.InputFile,
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
// concatenated into one value (uvarint length + AppendEvent encoding, per
// event), so the shuffle moves one element per buyer and split (or per
// buyer and packBudget bytes) instead of one per event. Runners pay a fixed
// cost per element (a windowed-value header, an allocation, a slot in the
// group), which this divides by the events per buyer. The grouping result is
// the same: GroupByKey gathers every pack of a buyer, and the logic sorts the
// buyer's events by content anyway.
type eventPacks struct {
	byKey map[string][]byte
	keys  []string // first-seen order, so emission order is deterministic
	bytes int
	enc   []byte
}

func (p *eventPacks) add(e *event.Event) {
	if p.byKey == nil {
		p.byKey = map[string][]byte{}
	}
	k := BuyerKeyString(e.Key())
	p.enc = AppendEvent(p.enc[:0], e)
	v, ok := p.byKey[k]
	if !ok {
		p.keys = append(p.keys, k)
	}
	n := len(v)
	v = binary.AppendUvarint(v, uint64(len(p.enc)))
	v = append(v, p.enc...)
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

// unpackEvents appends the events of one pack to dst.
func unpackEvents(b []byte, dst []event.Event) ([]event.Event, error) {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return dst, fmt.Errorf("decode event pack: %w", errShort)
		}
		e, err := DecodeEvent(b[k : k+int(n)])
		if err != nil {
			return dst, err
		}
		dst = append(dst, e)
		b = b[k+int(n):]
	}
	return dst, nil
}

// checksumInput describes a split's file as replay.json's inputs do (as the
// embedded engine's checksumInputs): path as given, format ("+gzip" when
// compressed), bytes, SHA-256.
func checksumInput(sp Split) (replay.InputFile, error) {
	f, err := os.Open(sp.Path)
	if err != nil {
		return replay.InputFile{}, fmt.Errorf("checksum input: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return replay.InputFile{}, fmt.Errorf("checksum input %s: %w", sp.Path, err)
	}
	format := string(sp.Format)
	if sp.Gzip {
		format += "+gzip"
	}
	return replay.InputFile{Path: sp.Path, Format: format, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
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

// replayBuyersFn runs each buyer's grouped events through replay.ProcessBuyer
// (which orders them with replay.SortBuyerEvents exactly as the embedded
// engine does) and buffers the output rows of the bundle. When the buffer
// holds SpillRows rows, and at the end of the bundle, it writes them as
// sorted shards; the bundle's manifest lists them with the summed counts.
type replayBuyersFn struct {
	Params    string `json:"params"` // signal.Params as JSON
	Order     int    `json:"order"`
	WorkDir   string `json:"work_dir"`
	SpillRows int    `json:"spill_rows"`

	params  signal.Params
	bundle  string
	seq     int
	events  []event.Event
	signals []signal.Signal
	convs   []signal.Conversation
	orders  []signal.Order
	m       manifest
}

func (fn *replayBuyersFn) Setup() error {
	if err := json.Unmarshal([]byte(fn.Params), &fn.params); err != nil {
		return fmt.Errorf("decode params: %w", err)
	}
	return nil
}

func (fn *replayBuyersFn) StartBundle(_ func(string)) {
	fn.bundle = newRunID()
	fn.seq = 0
	fn.m = manifest{}
}

func (fn *replayBuyersFn) ProcessElement(key string, values func(*[]byte) bool, _ func(string)) error {
	fn.events = fn.events[:0]
	var b []byte
	for values(&b) {
		var err error
		if fn.events, err = unpackEvents(b, fn.events); err != nil {
			return fmt.Errorf("buyer %q: %w", key, err)
		}
	}
	res := replay.ProcessBuyer(fn.params, replay.Order(fn.Order), fn.events)
	clear(fn.events) // drop references to strings
	fn.signals = append(fn.signals, res.Signals...)
	fn.convs = append(fn.convs, res.Conversations...)
	fn.orders = append(fn.orders, res.Orders...)
	fn.m.Counts.Add(res.Counts)
	if len(fn.signals)+len(fn.convs)+len(fn.orders) >= fn.SpillRows {
		return fn.spill()
	}
	return nil
}

// spill writes the buffered rows as one sorted shard per table.
func (fn *replayBuyersFn) spill() error {
	base := joinPath(fn.WorkDir, "rows", fn.bundle+"-"+strconv.Itoa(fn.seq))
	fn.seq++
	if len(fn.signals) > 0 {
		p := base + "-signals.parquet"
		if err := writeShard(p, fn.signals, replay.CompareSignals); err != nil {
			return err
		}
		fn.m.Signals = append(fn.m.Signals, p)
	}
	if len(fn.convs) > 0 {
		p := base + "-conversations.parquet"
		if err := writeShard(p, fn.convs, replay.CompareConversations); err != nil {
			return err
		}
		fn.m.Conversations = append(fn.m.Conversations, p)
	}
	if len(fn.orders) > 0 {
		p := base + "-orders.parquet"
		if err := writeShard(p, fn.orders, replay.CompareOrders); err != nil {
			return err
		}
		fn.m.Orders = append(fn.m.Orders, p)
	}
	clear(fn.signals)
	clear(fn.convs)
	clear(fn.orders)
	fn.signals, fn.convs, fn.orders = fn.signals[:0], fn.convs[:0], fn.orders[:0]
	return nil
}

func (fn *replayBuyersFn) FinishBundle(emit func(string)) error {
	if err := fn.spill(); err != nil {
		return err
	}
	b, err := json.Marshal(fn.m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	emit(string(b))
	return nil
}
