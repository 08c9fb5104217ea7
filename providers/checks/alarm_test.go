package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/jibe-dev/jibe/spec"
)

func TestAlarmStates(t *testing.T) {
	ctx := context.Background()
	env, cs, in := newCloudWatchEnv(t)
	cw := env.CloudWatch()
	alarms := map[string]cwtypes.StateValue{
		"web-5xx": cwtypes.StateValueOk, "web-latency": cwtypes.StateValueOk,
		"canary-5xx": cwtypes.StateValueAlarm, "new-alarm": cwtypes.StateValueInsufficientData, "other-new": cwtypes.StateValueInsufficientData,
	}
	for name, state := range alarms {
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String(albNamespace),
			MetricName: aws.String("HTTPCode_Target_5XX_Count"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60),
			EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
			t.Fatal(err)
		}
		if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: state,
			StateReason: aws.String("Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).")}); err != nil {
			t.Fatal(err)
		}
	}
	in.Vars["rollout.app"] = "canary"

	tests := []struct {
		names          []string
		passed, noData bool
		value          float64
		detail         string
	}{
		{[]string{"web-5xx", "web-latency"}, true, false, 0, "alarms web-5xx, web-latency: none in ALARM"},
		{[]string{"web-5xx", "new-alarm"}, true, false, 0, "none in ALARM (new-alarm: INSUFFICIENT_DATA)"},
		{[]string{"web-5xx", "${rollout.app}-5xx"}, false, false, 1, "alarm canary-5xx is in ALARM: Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0)."},
		{[]string{"web-5xx", "typo-5xx"}, false, false, 0, "alarm typo-5xx does not exist in prod us-east-1; create it or fix the name"},
		{[]string{"new-alarm", "other-new"}, false, true, 0, "alarms new-alarm, other-new: INSUFFICIENT_DATA"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			c := withDefaults(spec.Check{Alarm: &spec.AlarmCheck{Names: tt.names}})
			m, err := cs.Measure(ctx, c, in)
			if err != nil {
				t.Fatal(err)
			}
			if m.Passed != tt.passed || m.NoData != tt.noData || m.Value != tt.value || !strings.Contains(m.Detail, tt.detail) {
				t.Errorf("measurement %+v, want passed=%v noData=%v value=%g detail %q", m, tt.passed, tt.noData, tt.value, tt.detail)
			}
		})
	}
}

// More names than one DescribeAlarms call takes are asked in batches.
func TestAlarmNamesInBatches(t *testing.T) {
	names := make([]string, 150)
	for i := range names {
		names[i] = "alarm-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	client := &recordedAlarms{}
	states, err := describeAlarms(context.Background(), client, names)
	if err != nil || len(client.batches) != 2 || client.batches[0] != 100 || client.batches[1] != 50 || len(states) != 150 {
		t.Errorf("batches %v, %d states, %v", client.batches, len(states), err)
	}
}

// recordedAlarms answers every named alarm as OK and records batch sizes.
type recordedAlarms struct{ batches []int }

func (r *recordedAlarms) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	r.batches = append(r.batches, len(in.AlarmNames))
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		out.CompositeAlarms = append(out.CompositeAlarms, cwtypes.CompositeAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValueOk})
	}
	return out, nil
}
