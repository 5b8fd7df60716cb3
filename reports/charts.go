package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart colours, shared with report.css so text and charts agree.
var (
	colorFlat    = color.NRGBA{R: 0x8a, G: 0x94, B: 0xa0, A: 0xff} // not significant
	colorLine    = color.NRGBA{R: 0x1f, G: 0x5f, B: 0xbf, A: 0xff} // estimates, significant results
	colorBand    = color.NRGBA{R: 0x1f, G: 0x5f, B: 0xbf, A: 0x40} // confidence band
	colorSeqBand = color.NRGBA{R: 0x1f, G: 0x5f, B: 0xbf, A: 0x18} // sequential band
	colorText    = color.NRGBA{R: 0x4a, G: 0x55, B: 0x60, A: 0xff} // axis text
	colorZero    = color.NRGBA{R: 0x88, G: 0x88, B: 0x88, A: 0xff}
	colorGrid    = color.NRGBA{R: 0xe3, G: 0xe6, B: 0xea, A: 0xff}
	colorBar     = color.NRGBA{R: 0x4a, G: 0x7f, B: 0xd0, A: 0xff}
)

// sans is the chart typeface. vgsvg names it "Liberation Sans" in the SVG;
// report.css falls back to metric-compatible Arial/Helvetica where it is not
// installed, so measured label widths still fit.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// ForestRow is one line of a forest plot: an estimate with its interval.
type ForestRow struct {
	Label       string
	Est, Lo, Hi float64 // as fractions (0.05 = 5%)
	Significant bool
}

// TimePoint is one point of a cumulative-lift chart: the estimate and its
// fixed-horizon interval at time T, and optionally the sequential
// (always-valid) interval.
type TimePoint struct {
	T            time.Time
	Est, Lo, Hi  float64
	SeqLo, SeqHi float64
	HasSeq       bool
}

// Bar is one labelled bar: Count observations in category Label.
type Bar struct {
	Label string
	Count float64
}

func newPlot() *plot.Plot {
	p := plot.New()
	// Opaque white, the page's background: vgsvg writes a fully transparent
	// colour as "#-8000000000000000…" (it divides by the zero alpha), which
	// is not a colour (TestHTMLColoursParse).
	p.BackgroundColor = color.White
	p.X.Label.TextStyle.Font = font.From(sans, 10)
	p.Y.Label.TextStyle.Font = font.From(sans, 10)
	p.X.Tick.Label.Font = font.From(sans, 9)
	p.Y.Tick.Label.Font = font.From(sans, 9)
	p.X.Tick.Label.Color = colorText
	p.Y.Tick.Label.Color = colorText
	p.X.Label.TextStyle.Color = colorText
	p.Y.Label.TextStyle.Color = colorText
	p.X.LineStyle.Color = colorGrid
	p.Y.LineStyle.Color = colorGrid
	p.X.Tick.LineStyle.Color = colorGrid
	p.Y.Tick.LineStyle.Color = colorGrid
	p.X.Padding = vg.Points(4)
	p.Y.Padding = vg.Points(4)
	return p
}

// percentTicks labels a fraction-valued axis in percent.
type percentTicks struct{}

func (percentTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	// Use as few decimals as the labelled ticks need: +10%, +2.5%.
	prec := 0
	for _, t := range ts {
		if t.Label == "" {
			continue
		}
		for prec < 3 && math.Abs(t.Value*100*math.Pow(10, float64(prec))-math.Round(t.Value*100*math.Pow(10, float64(prec)))) > 1e-6 {
			prec++
		}
	}
	for i := range ts {
		if ts[i].Label == "" {
			continue
		}
		v := ts[i].Value * 100
		switch {
		case math.Abs(v) < 1e-9:
			ts[i].Label = "0%"
		case v > 0:
			ts[i].Label = "+" + strconv.FormatFloat(v, 'f', prec, 64) + "%"
		default:
			ts[i].Label = "\u2212" + strconv.FormatFloat(-v, 'f', prec, 64) + "%"
		}
	}
	return ts
}

// countTicks labels counts with thousands separators.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label == "" {
			continue
		}
		if v := ts[i].Value; v == math.Trunc(v) && math.Abs(v) < 1e15 {
			ts[i].Label = Count(int64(v))
		} else {
			ts[i].Label = Number(v)
		}
	}
	return ts
}

// svgProlog matches the XML declaration and comment vgsvg writes before the
// figure, and svgSize its fixed-size <svg> opening, so that both can be
// replaced and the figure can scale with the page.
var (
	svgProlog = regexp.MustCompile(`(?s)^<\?xml[^>]*\?>\s*<!--.*?-->\s*`)
	svgSize   = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)
)

// toSVG draws p into an inline SVG element of w×h points. The SVG comes
// from gonum's vgsvg canvas; only its XML prolog is removed and its fixed
// width and height are replaced by a CSS class so it scales with the page.
func toSVG(p *plot.Plot, w, h vg.Length, label string) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("draw chart %q: %w", label, err)
	}
	b := svgProlog.ReplaceAll(buf.Bytes(), nil)
	b = svgSize.ReplaceAll(b, []byte(`<svg class="chart" role="img" aria-label="`+template.HTMLEscapeString(label)+`"`))
	return template.HTML(b), nil // #nosec: produced by vgsvg from numbers and escaped labels
}

func lineStyle(c color.Color, w float64) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(w)}
}

// ForestPlot draws relative lifts with their intervals, one row per entry,
// with a vertical reference line at zero. Rows with a non-finite estimate
// or interval are left out (the table explains them in words).
func ForestPlot(rows []ForestRow, title string) (template.HTML, error) {
	var keep []ForestRow
	for _, r := range rows {
		if finite(r.Est) && finite(r.Lo) && finite(r.Hi) {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 {
		return "", nil
	}
	p := newPlot()
	p.X.Label.Text = title
	p.X.Tick.Marker = percentTicks{}
	n := len(keep)
	names := make([]string, n)
	lo, hi := 0.0, 0.0
	for i, r := range keep {
		y := float64(n - 1 - i) // first row on top
		names[n-1-i] = r.Label
		c := colorFlat
		if r.Significant {
			c = colorLine
		}
		seg, err := plotter.NewLine(plotter.XYs{{X: r.Lo, Y: y}, {X: r.Hi, Y: y}})
		if err != nil {
			return "", err
		}
		seg.LineStyle = lineStyle(c, 2)
		dot, err := plotter.NewScatter(plotter.XYs{{X: r.Est, Y: y}})
		if err != nil {
			return "", err
		}
		dot.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		p.Add(seg, dot)
		lo, hi = math.Min(lo, r.Lo), math.Max(hi, r.Hi)
	}
	pad := (hi - lo) * 0.08
	if pad == 0 {
		pad = 0.01
	}
	p.X.Min, p.X.Max = lo-pad, hi+pad
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: p.Y.Min}, {X: 0, Y: p.Y.Max}})
	if err != nil {
		return "", err
	}
	zero.LineStyle = lineStyle(colorZero, 0.8)
	zero.LineStyle.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	grid := plotter.NewGrid()
	grid.Vertical = lineStyle(colorGrid, 0.5)
	grid.Horizontal.Color = nil
	p.Add(grid, zero)
	p.NominalY(names...)
	p.Y.Tick.Label.Font = font.From(sans, 10)
	p.Y.Tick.Label.Color = color.Black
	h := vg.Points(float64(36 + 26*n))
	return toSVG(p, vg.Points(640), h, title)
}

// CumulativeLift draws the relative lift over time with its confidence
// band, and the sequential band when the points carry one.
func CumulativeLift(points []TimePoint, yLabel string) (template.HTML, error) {
	var est, band, seqLo, seqHi plotter.XYs
	hasSeq := false
	for _, pt := range points {
		if !finite(pt.Est) || !finite(pt.Lo) || !finite(pt.Hi) {
			continue
		}
		x := float64(pt.T.Unix())
		est = append(est, plotter.XY{X: x, Y: pt.Est})
		band = append(band, plotter.XY{X: x, Y: pt.Lo})
		if pt.HasSeq && finite(pt.SeqLo) && finite(pt.SeqHi) {
			hasSeq = true
			seqLo = append(seqLo, plotter.XY{X: x, Y: pt.SeqLo})
			seqHi = append(seqHi, plotter.XY{X: x, Y: pt.SeqHi})
		}
	}
	if len(est) < 2 {
		return "", nil
	}
	for i := len(points) - 1; i >= 0; i-- {
		pt := points[i]
		if finite(pt.Est) && finite(pt.Lo) && finite(pt.Hi) {
			band = append(band, plotter.XY{X: float64(pt.T.Unix()), Y: pt.Hi})
		}
	}
	p := newPlot()
	p.Y.Label.Text = yLabel
	p.Y.Tick.Marker = percentTicks{}
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2", Time: plot.UnixTimeIn(time.UTC)}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal = lineStyle(colorGrid, 0.5)
	p.Add(grid)
	if hasSeq {
		ring := append(plotter.XYs{}, seqLo...)
		for i := len(seqHi) - 1; i >= 0; i-- {
			ring = append(ring, seqHi[i])
		}
		poly, err := plotter.NewPolygon(ring)
		if err != nil {
			return "", err
		}
		poly.Color = colorSeqBand
		poly.LineStyle = lineStyle(colorBand, 0.6)
		poly.LineStyle.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(poly)
	}
	poly, err := plotter.NewPolygon(band)
	if err != nil {
		return "", err
	}
	poly.Color = colorBand
	poly.LineStyle.Width = 0
	line, err := plotter.NewLine(est)
	if err != nil {
		return "", err
	}
	line.LineStyle = lineStyle(colorLine, 2)
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.LineStyle = lineStyle(colorZero, 0.8)
	zero.LineStyle.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(poly, zero, line)
	p.Y.Min, p.Y.Max = liftRange(points) // after Add, which widens the axes to the data
	return toSVG(p, vg.Points(640), vg.Points(240), yLabel+" over time")
}

// liftRange is the y range of a cumulative-lift chart: every estimate, the
// confidence band from the end of the first quarter of the days on, and the
// sequential band of the last day. Early intervals are very wide (few units)
// and would flatten the rest of the chart; the plot clips them at the frame.
func liftRange(points []TimePoint) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	from := len(points) / 4
	for i, pt := range points {
		vals := []float64{pt.Est}
		if i >= from {
			vals = append(vals, pt.Lo, pt.Hi)
		}
		if pt.HasSeq && i == len(points)-1 {
			vals = append(vals, pt.SeqLo, pt.SeqHi)
		}
		for _, v := range vals {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}

// LabelledBars draws counts of labelled categories (pre-binned histogram
// bars such as "0", "1", …, "10+") as a bar chart.
func LabelledBars(bars []Bar, xLabel, yLabel string) (template.HTML, error) {
	vals := make(plotter.Values, 0, len(bars))
	names := make([]string, 0, len(bars))
	total := 0.0
	for _, b := range bars {
		if !finite(b.Count) || b.Count < 0 {
			continue
		}
		vals = append(vals, b.Count)
		names = append(names, b.Label)
		total += b.Count
	}
	if len(vals) == 0 || total == 0 {
		return "", nil
	}
	p := newPlot()
	w := vg.Points(math.Max(4, math.Min(28, 300/float64(len(vals)))))
	bc, err := plotter.NewBarChart(vals, w)
	if err != nil {
		return "", fmt.Errorf("draw chart %q: %w", xLabel, err)
	}
	bc.Color = colorBar
	bc.LineStyle.Width = 0
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Y.Tick.Marker = countTicks{}
	p.Y.Min = 0
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal = lineStyle(colorGrid, 0.5)
	p.Add(grid, bc)
	p.NominalX(names...)
	return toSVG(p, vg.Points(420), vg.Points(220), xLabel)
}

// formatTicks labels default tick positions with f.
type formatTicks func(float64) string

func (f formatTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = f(ts[i].Value)
		}
	}
	return ts
}
