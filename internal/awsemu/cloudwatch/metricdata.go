package cloudwatch

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// getMetricData answers MetricStat queries and metric math expressions
// over them. Every query is evaluated once, on demand, so expressions may
// refer to queries that do not return data (ReturnData false) and to
// other expressions.
func getMetricData(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.GetMetricDataInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	if in.StartTime == nil || in.EndTime == nil || len(in.MetricDataQueries) == 0 {
		return nil, protocol.Errorf("InvalidParameterValueException", "StartTime, EndTime and MetricDataQueries are required.")
	}
	ev, err := newEvaluator(r, &in)
	if err != nil {
		return nil, err
	}
	if ev.period > 0 {
		ev.start = roundStart(ev.start, c.Now, ev.period)
	}
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		ts, err := ev.series(aws.ToString(q.Id))
		if err != nil {
			return nil, err
		}
		out.MetricDataResults = append(out.MetricDataResults, result(q, ts, in.ScanBy))
	}
	return out, nil
}

// result turns a query's series into its MetricDataResult, newest first
// unless the request asked for ascending timestamps.
func result(q types.MetricDataQuery, ts timeSeries, scan types.ScanBy) types.MetricDataResult {
	res := types.MetricDataResult{Id: q.Id, Label: q.Label, StatusCode: types.StatusCodeComplete}
	if res.Label == nil && q.MetricStat != nil && q.MetricStat.Metric != nil {
		res.Label = q.MetricStat.Metric.MetricName
	}
	if res.Label == nil {
		res.Label = q.Id
	}
	keys := ts.sorted()
	if scan != types.ScanByTimestampAscending {
		for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
			keys[i], keys[j] = keys[j], keys[i]
		}
	}
	for _, k := range keys {
		res.Timestamps = append(res.Timestamps, time.Unix(0, k).UTC())
		res.Values = append(res.Values, ts[k])
	}
	return res
}

// evaluator evaluates the queries of one GetMetricData request.
type evaluator struct {
	r          *region
	start, end time.Time
	byID       map[string]types.MetricDataQuery
	done       map[string]timeSeries
	active     map[string]bool
	// period is the shortest MetricStat period of the request, the
	// default period of expressions.
	period time.Duration
}

func newEvaluator(r *region, in *cloudwatch.GetMetricDataInput) (*evaluator, error) {
	ev := &evaluator{r: r, start: *in.StartTime, end: *in.EndTime, byID: map[string]types.MetricDataQuery{},
		done: map[string]timeSeries{}, active: map[string]bool{}}
	for _, q := range in.MetricDataQueries {
		if err := checkQuery(q); err != nil {
			return nil, err
		}
		id := aws.ToString(q.Id)
		if _, dup := ev.byID[id]; dup {
			return nil, protocol.Errorf("ValidationError", "The values for parameter id in MetricDataQueries are not unique: %s.", id)
		}
		ev.byID[id] = q
		if ms := q.MetricStat; ms != nil {
			if p := seconds(ms.Period); p > 0 && (ev.period == 0 || p < ev.period) {
				ev.period = p
			}
		}
	}
	return ev, nil
}

// checkQuery validates a query's id, its kind and its statistic.
func checkQuery(q types.MetricDataQuery) error {
	id := aws.ToString(q.Id)
	if !validID(id) {
		return protocol.Errorf("ValidationError", "Invalid metric data query id %q: it must start with a lowercase letter and contain only letters, digits and underscores.", id)
	}
	if (q.MetricStat == nil) == (q.Expression == nil) {
		return protocol.Errorf("ValidationError", "Query %s must have exactly one of MetricStat and Expression.", id)
	}
	ms := q.MetricStat
	if ms == nil {
		return nil
	}
	if ms.Metric == nil || seconds(ms.Period) <= 0 {
		return protocol.Errorf("InvalidParameterValueException", "query %s: Metric and a positive Period are required", id)
	}
	if !validQueryPeriod(aws.ToInt32(ms.Period)) {
		return periodError(aws.ToInt32(ms.Period))
	}
	if _, err := parseStat(aws.ToString(ms.Stat)); err != nil {
		return protocol.Errorf("InvalidParameterValueException", "query %s: %v", id, err)
	}
	return nil
}

func validID(id string) bool {
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for _, c := range id {
		if c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func seconds(p *int32) time.Duration { return time.Duration(aws.ToInt32(p)) * time.Second }

// series evaluates the query with the given id once.
func (ev *evaluator) series(id string) (timeSeries, error) {
	if ts, ok := ev.done[id]; ok {
		return ts, nil
	}
	q := ev.byID[id]
	if ev.active[id] {
		return nil, protocol.Errorf("ValidationError", "Error in expression %s: circular reference to %s.", id, id)
	}
	ev.active[id] = true
	defer delete(ev.active, id)
	var ts timeSeries
	var err error
	if q.MetricStat != nil {
		ts = ev.metric(q.MetricStat)
	} else {
		ts, err = ev.expression(id, q)
	}
	if err != nil {
		return nil, err
	}
	ev.done[id] = ts
	return ts, nil
}

// metric aggregates a MetricStat query's datapoints by period.
func (ev *evaluator) metric(ms *types.MetricStat) timeSeries {
	ts := timeSeries{}
	sr := ev.r.find(aws.ToString(ms.Metric.Namespace), aws.ToString(ms.Metric.MetricName), ms.Metric.Dimensions)
	if sr == nil {
		return ts
	}
	st, _ := parseStat(aws.ToString(ms.Stat))
	for _, b := range sr.aggregate(ev.start, ev.end, seconds(ms.Period)) {
		if ms.Unit != "" && b.unit != "" && b.unit != ms.Unit {
			continue
		}
		if v, ok := st.of(b); ok {
			ts[b.start.UnixNano()] = v
		}
	}
	return ts
}

// expression parses and evaluates a metric math query; a number result is
// drawn at each period, an array of series is refused.
func (ev *evaluator) expression(id string, q types.MetricDataQuery) (timeSeries, error) {
	fail := func(format string, args ...any) error {
		return protocol.Errorf("ValidationError", "Error in expression %s: %s", id, fmt.Sprintf(format, args...))
	}
	n, err := parseExpression(aws.ToString(q.Expression))
	if err != nil {
		return nil, fail("%v", err)
	}
	period := seconds(q.Period)
	if period <= 0 {
		period = ev.period
	}
	if period <= 0 {
		return nil, fail("the expression needs a Period when the request has no metric")
	}
	env := &mathEnv{grid: periodGrid(ev.start, ev.end, period), ref: func(ref string) (timeSeries, error) {
		if _, ok := ev.byID[ref]; !ok {
			return nil, fail("unknown metric or expression id %s", ref)
		}
		if ref == id {
			return nil, fail("the expression refers to itself")
		}
		return ev.series(ref)
	}}
	v, err := env.eval(n)
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return nil, pe
	}
	if err != nil {
		return nil, fail("%v", err)
	}
	switch v.kind {
	case scalarValue:
		return env.broadcast(v.num), nil
	case arrayValue:
		return nil, fail("the expression returns %d time series; a query must return one (wrap it in SUM, AVG, MIN or MAX)", len(v.list))
	}
	return v.ts, nil
}

// stat is a parsed statistic: Sum, Average, Minimum, Maximum, SampleCount
// or a percentile (pNN).
type stat struct {
	name       string
	percentile float64 // when name is "p"
}

func parseStat(s string) (stat, error) {
	switch s {
	case "Sum", "Average", "Minimum", "Maximum", "SampleCount":
		return stat{name: s}, nil
	}
	if rest, ok := strings.CutPrefix(s, "p"); ok {
		if p, err := strconv.ParseFloat(rest, 64); err == nil && p >= 0 && p <= 100 {
			return stat{name: "p", percentile: p}, nil
		}
	}
	return stat{}, fmt.Errorf("statistic %q is not supported: use Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99", s)
}

// of returns the statistic of a period; a percentile needs individual
// values, which statistic sets do not have.
func (st stat) of(b stats) (float64, bool) {
	if st.name != "p" {
		return b.value(st.name), true
	}
	return percentile(b.raw, st.percentile)
}

// percentile returns the nearest-rank percentile p of the values.
func percentile(raw []weighted, p float64) (float64, bool) {
	total := 0.0
	for _, w := range raw {
		total += w.count
	}
	if total <= 0 {
		return 0, false
	}
	sorted := append([]weighted(nil), raw...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].v < sorted[j].v })
	rank := math.Max(1, math.Ceil(p/100*total))
	seen := 0.0
	for _, w := range sorted {
		seen += w.count
		if seen >= rank {
			return w.v, true
		}
	}
	return sorted[len(sorted)-1].v, true
}
