package metrics

import (
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/columnar"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// Fixed columns of units.parquet, before the metric and covariate columns.
const (
	ColConversationID = "conversation_id"
	ColShopID         = "shop_id"
	ColBuyerID        = "buyer_id"
	ColUnitID         = "unit_id"
	ColVariant        = "variant"
	ColChannel        = "channel"
	ColStartedAt      = "started_at"
	ColTriggered      = "triggered"
	ColHadCart        = "had_cart_at_start"
)

var timestampUTC = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

func (b *builder) schema() *arrow.Schema {
	str := arrow.BinaryTypes.String
	i64 := arrow.PrimitiveTypes.Int64
	f64 := arrow.PrimitiveTypes.Float64
	fields := []arrow.Field{
		{Name: ColConversationID, Type: str}, {Name: ColShopID, Type: str}, {Name: ColBuyerID, Type: str},
		{Name: ColUnitID, Type: str}, {Name: ColVariant, Type: str}, {Name: ColChannel, Type: str},
		{Name: ColStartedAt, Type: timestampUTC}, {Name: ColTriggered, Type: arrow.FixedWidthTypes.Boolean},
		{Name: ColHadCart, Type: arrow.FixedWidthTypes.Boolean},
		{Name: Converted, Type: arrow.FixedWidthTypes.Boolean}, {Name: Orders, Type: i64}, {Name: RevenueCents, Type: i64},
		{Name: FirstMerchantReplyMinutes, Type: f64, Nullable: true},
		{Name: BuyerMessages, Type: i64}, {Name: MerchantMessages, Type: i64}, {Name: Signals, Type: i64},
		{Name: Conversations, Type: i64},
	}
	if b.spec.Analysis().FromSessions() {
		fields = b.activityFixed()
	}
	for _, d := range b.defs {
		for _, c := range d.Columns {
			fields = append(fields, arrow.Field{Name: c, Type: f64, Nullable: d.Type == Quantile})
		}
	}
	for _, d := range b.defs {
		for _, c := range d.Covariates {
			fields = append(fields, arrow.Field{Name: c, Type: f64})
		}
	}
	return arrow.NewSchema(fields, nil)
}

// WriterProperties are the Parquet settings of units.parquet: Snappy, row
// groups of up to 2^20 rows, and dictionaries only for the repetitive string
// columns (for ids and numbers they would only cost a hash lookup per value).
func WriterProperties() *parquet.WriterProperties {
	return parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(1<<20), parquet.WithDictionaryDefault(false),
		parquet.WithDictionaryFor(ColShopID, true), parquet.WithDictionaryFor(ColUnitID, true),
		parquet.WithDictionaryFor(ColVariant, true), parquet.WithDictionaryFor(ColChannel, true))
}

// BatchRows is the number of rows per record batch written to units.parquet
// (the writer buffers them into row groups of up to 2^20 rows).
const BatchRows = 64 << 10

// write runs the final pass: it caps, writes units.parquet in record batches
// of BatchRows, and gathers the summary.
func (b *builder) write(path string) (*Summary, error) {
	st := newSummaryState(b.arms)
	sc := b.schema()
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	ub := b.newUnitAppender(rb)
	err := atomicfile.Write(path, func(w io.Writer) error {
		// Hide w's Close: the file writer closes a Closer sink, and atomicfile
		// must sync and rename it afterwards.
		fw, err := pqarrow.NewFileWriter(sc, struct{ io.Writer }{w}, WriterProperties(), pqarrow.DefaultWriterProps())
		if err != nil {
			return err
		}
		flush := func() error {
			rec := rb.NewRecordBatch()
			defer rec.Release()
			if rec.NumRows() == 0 {
				return nil
			}
			return fw.WriteBuffered(rec)
		}
		pending := 0
		err = b.scan(st.sum.Excluded, func(u *unit) error {
			ub.append(u)
			st.observe(u)
			if pending++; pending == BatchRows {
				pending = 0
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err == nil {
			// A table without units, or with an empty arm, is not written:
			// nothing downstream could be computed from it.
			err = b.checkUnits(st)
		}
		if err != nil {
			fw.Close()
			return err
		}
		return fw.Close()
	})
	if err != nil {
		return nil, err
	}
	return st.finish(), nil
}

// nFixed is the number of columns before the metric columns.
const nFixed = 17

// unitAppender appends unit rows to the record builder, applying caps.
type unitAppender struct {
	b        *builder
	fb       []array.Builder
	nFixed   int // columns before the metric columns
	nVals    int
	defOf    []int  // per value column: index of its metric (for caps)
	firstCol []bool // per value column: the value or numerator (capped)
}

func (b *builder) newUnitAppender(rb *array.RecordBuilder) *unitAppender {
	a := &unitAppender{b: b, fb: rb.Fields(), nFixed: nFixed}
	if b.spec.Analysis().FromSessions() {
		a.nFixed = len(b.activityFixed())
	}
	for di, d := range b.defs {
		for j := range d.Columns {
			a.defOf = append(a.defOf, di)
			a.firstCol = append(a.firstCol, j == 0)
		}
	}
	a.nVals = len(a.defOf)
	return a
}

func (a *unitAppender) append(u *unit) {
	if a.b.spec.Analysis().FromSessions() {
		a.appendActivityFixed(u)
		a.appendMetrics(u)
		return
	}
	b, fb, c := a.b, a.fb, u.c
	n, cents := u.orders.window(c.started, c.started+b.window.Microseconds())
	fb[0].(*array.StringBuilder).Append(c.id)
	fb[1].(*array.StringBuilder).Append(c.shop)
	fb[2].(*array.StringBuilder).Append(c.buyer)
	fb[3].(*array.StringBuilder).Append(u.unitID)
	fb[4].(*array.StringBuilder).Append(b.arms[u.arm])
	fb[5].(*array.StringBuilder).Append(c.channel)
	fb[6].(*array.TimestampBuilder).Append(arrow.Timestamp(c.started))
	fb[7].(*array.BooleanBuilder).Append(c.triggered)
	fb[8].(*array.BooleanBuilder).Append(c.hadCart)
	fb[9].(*array.BooleanBuilder).Append(n > 0)
	fb[10].(*array.Int64Builder).Append(n)
	fb[11].(*array.Int64Builder).Append(cents)
	if c.hasReply {
		fb[12].(*array.Float64Builder).Append(float64(c.replyAt-c.started) / 60e6)
	} else {
		fb[12].(*array.Float64Builder).AppendNull()
	}
	fb[13].(*array.Int64Builder).Append(c.buyerMsgs)
	fb[14].(*array.Int64Builder).Append(c.merchantMsgs)
	fb[15].(*array.Int64Builder).Append(c.signals)
	fb[16].(*array.Int64Builder).Append(1)
	a.appendMetrics(u)
}

// appendMetrics appends u's metric and covariate columns, applying caps.
func (a *unitAppender) appendMetrics(u *unit) {
	b, fb, nFixed := a.b, a.fb, a.nFixed
	for k := 0; k < a.nVals; k++ {
		col := fb[nFixed+k].(*array.Float64Builder)
		if !u.valid[k] {
			col.AppendNull()
			continue
		}
		v := u.values[k]
		if cs := &b.caps[a.defOf[k]]; cs.active && a.firstCol[k] && !math.IsNaN(cs.threshold) && v > cs.threshold {
			v = cs.threshold
			cs.capped++
		}
		col.Append(v)
	}
	for k, v := range u.covs {
		fb[nFixed+a.nVals+k].(*array.Float64Builder).Append(v)
	}
}

// summaryState gathers metrics.json while the units are written.
type summaryState struct {
	sum         *Summary
	clusters    []map[string]struct{} // per arm: distinct randomization units
	perConv     map[int64]int64       // signals per conversation → conversations
	firstSignal []float64             // seconds from start to first signal
	sig         results.SignalsSummary
}

func newSummaryState(arms []string) *summaryState {
	st := &summaryState{perConv: map[int64]int64{},
		sum: &Summary{Excluded: map[string]int64{"outside_window": 0, "filtered": 0, "unassigned": 0, "not_in_experiment": 0}}}
	st.sum.Arms = make([]ArmCount, len(arms))
	for i, a := range arms {
		st.sum.Arms[i].Variant = a
		st.clusters = append(st.clusters, map[string]struct{}{})
	}
	return st
}

func (st *summaryState) observe(u *unit) {
	c, sig := u.c, &st.sig
	st.sum.Units++
	a := &st.sum.Arms[u.arm]
	a.Units++
	if c.triggered {
		a.Triggered++
		sig.Triggered++
	}
	st.clusters[u.arm][u.unitID] = struct{}{}
	sig.Conversations++
	sig.Signals += c.signals
	st.perConv[c.signals]++
	if c.signals > 0 {
		sig.WithSignal++
	}
	if c.hasFirstSignal {
		st.firstSignal = append(st.firstSignal, float64(c.firstSignal-c.started)/1e6)
	}
}

func (st *summaryState) finish() *Summary {
	sum := st.sum
	for i := range sum.Arms {
		sum.Arms[i].RandomizationUnits = int64(len(st.clusters[i]))
	}
	for _, v := range sum.Excluded {
		sum.Conversations += v
	}
	sum.Conversations += sum.Units
	st.sig.PerConversation = countDistribution(st.perConv)
	slices.Sort(st.firstSignal)
	st.sig.TimeToFirstSignalSeconds = distribution(st.firstSignal)
	sum.Signals = st.sig
	return sum
}

// SummaryQuantiles are the q of every Distribution.
var SummaryQuantiles = []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.99}

// distribution summarises sorted x with type-7 quantiles.
func distribution(x []float64) results.Distribution {
	d := results.Distribution{N: int64(len(x)), Mean: results.NaN(), Quantiles: []results.Quantile{}}
	if len(x) > 0 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		d.Mean = results.Num(s / float64(len(x)))
	}
	for _, q := range SummaryQuantiles {
		d.Quantiles = append(d.Quantiles, results.Quantile{Q: q, Value: results.Num(stats.Quantile7(x, q))})
	}
	return d
}

// countDistribution summarises a histogram of non-negative integer counts
// with exact type-7 quantiles and bins 0…9 and "10+".
func countDistribution(h map[int64]int64) results.Distribution {
	keys := make([]int64, 0, len(h))
	var n, s int64
	for k, c := range h {
		keys = append(keys, k)
		n += c
		s += k * c
	}
	slices.Sort(keys)
	d := results.Distribution{N: n, Mean: results.NaN(), Quantiles: []results.Quantile{}}
	if n > 0 {
		d.Mean = results.Num(float64(s) / float64(n))
	}
	at := func(i int64) float64 { // i-th order statistic, 0-based
		for _, k := range keys {
			if i < h[k] {
				return float64(k)
			}
			i -= h[k]
		}
		return math.NaN()
	}
	for _, q := range SummaryQuantiles {
		v := math.NaN()
		if n > 0 {
			hq := float64(n-1) * q
			lo := int64(math.Floor(hq))
			v = at(lo)
			if lo+1 < n {
				v += (hq - float64(lo)) * (at(lo+1) - v)
			}
		}
		d.Quantiles = append(d.Quantiles, results.Quantile{Q: q, Value: results.Num(v)})
	}
	for i := int64(0); i < 10; i++ {
		d.Histogram = append(d.Histogram, results.Bin{Label: strconv.FormatInt(i, 10), Count: h[i]})
	}
	var over int64
	for k, c := range h {
		if k >= 10 {
			over += c
		}
	}
	d.Histogram = append(d.Histogram, results.Bin{Label: "10+", Count: over})
	return d
}

// signalKinds counts signals.parquet rows per kind (sorted by kind). A
// missing file gives an empty list.
func signalKinds(path string) ([]results.KindCount, error) {
	counts := map[string]int64{}
	err := columnar.Scan(path, []string{"kind"}, nil, func(cols []*columnar.Column, rows int, first int64) error {
		for i := 0; i < rows; i++ {
			counts[cols[0].String(i)]++
		}
		return nil
	})
	if err != nil {
		if isNotExist(err) {
			return []results.KindCount{}, nil
		}
		return nil, err
	}
	out := make([]results.KindCount, 0, len(counts))
	for k, c := range counts {
		out = append(out, results.KindCount{Kind: k, Count: c})
	}
	slices.SortFunc(out, func(a, b results.KindCount) int {
		if a.Kind < b.Kind {
			return -1
		}
		if a.Kind > b.Kind {
			return 1
		}
		return 0
	})
	return out, nil
}
