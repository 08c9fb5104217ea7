package checks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// CloudWatch measures CloudWatch checks: each measurement is one
// GetMetricData query over the window ending now, with a single period as
// long as the window, of a metric's statistic or of a metric math
// expression. The most recent datapoint is compared with the threshold.
type CloudWatch struct {
	// Client returns the CloudWatch client of an account and region.
	Client func(ctx context.Context, account, region string) (cloudwatch.GetMetricDataAPIClient, error)
	// Clock is the agent's clock. Default the wall clock.
	Clock clock.PassiveClock
}

var _ reconcile.Checker = (*CloudWatch)(nil)

// Measure queries c's metric once in the environment's account and region.
// vars fill ${rollout.*} placeholders in dimension values.
func (cw *CloudWatch) Measure(ctx context.Context, c *spec.Check, in reconcile.CheckInput) (reconcile.Measurement, error) {
	if c.CloudWatch == nil {
		return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("check %q is not a CloudWatch check", c.Name))
	}
	if err := needAWS(c, in); err != nil {
		return reconcile.Measurement{}, err
	}
	client, err := cw.Client(ctx, in.Account, in.Region)
	if err != nil {
		return reconcile.Measurement{}, err
	}
	q := newMetricQuery(c.CloudWatch, in.Vars, cw.now())
	points, err := q.fetch(ctx, client)
	if err != nil {
		return reconcile.Measurement{}, cloudWatchError(fmt.Sprintf("querying %s in %s %s", q.text, in.Account, in.Region), "cloudwatch:GetMetricData", err)
	}
	return q.judge(points, c.CloudWatch.Threshold), nil
}

func (cw *CloudWatch) now() time.Time {
	if cw.Clock != nil {
		return cw.Clock.Now()
	}
	return time.Now()
}

// metricQuery is one measurement's GetMetricData request and what it
// measures.
type metricQuery struct {
	input *cloudwatch.GetMetricDataInput
	// id is the query whose datapoints are the measurement.
	id string
	// text describes the query in details, e.g. "100 * errors / requests".
	text   string
	window time.Duration
}

// newMetricQuery builds the request for a check measured at now: the
// window [now-window, now] in a single period (the window rounded up to
// whole minutes).
func newMetricQuery(cc *spec.CloudWatchCheck, vars map[string]string, now time.Time) metricQuery {
	window := spec.DefaultCloudWatchWindow
	if cc.Window != nil && cc.Window.Duration > 0 {
		window = cc.Window.Duration
	}
	period := int32((window + time.Minute - 1) / time.Minute * 60)
	q := metricQuery{window: window, input: &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-window)), EndTime: aws.Time(now), ScanBy: types.ScanByTimestampAscending,
	}}
	if m := cc.Metric; m != nil {
		q.id, q.text = "m", describeMetric(*m, vars)
		q.input.MetricDataQueries = []types.MetricDataQuery{metricStat("m", *m, period, vars, true)}
		return q
	}
	for _, name := range slices.Sorted(maps.Keys(cc.Metrics)) {
		q.input.MetricDataQueries = append(q.input.MetricDataQueries, metricStat(name, cc.Metrics[name], period, vars, false))
	}
	q.id, q.text = freeID(cc.Metrics), cc.Expression
	q.input.MetricDataQueries = append(q.input.MetricDataQueries, types.MetricDataQuery{
		Id: aws.String(q.id), Expression: aws.String(cc.Expression), ReturnData: aws.Bool(true)})
	return q
}

func metricStat(id string, m spec.Metric, period int32, vars map[string]string, returnData bool) types.MetricDataQuery {
	return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(returnData), MetricStat: &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Name), Dimensions: dimensions(m.Dimensions, vars)},
		Period: aws.Int32(period), Stat: aws.String(m.Statistic), Unit: types.StandardUnit(m.Unit),
	}}
}

// dimensions returns a metric's dimensions sorted by name, with
// placeholders in their values filled.
func dimensions(dims map[string]string, vars map[string]string) []types.Dimension {
	out := make([]types.Dimension, 0, len(dims))
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		out = append(out, types.Dimension{Name: aws.String(k), Value: aws.String(expand(dims[k], vars))})
	}
	return out
}

// describeMetric writes e.g. "Sum of AWS/ApplicationELB RequestCount{LoadBalancer=app/web/1}".
func describeMetric(m spec.Metric, vars map[string]string) string {
	dims := make([]string, 0, len(m.Dimensions))
	for _, d := range dimensions(m.Dimensions, vars) {
		dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	return fmt.Sprintf("%s of %s %s{%s}", m.Statistic, m.Namespace, m.Name, strings.Join(dims, ", "))
}

// freeID returns an id for the expression that no metric uses.
func freeID(metrics map[string]spec.Metric) string {
	id := "expr"
	for i := 1; ; i++ {
		if _, taken := metrics[id]; !taken {
			return id
		}
		id = fmt.Sprintf("expr_%d", i)
	}
}

// fetch runs the request, following NextToken, and returns the datapoints
// of the measured query, oldest first.
func (q metricQuery) fetch(ctx context.Context, client cloudwatch.GetMetricDataAPIClient) ([]reconcile.Datapoint, error) {
	var points []reconcile.Datapoint
	pages := cloudwatch.NewGetMetricDataPaginator(client, q.input)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range out.MetricDataResults {
			if aws.ToString(r.Id) != q.id {
				continue
			}
			for i, at := range r.Timestamps {
				if i < len(r.Values) {
					points = append(points, reconcile.Datapoint{At: at, Value: r.Values[i]})
				}
			}
		}
	}
	sort.SliceStable(points, func(i, j int) bool { return points[i].At.Before(points[j].At) })
	return points, nil
}

// judge decides the measurement from the datapoints: the most recent one
// is the value.
func (q metricQuery) judge(points []reconcile.Datapoint, t spec.Threshold) reconcile.Measurement {
	window := shortDuration(q.window)
	if len(points) == 0 {
		return reconcile.Measurement{NoData: true, Detail: fmt.Sprintf("no datapoints for %s in the last %s", q.text, window)}
	}
	m := judgeValue(q.text, points[len(points)-1].Value, " over "+window, t)
	m.Datapoints = points
	return m
}

// cloudWatchError classifies err with the AWS error table (awserr): a
// query CloudWatch refuses stalls quoting CloudWatch, a role that may not
// call the operation stalls naming perm, the permission to grant, and
// other errors (throttling, server errors, network) stay retryable.
func cloudWatchError(what, perm string, err error) error {
	switch awserr.ClassOf(err) {
	case awserr.InvalidInput:
		var ae smithy.APIError
		errors.As(err, &ae)
		return reconcile.Stalled(fmt.Errorf("%s: CloudWatch refused the query: %s", what, ae.ErrorMessage()))
	case awserr.AccessDenied:
		return reconcile.Stalled(fmt.Errorf("%s: the agent's role may not call CloudWatch: grant it %s (%w)", what, perm, err))
	}
	return awserr.Classify(fmt.Errorf("%s: %w", what, err), nil)
}
