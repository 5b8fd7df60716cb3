package event

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/signalab/signalab/internal/parquetsafe"
	"github.com/signalab/signalab/internal/safeio"
)

// parquetPlan is the result of checking a Parquet file's schema: which leaf
// columns to read for which v1 fields.
type parquetPlan struct {
	leaves []int            // parquet leaf column indices to read
	cols   [][]int          // the same, per top-level column
	unread *[numFields]bool // columns left out by a column selection, or nil
	rows   int64
	rgRows []int64 // rows per row group
}

// CheckParquetSchema checks that r (size bytes, named name in messages) is a
// Parquet file whose schema holds the v1 event columns with acceptable types,
// and returns its row count. It is the schema check Open runs on every
// Parquet input. Required columns: event_id, kind, event_time, shop_id,
// buyer_id. Accepted types: strings as STRING/BYTE_ARRAY (plain, large or
// dictionary encoded); timestamps as TIMESTAMP of any unit (converted to µs;
// a timestamp without isAdjustedToUTC is taken as UTC); item_count and money
// as any integer type; product_ids as LIST<STRING>. Columns may be REQUIRED or
// OPTIONAL; nulls in required columns quarantine the row.
func CheckParquetSchema(name string, r parquet.ReaderAtSeeker, size int64) (int64, error) {
	_, _, plan, err := openParquet(name, r, size, nil)
	if err != nil {
		return 0, err
	}
	return plan.rows, nil
}

func checkParquetFile(path string, columns []string) (int64, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read events %s", errorNamed(path, err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("read events %s: %w", path, err)
	}
	_, _, plan, err := openParquet(path, f, st.Size(), columns)
	if err != nil {
		return 0, err
	}
	return plan.rows, nil
}

var parquetMagic = []byte("PAR1")

// readAllocator is the Arrow allocator of every Parquet read: buffers are
// recycled across batches (see poolAllocator).
var readAllocator memory.Allocator = new(poolAllocator)

// openParquet opens and checks a Parquet file. Panics in the Parquet library
// on corrupt input are turned into errors.
func openParquet(name string, r parquet.ReaderAtSeeker, size int64, columns []string) (pf *file.Reader, fr *pqarrow.FileReader, plan *parquetPlan, err error) {
	if size == 0 {
		return nil, nil, nil, fmt.Errorf("read events %s: file is empty (0 bytes); it was probably not written completely: write it again", name)
	}
	head := make([]byte, 4)
	tail := make([]byte, 4)
	if size < 12 {
		return nil, nil, nil, fmt.Errorf("read events %s: not a Parquet file (%d bytes, too small); check the path, or give a text log a .jsonl or .csv extension", name, size)
	}
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, nil, nil, fmt.Errorf("read events %s: %w", name, err)
	}
	if _, err := r.ReadAt(tail, size-4); err != nil {
		return nil, nil, nil, fmt.Errorf("read events %s: %w", name, err)
	}
	switch {
	case !bytes.Equal(head, parquetMagic):
		return nil, nil, nil, fmt.Errorf("read events %s: not a Parquet file (no PAR1 magic at the start); check the path, or give a text log a .jsonl or .csv extension", name)
	case !bytes.Equal(tail, parquetMagic):
		return nil, nil, nil, fmt.Errorf("read events %s: truncated Parquet file (no PAR1 footer at the end); it was probably not written completely: write it again", name)
	}
	defer func() {
		if p := recover(); p != nil {
			pf, fr, plan = nil, nil, nil
			err = fmt.Errorf("read events %s: corrupt Parquet file (%v); write it again", name, p)
		}
	}()
	pf, err = file.NewParquetReader(r, file.WithReadProps(parquet.NewReaderProperties(readAllocator)))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read events %s: corrupt Parquet footer (%v); write it again", name, err)
	}
	// Low-cardinality string columns are read as Arrow dictionaries: the
	// decoder then interns each distinct value once per batch instead of
	// once per row.
	var props pqarrow.ArrowReadProperties
	for f := field(0); f < numFields; f++ {
		if !interned(f) {
			continue
		}
		for _, leaf := range leavesOf(pf, Columns[f]) {
			if pf.MetaData().Schema.Column(leaf).PhysicalType() == parquet.Types.ByteArray {
				props.SetReadDict(leaf, true)
			}
		}
	}
	fr, err = pqarrow.NewFileReader(pf, props, readAllocator)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read events %s: unsupported Parquet schema (%v)", name, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read events %s: unsupported Parquet schema (%v)", name, err)
	}
	want := map[string]bool{}
	if columns != nil {
		for _, c := range columns {
			f, ok := fieldByName(c)
			if !ok {
				return nil, nil, nil, fmt.Errorf("read events: unknown column %q in the column selection; known columns: %s", c, strings.Join(Columns[:], ", "))
			}
			want[Columns[f]] = true
		}
	}
	plan = &parquetPlan{rows: pf.NumRows()}
	for f := field(0); f < numFields; f++ {
		col := Columns[f]
		idx := sc.FieldIndices(col)
		if len(idx) == 0 {
			if columns != nil && !want[col] {
				if plan.unread == nil {
					plan.unread = new([numFields]bool)
				}
				plan.unread[f] = true
			}
			if requiredColumn(f) {
				return nil, nil, nil, fmt.Errorf("read events %s: missing required column %s (the file has %s); every event log needs event_id, kind, event_time, shop_id and buyer_id",
					name, col, truncate(fieldNames(sc)))
			}
			continue
		}
		typ := sc.Field(idx[0]).Type
		if want := typeWanted(f); !typeOK(f, typ) {
			return nil, nil, nil, fmt.Errorf("read events %s: column %s has type %s, want %s; convert the column and write the file again", name, col, typ, want)
		}
		if columns != nil && !requiredColumn(f) && !want[col] {
			if plan.unread == nil {
				plan.unread = new([numFields]bool)
			}
			plan.unread[f] = true
			continue
		}
		plan.leaves = append(plan.leaves, leavesOf(pf, col)...)
		plan.cols = append(plan.cols, leavesOf(pf, col))
	}
	for i := 0; i < pf.NumRowGroups(); i++ {
		plan.rgRows = append(plan.rgRows, pf.MetaData().RowGroup(i).NumRows())
	}
	return pf, fr, plan, nil
}

func fieldNames(sc *arrow.Schema) string {
	names := make([]string, sc.NumFields())
	for i := range names {
		names[i] = sc.Field(i).Name
	}
	return strings.Join(names, ", ")
}

// leavesOf returns the leaf column indices under top-level column name.
func leavesOf(pf *file.Reader, name string) []int {
	var out []int
	s := pf.MetaData().Schema
	for i := 0; i < s.NumColumns(); i++ {
		if p := s.Column(i).ColumnPath(); len(p) > 0 && p[0] == name {
			out = append(out, i)
		}
	}
	return out
}

func typeWanted(f field) string {
	switch f {
	case fEventTime, fIngestTime:
		return "timestamp (Parquet TIMESTAMP(MICROS, isAdjustedToUTC=true))"
	case fItemCount:
		return "an integer (int32)"
	case fCartValue, fOrderValue:
		return "an integer (int64 minor units, cents)"
	case fProductIDs:
		return "list<string>"
	}
	return "string"
}

func isStringType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return true
	case arrow.DICTIONARY:
		return isStringType(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

func isIntType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

func typeOK(f field, t arrow.DataType) bool {
	switch f {
	case fEventTime, fIngestTime:
		return t.ID() == arrow.TIMESTAMP
	case fItemCount, fCartValue, fOrderValue:
		return isIntType(t)
	case fProductIDs:
		switch lt := t.(type) {
		case *arrow.ListType:
			return isStringType(lt.Elem())
		case *arrow.LargeListType:
			return isStringType(lt.Elem())
		}
		return false
	}
	return isStringType(t)
}

// parquetSource decodes one Parquet file with parallel workers, each taking
// every W-th row group, and delivers batches in row-group order.
type parquetSource struct {
	path string
	plan *parquetPlan
	outs []chan pqMsg
	cur  int
	// unordered: every worker sends to outs[0]; cur counts the row groups
	// that ended.
	unordered bool
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	done      bool
}

type pqMsg struct {
	b     *batch
	err   error
	endRG bool
}

func openParquetSource(path string, fileIdx int32, opts ReadOptions, pool *batchPool) (source, error) {
	// Each worker opens the file itself: file readers are not shared.
	open := func() (*os.File, *pqarrow.FileReader, *parquetPlan, error) {
		f, err := safeio.Open(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read events %s", errorNamed(path, err))
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("read events %s: %w", path, err)
		}
		_, fr, plan, err := openParquet(path, f, st.Size(), opts.Columns)
		if err != nil {
			f.Close()
			return nil, nil, nil, err
		}
		fr.Props.BatchSize = int64(opts.BatchSize)
		fr.Props.PreAllocBinaryData = true
		return f, fr, plan, nil
	}
	f0, fr0, plan, err := open()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &parquetSource{path: path, plan: plan, cancel: cancel}
	nw := min(opts.Workers, max(1, len(plan.rgRows)))
	// Fewer row groups than workers (a 1M-event file is one row group):
	// decode the columns of each batch in parallel instead.
	colParallel := opts.Workers > 1 && len(plan.rgRows) < opts.Workers
	starts := make([]int64, len(plan.rgRows))
	for i := 1; i < len(starts); i++ {
		starts[i] = starts[i-1] + plan.rgRows[i-1]
	}
	s.unordered = opts.Unordered && !opts.Strict && nw > 1
	for w := 0; w < nw; w++ {
		var out chan pqMsg
		switch {
		case !s.unordered:
			out = make(chan pqMsg, 1)
			s.outs = append(s.outs, out)
		case w == 0:
			out = make(chan pqMsg, nw)
			s.outs = append(s.outs, out)
		default:
			out = s.outs[0]
		}
		f, fr := f0, fr0
		if w > 0 {
			if f, fr, _, err = open(); err != nil {
				s.close()
				return nil, err
			}
		}
		// Columns are decoded in parallel on goroutines of parquetsafe
		// (which recover decoder panics), never on arrow-go's own.
		fr.Props.Parallel = false
		split := 1
		if colParallel {
			split = opts.Workers
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer f.Close()
			dec := &pqDecoder{path: path, file: fileIdx, fr: fr, plan: plan, pool: pool, in: newInterner(),
				groups: parquetsafe.Split(plan.cols, split)}
			for rg := w; rg < len(plan.rgRows); rg += nw {
				if !dec.rowGroup(ctx, rg, starts[rg], out) {
					return
				}
			}
		}()
	}
	return s, nil
}

func (s *parquetSource) next() (*batch, error) {
	for !s.done {
		if s.cur >= len(s.plan.rgRows) {
			s.done = true
			break
		}
		m := <-s.outs[s.cur%len(s.outs)] // unordered: len(s.outs) == 1
		if m.err != nil {
			s.done = true
			return nil, m.err
		}
		if m.endRG {
			s.cur++
			continue
		}
		return m.b, nil
	}
	return nil, io.EOF
}

func (s *parquetSource) close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// pqDecoder converts Arrow record batches into events on one worker.
type pqDecoder struct {
	path string
	file int32
	fr   *pqarrow.FileReader
	plan *parquetPlan
	pool *batchPool
	in   *interner
	cols [numFields]colReader
	// groups are the leaf columns decoded together, one group per
	// goroutine (parquetsafe.Split).
	groups [][]int
}

// rowGroup decodes row group rg (whose first row has index start) and sends
// its batches, then an endRG marker. It returns false when the read stopped.
func (d *pqDecoder) rowGroup(ctx context.Context, rg int, start int64, out chan<- pqMsg) (ok bool) {
	send := func(m pqMsg) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer func() {
		if p := recover(); p != nil {
			send(pqMsg{err: fmt.Errorf("read events %s: row group %d: corrupt Parquet data (%v); write the file again", d.path, rg, p)})
			ok = false
		}
	}()
	rr, err := parquetsafe.NewRecordReader(ctx, "read events "+d.path, d.fr, d.groups, []int{rg})
	if err != nil {
		send(pqMsg{err: err})
		return false
	}
	defer rr.Release()
	row := start
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			send(pqMsg{err: err})
			return false
		}
		b := d.pool.get()
		d.convert(rec, row, b)
		row += rec.NumRows()
		if !send(pqMsg{b: b}) {
			return false
		}
	}
	return send(pqMsg{endRG: true})
}

// convert appends the events of rec to b; rows that fail validation go to
// b.quar. Row numbers are 1-based: row index start+i+1.
func (d *pqDecoder) convert(rec arrow.RecordBatch, start int64, b *batch) {
	sc := rec.Schema()
	for f := field(0); f < numFields; f++ {
		var a arrow.Array
		if idx := sc.FieldIndices(Columns[f]); len(idx) > 0 {
			a = rec.Column(idx[0])
		}
		d.cols[f].reset(f, a, d.in)
	}
	c := &d.cols
	// Strings are checked for UTF-8 per column and batch (textOK); only a
	// batch with a bad value checks row by row.
	textOK := true
	for f := range c {
		textOK = textOK && c[f].textOK
	}
	n := int(rec.NumRows())
	b.rows += int64(n)
	for i := 0; i < n; i++ {
		b.events = append(b.events, Event{File: d.file, Row: start + int64(i) + 1})
		e := &b.events[len(b.events)-1]
		e.EventID, _ = c[fEventID].str(i)
		k, _ := c[fKind].str(i)
		e.Kind = Kind(k)
		t, hasTime := c[fEventTime].num(i)
		e.EventTime = t
		e.IngestTime, e.HasIngestTime = c[fIngestTime].num(i)
		e.ShopID, _ = c[fShopID].str(i)
		e.BuyerID, _ = c[fBuyerID].str(i)
		e.ConversationID, _ = c[fConversationID].str(i)
		e.Channel, _ = c[fChannel].str(i)
		e.Sender, _ = c[fSender].str(i)
		e.CartToken, _ = c[fCartToken].str(i)
		ic, hasIC := c[fItemCount].num(i)
		e.CartValueCents, e.HasCartValue = c[fCartValue].num(i)
		e.ProductIDs = c[fProductIDs].list(i)
		e.OrderID, _ = c[fOrderID].str(i)
		e.OrderValueCents, e.HasOrderValue = c[fOrderValue].num(i)
		e.Currency, _ = c[fCurrency].str(i)
		var p *Problem
		switch {
		case hasIC && (ic > 1<<31-1 || ic < -1<<31):
			p = problemf("item_count", ReasonBadValue, "item_count %d does not fit in 32 bits", ic)
		case !hasTime:
			p = missingTime(e)
		default:
			e.ItemCount, e.HasItemCount = int32(ic), hasIC
			p = validate(e, d.plan.unread, !textOK)
		}
		if p != nil {
			e.ItemCount, e.HasItemCount = int32(ic), hasIC
			b.quar = append(b.quar, Quarantined{Path: d.path, File: d.file, Row: e.Row,
				Column: p.Column, Reason: p.Reason, Detail: p.Detail, Raw: EventJSON(e)})
			b.events = b.events[:len(b.events)-1]
		}
	}
}

// interner returns one shared copy of repeated low-cardinality strings
// (kinds, shops, channels, senders, currencies), so that steady-state reading
// does not allocate them. It stops growing at internMax entries.
type interner struct{ m map[string]string }

const internMax = 1 << 16

func newInterner() *interner { return &interner{m: map[string]string{}} }

// get returns the interned copy of s; s may point into memory that is reused.
func (in *interner) get(s string) string {
	if v, ok := in.m[s]; ok {
		return v
	}
	v := strings.Clone(s)
	if len(in.m) < internMax {
		in.m[v] = v
	}
	return v
}

// colReader reads one column of one record batch. String values of
// high-cardinality columns are copied into one string per batch (an arena)
// and handed out as substrings: one allocation per column per batch instead
// of one per value. Low-cardinality columns are interned.
type colReader struct {
	arr   arrow.Array
	nulls bool   // the batch has nulls in this column
	valid []byte // its validity bitmap when nulls (bit set = not null)
	voff  int    // the array's offset into valid
	kind  int    // 0 absent, 1 offsets32, 2 offsets64, 3 dictionary, 4 int64, 5 int32, 6 timestamp, 7 other int, 8 list
	off32 []int32
	off64 []int64
	base  int64
	data  string
	dict  *array.Dictionary
	dvals []string
	i64   []int64
	i32   []int32
	ts    []arrow.Timestamp
	unit  arrow.TimeUnit
	in    *interner
	lvals []string // list: all element values of the batch
	loff  []int64  // list: offsets into lvals, per row (len n+1)
	// textOK: every string value of the batch is valid UTF-8 (checked
	// once per batch; true for columns without strings).
	textOK bool
}

func interned(f field) bool {
	return f == fKind || f == fShopID || f == fChannel || f == fSender || f == fCurrency
}

func (c *colReader) reset(f field, a arrow.Array, in *interner) {
	*c = colReader{arr: a, textOK: true}
	if a == nil {
		return
	}
	if a.NullN() > 0 {
		if bm := a.NullBitmapBytes(); len(bm) > 0 {
			c.nulls, c.valid, c.voff = true, bm, a.Data().Offset()
		}
	}
	if f == fProductIDs {
		c.resetList(a)
		return
	}
	var intern *interner
	if interned(f) {
		intern = in
	}
	switch v := a.(type) {
	case *array.String:
		c.setStrings(1, v.ValueOffsets(), nil, v.ValueBytes(), intern)
	case *array.Binary:
		c.setStrings(1, v.ValueOffsets(), nil, v.ValueBytes(), intern)
	case *array.LargeString:
		c.setStrings(2, nil, v.ValueOffsets(), v.ValueBytes(), intern)
	case *array.LargeBinary:
		c.setStrings(2, nil, v.ValueOffsets(), v.ValueBytes(), intern)
	case *array.Dictionary:
		c.kind, c.dict = 3, v
		var dc colReader
		dc.reset(fKind, v.Dictionary(), in) // values are interned (copied once)
		c.dvals = make([]string, v.Dictionary().Len())
		for i := range c.dvals {
			c.dvals[i], _ = dc.str(i)
		}
		c.textOK = dc.textOK
		if idx, ok := v.Indices().(*array.Int32); ok {
			c.i32 = idx.Int32Values()
		}
	case *array.Int64:
		c.kind, c.i64 = 4, v.Int64Values()
	case *array.Int32:
		c.kind, c.i32 = 5, v.Int32Values()
	case *array.Timestamp:
		c.kind, c.ts, c.unit = 6, v.TimestampValues(), v.DataType().(*arrow.TimestampType).Unit
	default:
		c.kind = 7
	}
}

func (c *colReader) setStrings(kind int, o32 []int32, o64 []int64, data []byte, in *interner) {
	c.kind, c.off32, c.off64 = kind, o32, o64
	if kind == 1 && len(o32) > 0 {
		c.base = int64(o32[0])
	} else if kind == 2 && len(o64) > 0 {
		c.base = o64[0]
	}
	c.textOK = stringsValid(o32, o64, c.base, data)
	if in != nil {
		// Interned: read the Arrow buffer in place, copy only new values.
		c.data = unsafe.String(unsafe.SliceData(data), len(data))
		c.in = in
		return
	}
	c.data = string(data) // the batch's arena
}

// stringsValid reports whether every value of a string array (offsets o32
// or o64 from base into data) is valid UTF-8: the buffer is, and no value
// starts inside a multi-byte sequence (two invalid halves of one character
// would otherwise pass as a valid whole).
func stringsValid(o32 []int32, o64 []int64, base int64, data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	starts := func(off int64) bool {
		i := off - base
		return i < 0 || i >= int64(len(data)) || utf8.RuneStart(data[i])
	}
	for _, o := range o32 {
		if !starts(int64(o)) {
			return false
		}
	}
	for _, o := range o64 {
		if !starts(o) {
			return false
		}
	}
	return true
}

// isNull is c.arr.IsNull(i) read straight from the validity bitmap (the
// interface call cost more than the test itself).
func (c *colReader) isNull(i int) bool {
	if !c.nulls {
		return false
	}
	j := i + c.voff
	return c.valid[j>>3]&(1<<(j&7)) == 0
}

func (c *colReader) str(i int) (string, bool) {
	if c.kind == 0 || c.isNull(i) {
		return "", false
	}
	var s string
	switch c.kind {
	case 1:
		s = c.data[int64(c.off32[i])-c.base : int64(c.off32[i+1])-c.base]
	case 2:
		s = c.data[c.off64[i]-c.base : c.off64[i+1]-c.base]
	case 3:
		if c.i32 != nil {
			return c.dvals[c.i32[i]], true
		}
		return c.dvals[c.dict.GetValueIndex(i)], true
	default:
		return "", false
	}
	if c.in != nil {
		s = c.in.get(s)
	}
	return s, true
}

// num returns an integer value; timestamps are converted to µs (nanoseconds
// are floored).
func (c *colReader) num(i int) (int64, bool) {
	if c.kind == 0 || c.isNull(i) {
		return 0, false
	}
	switch c.kind {
	case 4:
		return c.i64[i], true
	case 5:
		return int64(c.i32[i]), true
	case 6:
		v := int64(c.ts[i])
		switch c.unit {
		case arrow.Second:
			return parquetsafe.MulSat(v, 1_000_000), true
		case arrow.Millisecond:
			return parquetsafe.MulSat(v, 1_000), true
		case arrow.Nanosecond:
			q := v / 1000
			if v%1000 < 0 {
				q--
			}
			return q, true
		}
		return v, true
	case 7:
		switch a := c.arr.(type) {
		case *array.Int8:
			return int64(a.Value(i)), true
		case *array.Int16:
			return int64(a.Value(i)), true
		case *array.Uint8:
			return int64(a.Value(i)), true
		case *array.Uint16:
			return int64(a.Value(i)), true
		case *array.Uint32:
			return int64(a.Value(i)), true
		case *array.Uint64:
			v := a.Value(i)
			if v > 1<<63-1 {
				return -1, true // out of range: reported as negative
			}
			return int64(v), true
		}
	}
	return 0, false
}

func (c *colReader) resetList(a arrow.Array) {
	var values arrow.Array
	n := a.Len()
	c.kind = 8
	c.loff = make([]int64, n+1)
	switch l := a.(type) {
	case *array.List:
		values = l.ListValues()
		for i := 0; i < n; i++ {
			s, _ := l.ValueOffsets(i)
			c.loff[i] = s
		}
		if n > 0 {
			_, c.loff[n] = l.ValueOffsets(n - 1)
		}
	case *array.LargeList:
		values = l.ListValues()
		for i := 0; i < n; i++ {
			s, _ := l.ValueOffsets(i)
			c.loff[i] = s
		}
		if n > 0 {
			_, c.loff[n] = l.ValueOffsets(n - 1)
		}
	default:
		c.kind = 0
		return
	}
	var vr colReader
	vr.reset(fEventID, values, nil)
	c.textOK = vr.textOK
	lo, hi := int64(0), int64(0)
	if n > 0 {
		lo, hi = c.loff[0], c.loff[n]
	}
	c.lvals = make([]string, hi-lo)
	for j := range c.lvals {
		c.lvals[j], _ = vr.str(int(lo) + j)
	}
	for i := range c.loff {
		c.loff[i] -= lo
	}
}

func (c *colReader) list(i int) []string {
	if c.kind != 8 || c.isNull(i) {
		return nil
	}
	s, e := c.loff[i], c.loff[i+1]
	if s == e {
		return nil
	}
	return c.lvals[s:e:e]
}
