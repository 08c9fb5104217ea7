package dashboard

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

// The geometry of a chart, in SVG user units: the plot is the area inside
// the margins.
const (
	chartWidth, chartHeight = 640, 170
	plotLeft, plotRight     = 48, 630
	plotTop, plotBottom     = 12, 146
)

// chart is an inline SVG chart of values over time: the traffic a
// rollout shifted, or an analysis's readings against its threshold.
type chart struct {
	Title, Note     string
	Width, Height   int
	Line            string // the points of the polyline, "x,y x,y"
	LineClass       string
	Dots            []dot
	Thresholds      []rule
	YTicks, XTicks  []tick
	PlotTop, Bottom int
	Left, Right     int
}

// dot is one reading: passed or failed, with its words as a tooltip.
type dot struct {
	X, Y  float64
	Class string
	Title string
}

// rule is a horizontal line at a threshold.
type rule struct {
	Y     float64
	Label string
}

// tick is a labelled position on an axis; Anchor aligns its label
// (start, middle, end).
type tick struct {
	At     float64
	Label  string
	Anchor string
}

// span maps a time range and a value range onto the plot.
type span struct {
	t0, t1 time.Time
	v0, v1 float64
}

func (s span) x(t time.Time) float64 {
	f := float64(t.Sub(s.t0)) / float64(s.t1.Sub(s.t0))
	return round(plotLeft + f*(plotRight-plotLeft))
}

func (s span) y(v float64) float64 {
	f := (v - s.v0) / (s.v1 - s.v0)
	return round(plotBottom - f*(plotBottom-plotTop))
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

// chartsOf returns a rollout's charts, on one time axis: its traffic,
// when it shifted any, then each analysis with readings. The axis spans
// the readings, up to now while the rollout runs.
func chartsOf(r *agent.RolloutView, now time.Time) []chart {
	var times []time.Time
	for _, p := range r.Traffic {
		times = append(times, p.At)
	}
	for _, a := range r.Analyses {
		for _, m := range a.Measurements {
			times = append(times, m.At)
		}
	}
	if len(times) == 0 {
		return nil
	}
	if r.State == reconcile.RolloutRunning.String() {
		times = append(times, now)
	}
	t0, t1 := timeSpan(times)
	var out []chart
	if len(r.Traffic) > 0 {
		out = append(out, trafficChart(r.Traffic, t0, t1))
	}
	for _, a := range r.Analyses {
		if len(a.Measurements) > 0 {
			out = append(out, analysisChart(a, t0, t1))
		}
	}
	return out
}

// timeSpan is from the earliest to the latest of times, never empty.
func timeSpan(times []time.Time) (time.Time, time.Time) {
	t0, t1 := times[0], times[0]
	for _, t := range times {
		if t.Before(t0) {
			t0 = t
		}
		if t.After(t1) {
			t1 = t
		}
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Minute)
	}
	return t0, t1
}

// trafficChart draws the new version's share of traffic as steps, from
// t0 to t1.
func trafficChart(points []agent.WeightPoint, t0, t1 time.Time) chart {
	s := span{t0: t0, t1: t1, v0: 0, v1: 100}
	c := newChart("Traffic to the new version", s)
	c.LineClass = "weight"
	xy := []string{pt(s.x(t0), s.y(0))}
	last := 0.0
	for _, p := range points {
		xy = append(xy, pt(s.x(p.At), s.y(last)), pt(s.x(p.At), s.y(p.Weight)))
		last = p.Weight
		c.Dots = append(c.Dots, dot{X: s.x(p.At), Y: s.y(p.Weight), Class: "step", Title: percent(p.Weight) + " at " + p.At.UTC().Format("15:04:05")})
	}
	c.Line = strings.Join(append(xy, pt(s.x(t1), s.y(last))), " ")
	c.YTicks = []tick{{At: s.y(0), Label: "0%"}, {At: s.y(50), Label: "50%"}, {At: s.y(100), Label: "100%"}}
	c.Note = "now " + percent(last)
	return c
}

// analysisChart draws a check's readings and its threshold's bounds,
// from t0 to t1.
func analysisChart(a agent.AnalysisView, t0, t1 time.Time) chart {
	lo, hi := 0.0, 0.0
	for _, m := range a.Measurements {
		lo, hi = math.Min(lo, m.Value), math.Max(hi, m.Value)
	}
	for _, b := range []*float64{a.Min, a.Max} {
		if b != nil {
			lo, hi = math.Min(lo, *b), math.Max(hi, *b)
		}
	}
	if hi == lo {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.1
	s := span{t0: t0, t1: t1, v0: lo, v1: hi}
	c := newChart(a.Check, s)
	c.LineClass = "value"
	var xy []string
	for _, m := range a.Measurements {
		class, words := "pass", "passed"
		switch {
		case m.NoData:
			class, words = "nodata", "no data"
		case !m.Passed:
			class, words = "fail", "failed"
		}
		if !m.NoData {
			xy = append(xy, pt(s.x(m.At), s.y(m.Value)))
		}
		title := number(m.Value) + " at " + m.At.UTC().Format("15:04:05") + ": " + words
		if m.Detail != "" {
			title += " (" + m.Detail + ")"
		}
		c.Dots = append(c.Dots, dot{X: s.x(m.At), Y: s.y(m.Value), Class: class, Title: title})
	}
	c.Line = strings.Join(xy, " ")
	if a.Min != nil {
		c.Thresholds = append(c.Thresholds, rule{Y: s.y(*a.Min), Label: "min " + number(*a.Min)})
	}
	if a.Max != nil {
		c.Thresholds = append(c.Thresholds, rule{Y: s.y(*a.Max), Label: "max " + number(*a.Max)})
	}
	c.YTicks = []tick{{At: s.y(lo), Label: number(lo)}, {At: s.y(hi), Label: number(hi)}}
	c.Note = a.Threshold
	return c
}

// newChart is an empty chart over s, with its time axis.
func newChart(title string, s span) chart {
	c := chart{Title: title, Width: chartWidth, Height: chartHeight, PlotTop: plotTop, Bottom: plotBottom, Left: plotLeft, Right: plotRight}
	for i, anchor := range []string{"start", "middle", "middle", "middle", "end"} {
		t := s.t0.Add(time.Duration(i) * s.t1.Sub(s.t0) / 4)
		c.XTicks = append(c.XTicks, tick{At: s.x(t), Label: t.UTC().Format("15:04:05"), Anchor: anchor})
	}
	return c
}

func pt(x, y float64) string { return number(x) + "," + number(y) }

// number writes a value with at most two decimals: "5", "12.35".
func number(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
