package cloudwatch

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// region is the CloudWatch state of one account and region.
type region struct {
	series     map[string]*series
	order      []string
	alarms     map[string]*alarm
	alarmOrder []string
	history    []types.AlarmHistoryItem
}

func newRegion() *region {
	return &region{series: map[string]*series{}, alarms: map[string]*alarm{}}
}

// series is the datapoints of one metric (namespace, name, dimensions).
type series struct {
	metric types.Metric
	points []point
}

// point is one datapoint or statistic set.
type point struct {
	at                   time.Time
	sum, count, min, max float64
	unit                 types.StandardUnit
	// raw are the individual values, which percentiles need; empty for a
	// statistic set.
	raw []weighted
}

// weighted is a value seen count times.
type weighted struct{ v, count float64 }

// metricKey identifies a metric by namespace, name and sorted dimensions.
func metricKey(ns, name string, dims []types.Dimension) string {
	parts := make([]string, 0, len(dims))
	for _, d := range dims {
		parts = append(parts, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	sort.Strings(parts)
	return ns + "|" + name + "|" + strings.Join(parts, ",")
}

func (r *region) add(ns string, name string, dims []types.Dimension, p point) {
	key := metricKey(ns, name, dims)
	s, ok := r.series[key]
	if !ok {
		s = &series{metric: types.Metric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: dims}}
		r.series[key] = s
		r.order = append(r.order, key)
	}
	s.points = append(s.points, p)
}

// PutMetric records one datapoint; ELBv2's traffic model calls it.
func (s *Service) PutMetric(scope protocol.Scope, namespace, name string, dims map[string]string, value float64, unit string, at time.Time) {
	var ds []types.Dimension
	for k, v := range dims {
		ds = append(ds, types.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	sort.Slice(ds, func(i, j int) bool { return *ds[i].Name < *ds[j].Name })
	s.region(scope).add(namespace, name, ds, point{at: at, sum: value, count: 1, min: value, max: value, unit: types.StandardUnit(unit), raw: []weighted{{value, 1}}})
}

func putMetricData(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.PutMetricDataInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	ns := aws.ToString(in.Namespace)
	if ns == "" || strings.HasPrefix(ns, "AWS/") {
		return nil, protocol.Errorf("InvalidParameterValueException", "The value %s for parameter Namespace is invalid.", ns)
	}
	for i, d := range in.MetricData {
		if err := checkDatum(i+1, d, c.Now); err != nil {
			return nil, err
		}
	}
	for _, d := range in.MetricData {
		p, err := datumPoint(d, c.Now)
		if err != nil {
			return nil, err
		}
		r.add(ns, aws.ToString(d.MetricName), d.Dimensions, p)
	}
	return &cloudwatch.PutMetricDataOutput{}, nil
}

// datumPoint converts a MetricDatum (value, values/counts or statistic
// set) into a point.
func datumPoint(d types.MetricDatum, now time.Time) (point, error) {
	p := point{at: now, unit: d.Unit, min: math.Inf(1), max: math.Inf(-1)}
	if d.Timestamp != nil {
		p.at = *d.Timestamp
	}
	switch {
	case d.StatisticValues != nil:
		sv := d.StatisticValues
		p.sum, p.count, p.min, p.max = aws.ToFloat64(sv.Sum), aws.ToFloat64(sv.SampleCount), aws.ToFloat64(sv.Minimum), aws.ToFloat64(sv.Maximum)
	case len(d.Values) > 0:
		for i, v := range d.Values {
			n := 1.0
			if i < len(d.Counts) {
				n = d.Counts[i]
			}
			p.sum += v * n
			p.count += n
			p.min, p.max = math.Min(p.min, v), math.Max(p.max, v)
			p.raw = append(p.raw, weighted{v, n})
		}
	case d.Value != nil:
		v := *d.Value
		p.sum, p.count, p.min, p.max = v, 1, v, v
		p.raw = []weighted{{v, 1}}
	default:
		return p, protocol.Errorf("MissingRequiredParameterException", "The parameter MetricData.member.Value is required.")
	}
	return p, nil
}

// stats are the aggregated statistics of one period.
type stats struct {
	start                time.Time
	sum, count, min, max float64
	unit                 types.StandardUnit
	raw                  []weighted
}

func (st stats) value(stat string) float64 {
	switch stat {
	case "Sum":
		return st.sum
	case "SampleCount":
		return st.count
	case "Minimum":
		return st.min
	case "Maximum":
		return st.max
	default:
		return st.sum / st.count
	}
}

// aggregate buckets the series' points in [start, end) by period,
// returning only periods that have data, oldest first.
func (s *series) aggregate(start, end time.Time, period time.Duration) []stats {
	buckets := map[int64]*stats{}
	for _, p := range s.points {
		if p.at.Before(start) || !p.at.Before(end) {
			continue
		}
		i := int64(p.at.Sub(start) / period)
		b, ok := buckets[i]
		if !ok {
			b = &stats{start: start.Add(time.Duration(i) * period), min: math.Inf(1), max: math.Inf(-1), unit: p.unit}
			buckets[i] = b
		}
		b.sum += p.sum
		b.count += p.count
		b.min, b.max = math.Min(b.min, p.min), math.Max(b.max, p.max)
		b.raw = append(b.raw, p.raw...)
	}
	out := make([]stats, 0, len(buckets))
	for _, b := range buckets {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

func (r *region) find(ns, name string, dims []types.Dimension) *series {
	return r.series[metricKey(ns, name, dims)]
}

func getMetricStatistics(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.GetMetricStatisticsInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	period := time.Duration(aws.ToInt32(in.Period)) * time.Second
	if period <= 0 || in.StartTime == nil || in.EndTime == nil {
		return nil, protocol.Errorf("InvalidParameterValueException", "Period, StartTime and EndTime are required.")
	}
	if !validQueryPeriod(aws.ToInt32(in.Period)) {
		return nil, periodError(aws.ToInt32(in.Period))
	}
	if len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0 {
		return nil, protocol.Errorf("MissingRequiredParameterException", "Statistics or ExtendedStatistics is required.")
	}
	for _, e := range in.ExtendedStatistics {
		if st, err := parseStat(e); err != nil || st.name != "p" {
			return nil, protocol.Errorf("InvalidParameterValueException", "The value %s for parameter ExtendedStatistics is not a percentile such as p99.", e)
		}
	}
	out := &cloudwatch.GetMetricStatisticsOutput{Label: in.MetricName}
	sr := r.find(aws.ToString(in.Namespace), aws.ToString(in.MetricName), in.Dimensions)
	if sr == nil {
		return out, nil
	}
	for _, st := range sr.aggregate(roundStart(*in.StartTime, c.Now, period), *in.EndTime, period) {
		out.Datapoints = append(out.Datapoints, datapoint(st, in.Statistics, in.ExtendedStatistics))
	}
	return out, nil
}

func datapoint(st stats, want []types.Statistic, extended []string) types.Datapoint {
	dp := types.Datapoint{Timestamp: aws.Time(st.start), Unit: st.unit}
	for _, e := range extended {
		p, _ := parseStat(e)
		if v, ok := p.of(st); ok {
			if dp.ExtendedStatistics == nil {
				dp.ExtendedStatistics = map[string]float64{}
			}
			dp.ExtendedStatistics[e] = v
		}
	}
	for _, w := range want {
		v := aws.Float64(st.value(string(w)))
		switch w {
		case types.StatisticSum:
			dp.Sum = v
		case types.StatisticAverage:
			dp.Average = v
		case types.StatisticMinimum:
			dp.Minimum = v
		case types.StatisticMaximum:
			dp.Maximum = v
		case types.StatisticSampleCount:
			dp.SampleCount = v
		}
	}
	return dp
}

func listMetrics(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.ListMetricsInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.Metric
	for _, key := range r.order {
		m := r.series[key].metric
		if in.Namespace != nil && aws.ToString(m.Namespace) != *in.Namespace {
			continue
		}
		if in.MetricName != nil && aws.ToString(m.MetricName) != *in.MetricName {
			continue
		}
		if !matchDims(m.Dimensions, in.Dimensions) {
			continue
		}
		found = append(found, m)
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), 500, 500)
	if err != nil {
		return nil, protocol.Errorf("InvalidNextToken", "invalid next token")
	}
	return &cloudwatch.ListMetricsOutput{Metrics: found[start:end], NextToken: optString(next)}, nil
}

func matchDims(have []types.Dimension, filters []types.DimensionFilter) bool {
	for _, f := range filters {
		ok := false
		for _, d := range have {
			if aws.ToString(d.Name) == aws.ToString(f.Name) && (f.Value == nil || *f.Value == aws.ToString(d.Value)) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Statistic returns a statistic (Sum, Average, Minimum, Maximum,
// SampleCount) of a metric over [from, to), and false when there is no
// data; Application Auto Scaling's target tracking reads it.
func (s *Service) Statistic(scope protocol.Scope, namespace, name string, dims map[string]string, stat string, from, to time.Time) (float64, bool) {
	ds := make([]types.Dimension, 0, len(dims))
	for k, v := range dims {
		ds = append(ds, types.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	sr := s.region(scope).find(namespace, name, ds)
	if sr == nil || !to.After(from) {
		return 0, false
	}
	buckets := sr.aggregate(from, to, to.Sub(from))
	if len(buckets) == 0 {
		return 0, false
	}
	return buckets[0].value(stat), true
}
