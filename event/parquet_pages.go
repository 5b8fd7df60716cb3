package event

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	pq "github.com/parquet-go/parquet-go"
	pqenc "github.com/parquet-go/parquet-go/encoding"

	"github.com/signalab/signalab/internal/parquetsafe"
	"github.com/signalab/signalab/internal/safeio"
)

// The page decoder: Parquet pages decoded by parquet-go straight into
// batches of events, for Reader.Scan. It skips what the Arrow path
// (parquetSource) does per value: no Arrow builders, no copy of each string
// column into an arena. Strings of high-cardinality columns point into the
// decoded pages (valid until the batch has been visited, when the pages go
// back to parquet-go's pools); dictionary-encoded columns are mapped once
// per dictionary page; low-cardinality columns are interned. Measured on a
// 10M-event log, decoding the 15 columns a replay reads: parquet-go page
// readers 0.7 CPU-s, arrow-go column chunk readers (file.ColumnChunkReader)
// 2.2 CPU-s, the pqarrow record reader about 3 CPU-s
// (docs/benchmarks/replay.md).
//
// It handles what common writers produce: strings as BYTE_ARRAY, timestamps
// as INT64 with a TIMESTAMP annotation (ms, µs or ns), signed INT32/INT64
// integers, product_ids as a list of BYTE_ARRAY (three- or two-level), any
// encoding parquet-go decodes, and the codecs UNCOMPRESSED, SNAPPY, GZIP,
// BROTLI, ZSTD and LZ4_RAW. A file with anything else (INT96 timestamps,
// unsigned integers, the deprecated LZ4 codec) is read by the Arrow path
// instead; both give the same events (TestScanEqualsNext).

// pageKind is how a field's leaf column is decoded.
type pageKind uint8

const (
	pkNone   pageKind = iota // not read: absent or left out by the column selection
	pkString                 // BYTE_ARRAY
	pkInt                    // INT32 or INT64
	pkTime                   // INT64 TIMESTAMP, converted to µs
	pkList                   // repeated BYTE_ARRAY (product_ids)
)

// pageField is the decoding plan of one v1 field.
type pageField struct {
	kind   pageKind
	leaf   int   // leaf column index
	maxDef byte  // definition level of a present value
	repDef byte  // pkList: the definition level at which a list entry exists
	unit   int64 // pkTime: 1000 for ms, 1 for µs, -1000 for ns (floored division)
}

// pagePlan is how to decode a file's row groups with the page decoder.
type pagePlan struct {
	fields [numFields]pageField
	unread *[numFields]bool
	rgRows []int64
}

// codecsForPages are the codecs the page decoder accepts.
var codecsForPages = map[compress.Compression]bool{
	compress.Codecs.Uncompressed: true, compress.Codecs.Snappy: true, compress.Codecs.Gzip: true,
	compress.Codecs.Brotli: true, compress.Codecs.Zstd: true, compress.Codecs.Lz4Raw: true,
}

// pagePlanOf returns the page decoder's plan for a file that passed the
// schema check (pf and plan from openParquet), or false when the file has
// a column type or codec the page decoder leaves to the Arrow path.
func pagePlanOf(pf *file.Reader, plan *parquetPlan) (*pagePlan, bool) {
	pp := &pagePlan{unread: plan.unread, rgRows: plan.rgRows}
	sc := pf.MetaData().Schema
	for _, leaf := range plan.leaves {
		col := sc.Column(leaf)
		path := col.ColumnPath()
		f, ok := fieldByName(path[0])
		if !ok || pp.fields[f].kind != pkNone {
			return nil, false // a field with two leaves: not a v1 shape
		}
		pf := pageField{leaf: leaf, maxDef: byte(col.MaxDefinitionLevel())}
		if col.MaxDefinitionLevel() > 3 || col.MaxRepetitionLevel() > 1 {
			return nil, false
		}
		switch f {
		case fProductIDs:
			if col.MaxRepetitionLevel() != 1 || col.PhysicalType() != parquet.Types.ByteArray || len(path) < 2 || len(path) > 3 {
				return nil, false
			}
			rd, ok := repeatedDefLevel(col)
			if !ok {
				return nil, false
			}
			pf.kind, pf.repDef = pkList, rd
		case fEventTime, fIngestTime:
			if col.MaxRepetitionLevel() != 0 || len(path) != 1 || col.PhysicalType() != parquet.Types.Int64 {
				return nil, false
			}
			unit, ok := timeUnit(col)
			if !ok {
				return nil, false
			}
			pf.kind, pf.unit = pkTime, unit
		case fItemCount, fCartValue, fOrderValue:
			if col.MaxRepetitionLevel() != 0 || len(path) != 1 || !signedInt(col) {
				return nil, false
			}
			pf.kind = pkInt
		default:
			if col.MaxRepetitionLevel() != 0 || len(path) != 1 || col.PhysicalType() != parquet.Types.ByteArray {
				return nil, false
			}
			pf.kind = pkString
		}
		pp.fields[f] = pf
	}
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		md := pf.MetaData().RowGroup(rg)
		for _, leaf := range plan.leaves {
			cc, err := md.ColumnChunk(leaf)
			if err != nil || !codecsForPages[cc.Compression()] {
				return nil, false
			}
		}
	}
	return pp, true
}

// repeatedDefLevel returns the definition level of the repeated node above
// (or at) a list's leaf: a list entry exists from that level on.
func repeatedDefLevel(col *schema.Column) (byte, bool) {
	var chain []schema.Node
	for n := col.SchemaNode(); n != nil && n.Parent() != nil; n = n.Parent() {
		chain = append(chain, n)
	}
	level := 0
	for i := len(chain) - 1; i >= 0; i-- {
		switch chain[i].RepetitionType() {
		case parquet.Repetitions.Optional:
			level++
		case parquet.Repetitions.Repeated:
			level++
			return byte(level), true
		}
	}
	return 0, false
}

// timeUnit returns the factor to µs of a TIMESTAMP column (-1000: divide by
// 1000, floored), or false when the column is not an annotated timestamp.
func timeUnit(col *schema.Column) (int64, bool) {
	if ts, ok := col.LogicalType().(schema.TimestampLogicalType); ok {
		switch ts.TimeUnit() {
		case schema.TimeUnitMillis:
			return 1000, true
		case schema.TimeUnitMicros:
			return 1, true
		case schema.TimeUnitNanos:
			return -1000, true
		}
		return 0, false
	}
	switch col.ConvertedType() {
	case schema.ConvertedTypes.TimestampMillis:
		return 1000, true
	case schema.ConvertedTypes.TimestampMicros:
		return 1, true
	}
	return 0, false
}

// signedInt reports whether col holds signed integers the page decoder
// reads as they are (INT32 or INT64 without an unsigned annotation).
func signedInt(col *schema.Column) bool {
	if t := col.PhysicalType(); t != parquet.Types.Int32 && t != parquet.Types.Int64 {
		return false
	}
	if it, ok := col.LogicalType().(schema.IntLogicalType); ok {
		return it.IsSigned()
	}
	switch col.ConvertedType() {
	case schema.ConvertedTypes.None, schema.ConvertedTypes.Int8, schema.ConvertedTypes.Int16,
		schema.ConvertedTypes.Int32, schema.ConvertedTypes.Int64:
		return true
	}
	return false
}

// openPageFile opens path for the page decoder.
func openPageFile(path string) (*os.File, *pq.File, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read events %s", errorNamed(path, err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read events %s: %w", path, err)
	}
	pf, err := pq.OpenFile(f, st.Size(), pq.SkipPageIndex(true), pq.SkipBloomFilters(true), pq.ReadBufferSize(256<<10))
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read events %s: corrupt Parquet footer (%v); write it again", path, err)
	}
	return f, pf, nil
}

// pageBatchRows is the number of rows the page decoder assembles at a
// time: small enough that a batch of events stays in the CPU cache.
const pageBatchRows = 1024

// pageDecoder decodes row groups of one file on one goroutine.
type pageDecoder struct {
	path string
	file int32
	pf   *pq.File
	plan *pagePlan
	in   *interner
	cols [numFields]pageColumn

	// one batch: column vectors, then events
	strs  [numFields][]string
	nums  [numFields][]int64
	oks   [numFields][]bool
	lists [][]string
	// zeroStrs, zeroNums, zeroOks and zeroLists stand in for the vectors
	// of columns the file lacks; nothing writes them.
	zeroStrs  []string
	zeroNums  []int64
	zeroOks   []bool
	zeroLists [][]string
	arena     []string // backing store of the batch's ProductIDs
	evs       []Event
	quar      []Quarantined
	// textOK: every string of the batch is valid UTF-8, known from its
	// pages and dictionaries (checked once each); when not, every row is
	// checked.
	textOK bool
}

func newPageDecoder(path string, fileIdx int32, pf *pq.File, plan *pagePlan, in *interner) *pageDecoder {
	d := &pageDecoder{path: path, file: fileIdx, pf: pf, plan: plan, in: in}
	for f := range d.cols {
		fp := &plan.fields[f]
		if fp.kind == pkNone {
			continue
		}
		d.cols[f].field = fp
		d.cols[f].intern = interned(field(f))
		d.oks[f] = make([]bool, pageBatchRows)
		switch fp.kind {
		case pkString:
			d.strs[f] = make([]string, pageBatchRows)
		case pkInt, pkTime:
			d.nums[f] = make([]int64, pageBatchRows)
		case pkList:
			d.lists = make([][]string, pageBatchRows)
		}
	}
	d.evs = make([]Event, 0, pageBatchRows)
	d.zeroStrs = make([]string, pageBatchRows)
	d.zeroNums = make([]int64, pageBatchRows)
	d.zeroOks = make([]bool, pageBatchRows)
	d.zeroLists = make([][]string, pageBatchRows)
	return d
}

// errPageData marks errors in the pages themselves (as opposed to visit's).
var errPageData = errors.New("corrupt Parquet data")

// errChunkEnd is next's error at the end of a column chunk: an error for a
// flat column (the chunk has fewer rows than the row group), the end of the
// last row for a list column.
var errChunkEnd = fmt.Errorf("%w: the column chunk ends before the row group", errPageData)

// rowGroup decodes row group rg, whose first row has index start in the
// file, calling sink with each batch: its valid events, its quarantined
// rows and its row count. Strings of the events point into pages that are
// released when sink returns.
func (d *pageDecoder) rowGroup(rg int, start int64, sink func([]Event, []Quarantined, int64) error) error {
	rows := d.plan.rgRows[rg]
	chunks := d.pf.RowGroups()[rg].ColumnChunks()
	for f := range d.cols {
		c := &d.cols[f]
		if c.field == nil {
			continue
		}
		c.start(chunks[c.field.leaf].Pages())
	}
	defer func() {
		for f := range d.cols {
			d.cols[f].close()
		}
	}()
	for done := int64(0); done < rows; {
		n := int(min(rows-done, pageBatchRows))
		if err := d.decodeColumns(n); err != nil {
			return fmt.Errorf("read events %s: row group %d: %w; the file may be corrupt: write it again", d.path, rg, err)
		}
		d.assemble(n, start+done)
		done += int64(n)
		if err := sink(d.evs, d.quar, int64(n)); err != nil {
			return err
		}
		for f := range d.cols {
			d.cols[f].releaseRetired()
		}
	}
	return nil
}

// decodeColumns fills the column vectors with the next n rows.
func (d *pageDecoder) decodeColumns(n int) error {
	d.arena = d.arena[:0]
	for f := range d.cols {
		c := &d.cols[f]
		if c.field == nil {
			continue
		}
		var err error
		switch c.field.kind {
		case pkString:
			err = c.strings(d.strs[f][:n], d.oks[f][:n], d.in)
		case pkInt:
			err = c.ints(d.nums[f][:n], d.oks[f][:n])
		case pkTime:
			err = c.ints(d.nums[f][:n], d.oks[f][:n])
			if err == nil {
				toMicros(d.nums[f][:n], c.field.unit)
			}
		case pkList:
			err = c.lists(d.lists[:n], d.oks[f][:n], &d.arena)
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", Columns[f], err)
		}
	}
	d.textOK = true
	for f := range d.cols {
		d.textOK = d.textOK && !d.cols[f].badText
		d.cols[f].badText = false
	}
	return nil
}

func toMicros(v []int64, unit int64) {
	switch {
	case unit == 1:
	case unit > 0:
		for i := range v {
			v[i] = parquetsafe.MulSat(v[i], unit) // saturated: a wrapped time could look valid
		}
	default:
		for i, x := range v {
			q := x / 1000
			if x%1000 < 0 {
				q--
			}
			v[i] = q
		}
	}
}

// assemble builds the events of the n decoded rows (the first has index
// start) into d.evs, a row at a time (each event's cache lines are written
// once, while the column vectors are read in order), and validates each as
// the Arrow path's convert does; rows that fail go to d.quar. Columns the
// file lacks read as zero vectors: "" and 0, not present.
func (d *pageDecoder) assemble(n int, start int64) {
	strs := func(f field) []string {
		if v := d.strs[f]; v != nil {
			return v[:n]
		}
		return d.zeroStrs[:n]
	}
	nums := func(f field) ([]int64, []bool) {
		if v := d.nums[f]; v != nil {
			return v[:n], d.oks[f][:n]
		}
		return d.zeroNums[:n], d.zeroOks[:n]
	}
	ids, kinds, shops, buyers := strs(fEventID), strs(fKind), strs(fShopID), strs(fBuyerID)
	convs, chans, senders, carts := strs(fConversationID), strs(fChannel), strs(fSender), strs(fCartToken)
	orders, currencies := strs(fOrderID), strs(fCurrency)
	times, hasTime := nums(fEventTime)
	ingests, hasIngest := nums(fIngestTime)
	ics, hasIC := nums(fItemCount)
	cvs, hasCV := nums(fCartValue)
	ovs, hasOV := nums(fOrderValue)
	lists := d.zeroLists[:n]
	if d.lists != nil {
		lists = d.lists[:n]
	}
	evs := d.evs[:n]
	d.quar = d.quar[:0]
	kept := 0
	for i := range n {
		// Built in place at its kept position: a quarantined row's slot is
		// taken by the next row.
		e := &evs[kept]
		ic := ics[i]
		*e = Event{EventID: ids[i], Kind: Kind(kinds[i]), EventTime: times[i],
			IngestTime: ingests[i], HasIngestTime: hasIngest[i],
			ShopID: shops[i], BuyerID: buyers[i], ConversationID: convs[i], Channel: chans[i], Sender: senders[i],
			CartToken: carts[i], ItemCount: int32(ic), HasItemCount: hasIC[i],
			CartValueCents: cvs[i], HasCartValue: hasCV[i], ProductIDs: lists[i], // nil for a null or empty list
			OrderID: orders[i], OrderValueCents: ovs[i], HasOrderValue: hasOV[i], Currency: currencies[i],
			File: d.file, Row: start + int64(i) + 1}
		var p *Problem
		switch {
		case hasIC[i] && (ic > 1<<31-1 || ic < -1<<31):
			p = problemf("item_count", ReasonBadValue, "item_count %d does not fit in 32 bits", ic)
		case !hasTime[i]:
			p = missingTime(e)
		default:
			p = validate(e, d.plan.unread, !d.textOK)
		}
		if p != nil {
			d.quar = append(d.quar, Quarantined{Path: d.path, File: d.file, Row: e.Row,
				Column: p.Column, Reason: p.Reason, Detail: p.Detail, Raw: EventJSON(e)})
			continue
		}
		kept++
	}
	d.evs = evs[:kept]
}

// pageColumn walks the pages of one column chunk.
type pageColumn struct {
	field  *pageField
	intern bool
	pages  pq.Pages
	page   pq.Page
	n      int // levels in the page (rows, for a flat column)
	pos    int // next level
	vpos   int // next value
	def    []byte
	rep    []byte

	data []byte // BYTE_ARRAY values
	offs []uint32
	i64  []int64
	i32  []int32
	idx  []int32 // dictionary indexes of an indexed page
	nval int     // values in the page

	dict    pq.Dictionary // the dictionary dstr/dnum were built from
	dstr    []string
	dnum    []int64
	retired []pq.Page // pages done with, released after the batch is visited

	// textOK: the page's strings (or its dictionary's) are all valid UTF-8;
	// badText: a row of the batch came from a page where they are not.
	textOK, dictTextOK bool
	badText            bool
}

func (c *pageColumn) start(pages pq.Pages) {
	c.pages = pages
	c.page, c.n, c.pos, c.vpos = nil, 0, 0, 0
	c.dict, c.dstr, c.dnum = nil, c.dstr[:0], c.dnum[:0]
}

func (c *pageColumn) close() {
	if c.pages == nil {
		return
	}
	c.releaseRetired()
	if c.page != nil {
		pq.Release(c.page)
		c.page = nil
	}
	c.pages.Close()
	c.pages = nil
}

func (c *pageColumn) releaseRetired() {
	for i, p := range c.retired {
		pq.Release(p)
		c.retired[i] = nil
	}
	c.retired = c.retired[:0]
}

// next moves to the next page of the chunk.
func (c *pageColumn) next(in *interner) error {
	if c.page != nil {
		c.retired = append(c.retired, c.page)
		c.page = nil
	}
	for {
		p, err := c.pages.ReadPage()
		if err == io.EOF {
			return errChunkEnd
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errPageData, err)
		}
		if p.NumValues() == 0 {
			pq.Release(p)
			continue
		}
		c.page = p
		break
	}
	p := c.page
	c.n, c.pos, c.vpos = int(p.NumValues()), 0, 0
	c.def, c.rep = p.DefinitionLevels(), p.RepetitionLevels()
	if c.field.maxDef > 0 && len(c.def) != c.n {
		return fmt.Errorf("%w: %d definition levels for %d values", errPageData, len(c.def), c.n)
	}
	if c.field.kind == pkList && len(c.rep) != c.n {
		return fmt.Errorf("%w: %d repetition levels for %d values", errPageData, len(c.rep), c.n)
	}
	c.data, c.offs, c.i64, c.i32, c.idx = nil, nil, nil, nil, nil
	c.textOK = true
	vals := p.Data()
	if dict := p.Dictionary(); dict != nil {
		c.idx = vals.Int32()
		c.nval = len(c.idx)
		if dict != c.dict {
			if err := c.mapDictionary(dict, in); err != nil {
				return err
			}
		}
		c.textOK = c.dictTextOK
	} else {
		switch vals.Kind() {
		case pqenc.ByteArray:
			c.data, c.offs = vals.ByteArray()
			c.nval = len(c.offs) - 1
		case pqenc.Int64:
			c.i64 = vals.Int64()
			c.nval = len(c.i64)
		case pqenc.Int32:
			c.i32 = vals.Int32()
			c.nval = len(c.i32)
		default:
			return fmt.Errorf("%w: unexpected page values of kind %v", errPageData, vals.Kind())
		}
		if c.field.kind == pkString || c.field.kind == pkList {
			if c.data == nil && c.offs == nil {
				return fmt.Errorf("%w: a string column holds numbers", errPageData)
			}
			c.textOK = textValid(c.data, c.offs)
		} else if c.i64 == nil && c.i32 == nil {
			return fmt.Errorf("%w: an integer column holds strings", errPageData)
		}
	}
	if c.nval < 0 || c.nval > c.n {
		return fmt.Errorf("%w: %d values for %d levels", errPageData, c.nval, c.n)
	}
	if c.field.maxDef == 0 && c.nval != c.n {
		return fmt.Errorf("%w: %d values in a required column of %d rows", errPageData, c.nval, c.n)
	}
	return nil
}

// mapDictionary converts a dictionary's values once: strings (interned for
// low-cardinality columns; otherwise pointing into the dictionary, which
// parquet-go allocates per column chunk and never reuses) or numbers.
func (c *pageColumn) mapDictionary(dict pq.Dictionary, in *interner) error {
	c.dict = dict
	vals := dict.Page().Data()
	c.dstr, c.dnum = c.dstr[:0], c.dnum[:0]
	switch vals.Kind() {
	case pqenc.ByteArray:
		if c.field.kind != pkString && c.field.kind != pkList {
			return fmt.Errorf("%w: an integer column has a string dictionary", errPageData)
		}
		data, offs := vals.ByteArray()
		c.dictTextOK = textValid(data, offs)
		for i := 0; i+1 < len(offs); i++ {
			s := bytesString(data[offs[i]:offs[i+1]])
			if c.intern {
				s = in.get(s)
			}
			c.dstr = append(c.dstr, s)
		}
	case pqenc.Int64:
		c.dnum = append(c.dnum, vals.Int64()...)
	case pqenc.Int32:
		for _, v := range vals.Int32() {
			c.dnum = append(c.dnum, int64(v))
		}
	default:
		return fmt.Errorf("%w: unexpected dictionary of kind %v", errPageData, vals.Kind())
	}
	if (c.field.kind == pkString || c.field.kind == pkList) != (vals.Kind() == pqenc.ByteArray) {
		return fmt.Errorf("%w: dictionary type does not match the column", errPageData)
	}
	return nil
}

// textValid reports whether every value of a page of strings (offsets into
// data) is valid UTF-8: the buffer is, and no value starts inside a
// multi-byte sequence (two invalid halves of one character would otherwise
// pass as a valid whole). As the Arrow path's stringsValid, once per page.
func textValid(data []byte, offs []uint32) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, o := range offs {
		if int(o) < len(data) && !utf8.RuneStart(data[o]) {
			return false
		}
	}
	return true
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// value helpers: the value at c.vpos (the caller checked c.vpos < c.nval).

func (c *pageColumn) str(in *interner) (string, error) {
	j := c.vpos
	c.vpos++
	if c.idx != nil {
		k := c.idx[j]
		if k < 0 || int(k) >= len(c.dstr) {
			return "", fmt.Errorf("%w: dictionary index %d out of range (%d entries)", errPageData, k, len(c.dstr))
		}
		return c.dstr[k], nil
	}
	lo, hi := c.offs[j], c.offs[j+1]
	if lo > hi || int(hi) > len(c.data) {
		return "", fmt.Errorf("%w: bad string offsets", errPageData)
	}
	s := bytesString(c.data[lo:hi])
	if c.intern {
		s = in.get(s)
	}
	return s, nil
}

func (c *pageColumn) num() (int64, error) {
	j := c.vpos
	c.vpos++
	switch {
	case c.idx != nil:
		k := c.idx[j]
		if k < 0 || int(k) >= len(c.dnum) {
			return 0, fmt.Errorf("%w: dictionary index %d out of range (%d entries)", errPageData, k, len(c.dnum))
		}
		return c.dnum[k], nil
	case c.i64 != nil:
		return c.i64[j], nil
	default:
		return int64(c.i32[j]), nil
	}
}

// strings reads len(out) rows of a flat string column (a null is "",
// with ok false). Rows are taken a page run at a time.
func (c *pageColumn) strings(out []string, ok []bool, in *interner) error {
	for i := 0; i < len(out); {
		if c.pos == c.n {
			if err := c.next(in); err != nil {
				return err
			}
		}
		k := min(len(out)-i, c.n-c.pos)
		o, okk := out[i:i+k], ok[i:i+k]
		c.badText = c.badText || !c.textOK
		var def []byte
		if c.field.maxDef > 0 {
			def = c.def[c.pos : c.pos+k]
		}
		c.pos += k
		for j := range o {
			if def != nil && def[j] != c.field.maxDef {
				o[j], okk[j] = "", false
				continue
			}
			if c.vpos >= c.nval {
				return fmt.Errorf("%w: fewer values than definition levels", errPageData)
			}
			var s string
			if c.idx != nil {
				x := c.idx[c.vpos]
				if x < 0 || int(x) >= len(c.dstr) {
					return fmt.Errorf("%w: dictionary index %d out of range (%d entries)", errPageData, x, len(c.dstr))
				}
				s = c.dstr[x]
			} else {
				lo, hi := c.offs[c.vpos], c.offs[c.vpos+1]
				if lo > hi || int(hi) > len(c.data) {
					return fmt.Errorf("%w: bad string offsets", errPageData)
				}
				if s = bytesString(c.data[lo:hi]); c.intern {
					s = in.get(s)
				}
			}
			c.vpos++
			o[j], okk[j] = s, true
		}
		i += k
	}
	return nil
}

// ints reads len(out) rows of a flat integer column (a null is 0, with ok
// false), a page run at a time.
func (c *pageColumn) ints(out []int64, ok []bool) error {
	for i := 0; i < len(out); {
		if c.pos == c.n {
			if err := c.next(nil); err != nil {
				return err
			}
		}
		k := min(len(out)-i, c.n-c.pos)
		o, okk := out[i:i+k], ok[i:i+k]
		if c.field.maxDef == 0 && c.i64 != nil && c.vpos+k <= len(c.i64) {
			copy(o, c.i64[c.vpos:c.vpos+k]) // required, plain: the common case of event_time
			for j := range okk {
				okk[j] = true
			}
			c.pos += k
			c.vpos += k
			i += k
			continue
		}
		var def []byte
		if c.field.maxDef > 0 {
			def = c.def[c.pos : c.pos+k]
		}
		c.pos += k
		for j := range o {
			if def != nil && def[j] != c.field.maxDef {
				o[j], okk[j] = 0, false
				continue
			}
			if c.vpos >= c.nval {
				return fmt.Errorf("%w: fewer values than definition levels", errPageData)
			}
			v, err := c.num()
			if err != nil {
				return err
			}
			o[j], okk[j] = v, true
		}
		i += k
	}
	return nil
}

// lists reads len(out) rows of a list column: out[i] is the row's entries
// (a null entry is ""), carved from *arena; ok[i] is false for a null or
// empty list.
func (c *pageColumn) lists(out [][]string, ok []bool, arena *[]string) error {
	for i := range out {
		lo := len(*arena)
		first := true
		for {
			if c.pos == c.n {
				if err := c.next(nil); err == errChunkEnd && !first {
					break // the chunk's last row ends with it
				} else if err != nil {
					return err
				}
			}
			if !first && c.rep[c.pos] == 0 {
				break // the next row starts
			}
			if first && c.rep[c.pos] != 0 {
				return fmt.Errorf("%w: a row starts with repetition level %d", errPageData, c.rep[c.pos])
			}
			first = false
			c.badText = c.badText || !c.textOK
			dl := c.def[c.pos]
			c.pos++
			if dl < c.field.repDef {
				continue // null or empty list
			}
			s := ""
			if dl == c.field.maxDef {
				if c.vpos >= c.nval {
					return fmt.Errorf("%w: fewer values than definition levels", errPageData)
				}
				var err error
				if s, err = c.str(nil); err != nil {
					return err
				}
			}
			*arena = append(*arena, s)
		}
		if hi := len(*arena); hi > lo {
			out[i], ok[i] = (*arena)[lo:hi:hi], true
		} else {
			out[i], ok[i] = nil, false
		}
	}
	return nil
}
