package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

func TestCloudWatchRefusesWhatAWSRefuses(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.CloudWatch()
	env.Emu.Advance(30 * 24 * time.Hour)
	now := env.Emu.Now()
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}
	put := func(d cwtypes.MetricDatum) error {
		d.MetricName = aws.String("m")
		_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{d}})
		return err
	}
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"values and counts of different lengths": {put(cwtypes.MetricDatum{Values: []float64{1, 2}, Counts: []float64{1}}), "InvalidParameterValue"},
		"value and values":                       {put(cwtypes.MetricDatum{Value: aws.Float64(1), Values: []float64{1}}), "InvalidParameterCombination"},
		"a timestamp three weeks old":            {put(cwtypes.MetricDatum{Value: aws.Float64(1), Timestamp: aws.Time(now.Add(-21 * 24 * time.Hour))}), "InvalidParameterValue"},
		"a timestamp three hours ahead":          {put(cwtypes.MetricDatum{Value: aws.Float64(1), Timestamp: aws.Time(now.Add(3 * time.Hour))}), "InvalidParameterValue"},
		"statistics over a 45s period": {func() error {
			_, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("m"),
				StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), Period: aws.Int32(45), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
			return err
		}(), "InvalidParameterValue"},
		"an alarm over a 90s period": {func() error {
			_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Namespace: aws.String("App"), MetricName: aws.String("m"),
				Period: aws.Int32(90), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), Statistic: cwtypes.StatisticSum,
				ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
			return err
		}(), "InvalidParameterValue"},
		"an alarm with Statistic and ExtendedStatistic": {func() error {
			_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Namespace: aws.String("App"), MetricName: aws.String("m"),
				Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), Statistic: cwtypes.StatisticSum, ExtendedStatistic: aws.String("p99"),
				ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
			return err
		}(), "InvalidParameterCombination"},
	} {
		if got := code(tc.err); got != tc.want {
			t.Errorf("%s: got %v (code %q), want %s", name, tc.err, got, tc.want)
		}
	}
}

func TestCloudWatchPeriodsAreClockAligned(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.CloudWatch()
	env.Emu.Advance(10*time.Minute + 40*time.Second) // 00:10:40
	base := env.Emu.Now().Truncate(time.Minute)      // 00:10:00
	for i, at := range []time.Duration{5 * time.Second, 50 * time.Second, 70 * time.Second} {
		need(c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("m"), Value: aws.Float64(float64(i + 1)), Timestamp: aws.Time(base.Add(at))}}})).on(t)
	}
	env.Emu.Advance(2 * time.Minute)
	// StartTime 00:10:30 is rounded down to 00:10:00: the datapoints are 00:10 (1+2) and 00:11 (3).
	st := need(c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("m"),
		StartTime: aws.Time(base.Add(30 * time.Second)), EndTime: aws.Time(base.Add(2 * time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})).on(t)
	sums := map[int64]float64{}
	for _, dp := range st.Datapoints {
		sums[aws.ToTime(dp.Timestamp).Unix()] = aws.ToFloat64(dp.Sum)
	}
	if len(sums) != 2 || sums[base.Unix()] != 3 || sums[base.Add(time.Minute).Unix()] != 3 {
		t.Errorf("datapoints %s; want 00:10:00 = 3 and 00:11:00 = 3 (StartTime rounded down to the minute)", jsonOf(t, st.Datapoints))
	}

	// An alarm created at 00:12:40 evaluates at 00:13:00, the next clock minute, not a minute after its creation.
	need(c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Namespace: aws.String("App"), MetricName: aws.String("m"),
		Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0), Statistic: cwtypes.StatisticSum,
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("breaching")})).on(t)
	env.Emu.Advance(20 * time.Second) // 00:13:00
	a := need(c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}})).on(t).MetricAlarms[0]
	if a.StateValue != cwtypes.StateValueAlarm || !aws.ToTime(a.StateUpdatedTimestamp).Equal(base.Add(3*time.Minute)) {
		t.Errorf("alarm at 00:13:00: %s at %s; want ALARM evaluated at the clock minute 00:13:00", a.StateValue, aws.ToTime(a.StateUpdatedTimestamp))
	}
}
