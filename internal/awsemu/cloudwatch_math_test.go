package awsemu_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// putMinutes publishes one value per minute after t0 (minute → value).
func putMinutes(t *testing.T, env *awsemutest.Env, t0 time.Time, name string, values map[int]float64) {
	t.Helper()
	var data []cwtypes.MetricDatum
	for m, v := range values {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: mathDims,
			Timestamp: aws.Time(t0.Add(time.Duration(m)*time.Minute + 10*time.Second)), Value: aws.Float64(v)})
	}
	need(env.CloudWatch().PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jibe/Math"), MetricData: data})).on(t)
}

var mathDims = []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/web/1")}}

func statQuery(id, name, stat string, period int32) cwtypes.MetricDataQuery {
	return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{
		Period: aws.Int32(period), Stat: aws.String(stat),
		Metric: &cwtypes.Metric{Namespace: aws.String("Jibe/Math"), MetricName: aws.String(name), Dimensions: mathDims}}}
}

// byMinute maps a result's values by minute after t0.
func byMinute(r cwtypes.MetricDataResult, t0 time.Time) map[int]float64 {
	out := map[int]float64{}
	for i, ts := range r.Timestamps {
		out[int(ts.Sub(t0)/time.Minute)] = r.Values[i]
	}
	return out
}

func TestCloudWatchMetricMath(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	t0 := env.Emu.Now()
	putMinutes(t, env, t0, "RequestCount", map[int]float64{0: 100, 1: 200, 2: 0})
	putMinutes(t, env, t0, "HTTPCode_Target_5XX_Count", map[int]float64{0: 5, 2: 3, 3: 7})
	env.Emu.Advance(4 * time.Minute)

	tests := []struct {
		expr string
		want map[int]float64
	}{
		// Minute 1 has no errors, minute 2 no requests (division by zero),
		// minute 3 no requests: only minute 0 remains.
		{"100 * errors / requests", map[int]float64{0: 5}},
		{"100 * FILL(errors, 0) / requests", map[int]float64{0: 5, 1: 0}},
		{"-(errors - 10)", map[int]float64{0: 5, 2: 7, 3: 3}},
		{"ABS(errors - 10)", map[int]float64{0: 5, 2: 7, 3: 3}},
		{"(requests + errors) * 2", map[int]float64{0: 210, 2: 6}},
		{"SUM(errors)", map[int]float64{0: 15, 1: 15, 2: 15, 3: 15}},
		{"AVG(requests) - 100", map[int]float64{0: 0, 1: 0, 2: 0, 3: 0}},
		{"MIN(errors) + MAX(errors)", map[int]float64{0: 10, 1: 10, 2: 10, 3: 10}},
		{"MAX([errors, requests / 10])", map[int]float64{0: 10, 1: 20, 2: 3, 3: 7}},
		{"SUM([errors, FILL(requests, 1)])", map[int]float64{0: 105, 1: 200, 2: 3, 3: 8}},
		{"doubled + 1", map[int]float64{0: 11, 2: 7, 3: 15}},
		{"1 / 0 + errors", map[int]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			out := need(env.CloudWatch().GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(4 * time.Minute)),
				MetricDataQueries: []cwtypes.MetricDataQuery{
					statQuery("requests", "RequestCount", "Sum", 60),
					statQuery("errors", "HTTPCode_Target_5XX_Count", "Sum", 60),
					{Id: aws.String("doubled"), Expression: aws.String("errors * 2"), ReturnData: aws.Bool(false)},
					{Id: aws.String("rate"), Expression: aws.String(tt.expr), Label: aws.String("5xx rate")},
				}})).on(t)
			if len(out.MetricDataResults) != 1 {
				t.Fatalf("results %s, want only the expression", jsonOf(t, out.MetricDataResults))
			}
			r := out.MetricDataResults[0]
			if aws.ToString(r.Id) != "rate" || aws.ToString(r.Label) != "5xx rate" || r.StatusCode != cwtypes.StatusCodeComplete {
				t.Errorf("result %s", jsonOf(t, r))
			}
			if got := byMinute(r, t0); !maps.Equal(got, tt.want) {
				t.Errorf("values by minute %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCloudWatchMetricMathValidation(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	t0 := env.Emu.Now()
	tests := []struct{ expr, msg string }{
		{"errors +", "unexpected end"},
		{"errors / (2", `expected ")"`},
		{"PERCENT(errors)", "unsupported function PERCENT"},
		{"FILL(errors)", "FILL takes 2 argument(s)"},
		{"missing * 2", "unknown metric or expression id missing"},
		{"errors $ 2", `unexpected character '$'`},
		{"[errors, errors]", "returns 2 time series"},
		{"loop", "circular reference"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := env.CloudWatch().GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)),
				MetricDataQueries: []cwtypes.MetricDataQuery{
					statQuery("errors", "HTTPCode_Target_5XX_Count", "Sum", 60),
					{Id: aws.String("loop"), Expression: aws.String("e1 + 1"), ReturnData: aws.Bool(false)},
					{Id: aws.String("e1"), Expression: aws.String(tt.expr)},
				}})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "Error in expression") ||
				!strings.Contains(ae.ErrorMessage(), tt.msg) {
				t.Errorf("got %v, want ValidationError mentioning %q", err, tt.msg)
			}
		})
	}
}

// A period as long as the window gives one datapoint per statistic, and
// percentiles are nearest-rank over the individual values.
func TestCloudWatchMetricDataWholeWindowAndPercentiles(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.CloudWatch()
	t0 := env.Emu.Now()
	var data []cwtypes.MetricDatum
	for i := 1; i <= 100; i++ { // latencies 1..100ms over 5 minutes
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Latency"), Dimensions: mathDims,
			Timestamp: aws.Time(t0.Add(time.Duration(i) * 2 * time.Second)), Value: aws.Float64(float64(i))})
	}
	data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Latency"), Dimensions: mathDims, Timestamp: aws.Time(t0),
		Values: []float64{1000}, Counts: []float64{1}})
	need(c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jibe/Math"), MetricData: data})).on(t)
	env.Emu.Advance(5 * time.Minute)

	want := map[string]float64{"Sum": 6050, "Average": 6050.0 / 101, "Minimum": 1, "Maximum": 1000, "SampleCount": 101, "p50": 51, "p99": 100, "p100": 1000, "p99.5": 1000}
	var queries []cwtypes.MetricDataQuery
	for stat := range want {
		q := statQuery(strings.ReplaceAll(strings.ToLower(stat), ".", "_"), "Latency", stat, 300)
		q.ReturnData = nil
		queries = append(queries, q)
	}
	out := need(c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)),
		MetricDataQueries: queries})).on(t)
	for i, r := range out.MetricDataResults {
		stat := aws.ToString(queries[i].MetricStat.Stat)
		if len(r.Values) != 1 || r.Values[0] != want[stat] || !r.Timestamps[0].Equal(t0) {
			t.Errorf("%s over the whole window: %v at %v, want one datapoint %g", stat, r.Values, r.Timestamps, want[stat])
		}
	}

	st := need(c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Jibe/Math"), MetricName: aws.String("Latency"),
		Dimensions: mathDims, StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)), Period: aws.Int32(300),
		ExtendedStatistics: []string{"p90"}})).on(t)
	if len(st.Datapoints) != 1 || st.Datapoints[0].ExtendedStatistics["p90"] != 91 {
		t.Errorf("GetMetricStatistics p90: %s", jsonOf(t, st.Datapoints))
	}

	bad := statQuery("bad", "Latency", "tm99", 300)
	_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{bad}})
	var ipv *cwtypes.InvalidParameterValueException
	if !errors.As(err, &ipv) || !strings.Contains(err.Error(), "percentile such as p99") {
		t.Errorf("unsupported statistic: got %v, want InvalidParameterValueException", err)
	}
}
