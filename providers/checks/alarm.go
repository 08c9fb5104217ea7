package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// maxAlarmNames is how many alarm names one DescribeAlarms call takes.
const maxAlarmNames = 100

// Alarm measures alarm checks: it passes when none of the named CloudWatch
// alarms (metric or composite) is in ALARM. The value is the number of
// alarms in ALARM; a named alarm that does not exist fails the check, and
// alarms that all lack data give no data.
type Alarm struct {
	// Client returns the CloudWatch client of an account and region.
	Client func(ctx context.Context, account, region string) (cloudwatch.DescribeAlarmsAPIClient, error)
}

var _ reconcile.Checker = (*Alarm)(nil)

// alarmState is the state of one alarm and why it is in it.
type alarmState struct {
	state  types.StateValue
	reason string
}

// Measure reads the alarms' states once in the environment's account and
// region. vars fill ${rollout.*} placeholders in alarm names.
func (a *Alarm) Measure(ctx context.Context, c *spec.Check, in reconcile.CheckInput) (reconcile.Measurement, error) {
	if c.Alarm == nil {
		return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("check %q is not an alarm check", c.Name))
	}
	if err := needAWS(c, in); err != nil {
		return reconcile.Measurement{}, err
	}
	client, err := a.Client(ctx, in.Account, in.Region)
	if err != nil {
		return reconcile.Measurement{}, err
	}
	names := make([]string, len(c.Alarm.Names))
	for i, n := range c.Alarm.Names {
		names[i] = expand(n, in.Vars)
	}
	states, err := describeAlarms(ctx, client, names)
	if err != nil {
		return reconcile.Measurement{}, cloudWatchError(fmt.Sprintf("describing alarms in %s %s", in.Account, in.Region), "cloudwatch:DescribeAlarms", err)
	}
	return judgeAlarms(names, states, in.Account+" "+in.Region), nil
}

// describeAlarms returns the states of the named alarms that exist.
func describeAlarms(ctx context.Context, client cloudwatch.DescribeAlarmsAPIClient, names []string) (map[string]alarmState, error) {
	states := map[string]alarmState{}
	for start := 0; start < len(names); start += maxAlarmNames {
		batch := names[start:min(start+maxAlarmNames, len(names))]
		pages := cloudwatch.NewDescribeAlarmsPaginator(client, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch, AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm}})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, m := range out.MetricAlarms {
				states[aws.ToString(m.AlarmName)] = alarmState{m.StateValue, aws.ToString(m.StateReason)}
			}
			for _, m := range out.CompositeAlarms {
				states[aws.ToString(m.AlarmName)] = alarmState{m.StateValue, aws.ToString(m.StateReason)}
			}
		}
	}
	return states, nil
}

// judgeAlarms decides the measurement from the alarms' states; where is
// the account and region, for the message about a missing alarm.
func judgeAlarms(names []string, states map[string]alarmState, where string) reconcile.Measurement {
	var firing, missing, waiting []string
	for _, n := range names {
		st, ok := states[n]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("alarm %s does not exist in %s; create it or fix the name", n, where))
		case st.state == types.StateValueAlarm:
			firing = append(firing, fmt.Sprintf("alarm %s is in ALARM: %s", n, st.reason))
		case st.state == types.StateValueInsufficientData:
			waiting = append(waiting, n)
		}
	}
	m := reconcile.Measurement{Value: float64(len(firing))}
	switch {
	case len(missing) > 0 || len(firing) > 0:
		m.Detail = strings.Join(append(missing, firing...), "; ")
	case len(waiting) == len(names):
		m.NoData = true
		m.Detail = fmt.Sprintf("%s: INSUFFICIENT_DATA", plural("alarm", names))
	default:
		m.Passed = true
		m.Detail = fmt.Sprintf("%s: none in ALARM", plural("alarm", names))
		if len(waiting) > 0 {
			m.Detail += fmt.Sprintf(" (%s: INSUFFICIENT_DATA)", strings.Join(waiting, ", "))
		}
	}
	return m
}

// plural writes "alarm a" or "alarms a, b".
func plural(noun string, names []string) string {
	if len(names) == 1 {
		return noun + " " + names[0]
	}
	return noun + "s " + strings.Join(names, ", ")
}
