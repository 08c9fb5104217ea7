package cloudwatch

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

var handlers = map[string]handler{
	"PutMetricData":        putMetricData,
	"GetMetricStatistics":  getMetricStatistics,
	"GetMetricData":        getMetricData,
	"ListMetrics":          listMetrics,
	"PutMetricAlarm":       putMetricAlarm,
	"DescribeAlarms":       describeAlarms,
	"SetAlarmState":        setAlarmState,
	"DeleteAlarms":         deleteAlarms,
	"DescribeAlarmHistory": describeAlarmHistory,
}

// alarm is one metric alarm and when it is next evaluated.
type alarm struct {
	a        types.MetricAlarm
	nextEval time.Time
}

func putMetricAlarm(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.PutMetricAlarmInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	if err := validateAlarm(&in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AlarmName)
	al, exists := r.alarms[name]
	if !exists {
		al = &alarm{}
		r.alarms[name] = al
		r.alarmOrder = append(r.alarmOrder, name)
	}
	prev := al.a
	al.a = types.MetricAlarm{}
	if err := protocol.Copy(&in, &al.a); err != nil {
		return nil, err
	}
	al.a.AlarmArn = aws.String(fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", c.Region, c.Account, name))
	al.a.AlarmConfigurationUpdatedTimestamp = aws.Time(c.Now)
	if al.a.ActionsEnabled == nil {
		al.a.ActionsEnabled = aws.Bool(true)
	}
	if exists {
		al.a.StateValue, al.a.StateReason, al.a.StateUpdatedTimestamp = prev.StateValue, prev.StateReason, prev.StateUpdatedTimestamp
		al.a.StateTransitionedTimestamp = prev.StateTransitionedTimestamp
	} else {
		r.setState(al, types.StateValueInsufficientData, "Unchecked: Initial alarm creation", c.Now)
	}
	al.nextEval = nextBoundary(c.Now, period(al)) // windows are clock-aligned
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

func validateAlarm(in *cloudwatch.PutMetricAlarmInput) error {
	if aws.ToString(in.AlarmName) == "" || in.ComparisonOperator == "" || in.EvaluationPeriods == nil {
		return protocol.Errorf("MissingRequiredParameterException", "AlarmName, ComparisonOperator and EvaluationPeriods are required.")
	}
	if len(in.Metrics) == 0 && (in.MetricName == nil || in.Period == nil || (in.Statistic == "" && in.ExtendedStatistic == nil)) {
		return protocol.Errorf("ValidationException", "MetricName, Period and Statistic are required unless Metrics is set.")
	}
	if dta := aws.ToInt32(in.DatapointsToAlarm); dta > aws.ToInt32(in.EvaluationPeriods) {
		return protocol.Errorf("ValidationException", "DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
	}
	return checkAlarmRules(in)
}

func period(al *alarm) time.Duration {
	p := time.Duration(aws.ToInt32(al.a.Period)) * time.Second
	if p <= 0 {
		return time.Minute
	}
	return p
}

// setState changes the alarm state and records a history item when it
// actually changes.
func (r *region) setState(al *alarm, v types.StateValue, reason string, now time.Time) {
	old := al.a.StateValue
	al.a.StateReason = aws.String(reason)
	al.a.StateUpdatedTimestamp = aws.Time(now)
	if old == v {
		return
	}
	al.a.StateValue = v
	al.a.StateTransitionedTimestamp = aws.Time(now)
	summary := fmt.Sprintf("Alarm updated from %s to %s", old, v)
	if old == "" {
		summary = "Alarm \"" + aws.ToString(al.a.AlarmName) + "\" created"
	}
	r.history = append(r.history, types.AlarmHistoryItem{
		AlarmName: al.a.AlarmName, AlarmType: types.AlarmTypeMetricAlarm, Timestamp: aws.Time(now),
		HistoryItemType: types.HistoryItemTypeStateUpdate, HistorySummary: aws.String(summary),
	})
}

// evaluateAlarms evaluates every alarm whose period elapsed.
func (r *region) evaluateAlarms(now time.Time) {
	for _, name := range r.alarmOrder {
		al := r.alarms[name]
		for !al.nextEval.After(now) {
			r.evaluate(al, al.nextEval)
			al.nextEval = al.nextEval.Add(period(al))
		}
	}
}

// evaluate applies the alarm's rule to its last EvaluationPeriods periods:
// ALARM when DatapointsToAlarm of them breach, OK when enough are
// present and do not, per TreatMissingData otherwise.
func (r *region) evaluate(al *alarm, now time.Time) {
	if al.a.MetricName == nil {
		return // metric math alarms are not evaluated
	}
	n := int(aws.ToInt32(al.a.EvaluationPeriods))
	dta := int(aws.ToInt32(al.a.DatapointsToAlarm))
	if dta == 0 {
		dta = n
	}
	p := period(al)
	start := now.Add(-time.Duration(n) * p)
	var points []stats
	if sr := r.find(aws.ToString(al.a.Namespace), aws.ToString(al.a.MetricName), al.a.Dimensions); sr != nil {
		points = sr.aggregate(start, now, p)
	}
	breaching := 0
	for _, st := range points {
		if breaches(al.a.ComparisonOperator, st.value(string(al.a.Statistic)), aws.ToFloat64(al.a.Threshold)) {
			breaching++
		}
	}
	missing := n - len(points)
	switch aws.ToString(al.a.TreatMissingData) {
	case "breaching":
		breaching += missing
		missing = 0
	case "notBreaching":
		missing = 0
	case "ignore":
		if len(points) == 0 {
			return
		}
	}
	switch {
	case breaching >= dta:
		r.setState(al, types.StateValueAlarm, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints were breaching.", breaching, n), now)
	case missing == n:
		r.setState(al, types.StateValueInsufficientData, "Insufficient Data: no datapoints were received.", now)
	default:
		r.setState(al, types.StateValueOk, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints were not breaching.", n-missing-breaching, n), now)
	}
}

func breaches(op types.ComparisonOperator, v, threshold float64) bool {
	switch op {
	case types.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return v >= threshold
	case types.ComparisonOperatorGreaterThanThreshold:
		return v > threshold
	case types.ComparisonOperatorLessThanThreshold:
		return v < threshold
	case types.ComparisonOperatorLessThanOrEqualToThreshold:
		return v <= threshold
	default:
		return false
	}
}

func describeAlarms(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.DescribeAlarmsInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.MetricAlarm
	for _, name := range r.alarmOrder {
		al := r.alarms[name]
		if len(in.AlarmNames) > 0 && !contains(in.AlarmNames, name) {
			continue
		}
		if in.AlarmNamePrefix != nil && !strings.HasPrefix(name, *in.AlarmNamePrefix) {
			continue
		}
		if in.StateValue != "" && al.a.StateValue != in.StateValue {
			continue
		}
		found = append(found, al.a)
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxRecords)), 50)
	if err != nil {
		return nil, protocol.Errorf("InvalidNextToken", "invalid next token")
	}
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: found[start:end], NextToken: optString(next)}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func setAlarmState(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.SetAlarmStateInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	al, ok := r.alarms[aws.ToString(in.AlarmName)]
	if !ok {
		return nil, protocol.StatusErrorf(404, "ResourceNotFound", "Alarm %s not found", aws.ToString(in.AlarmName))
	}
	switch in.StateValue {
	case types.StateValueOk, types.StateValueAlarm, types.StateValueInsufficientData:
	default:
		return nil, protocol.Errorf("InvalidParameterValueException", "StateValue %q is invalid", in.StateValue)
	}
	r.setState(al, in.StateValue, aws.ToString(in.StateReason), c.Now)
	al.a.StateReasonData = in.StateReasonData
	return &cloudwatch.SetAlarmStateOutput{}, nil
}

func deleteAlarms(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.DeleteAlarmsInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	for _, name := range in.AlarmNames {
		if _, ok := r.alarms[name]; !ok {
			return nil, protocol.StatusErrorf(404, "ResourceNotFound", "Alarm %s not found", name)
		}
	}
	for _, name := range in.AlarmNames {
		delete(r.alarms, name)
		var kept []string
		for _, n := range r.alarmOrder {
			if n != name {
				kept = append(kept, n)
			}
		}
		r.alarmOrder = kept
	}
	return &cloudwatch.DeleteAlarmsOutput{}, nil
}

func describeAlarmHistory(s *Service, r *region, c *protocol.Call) (any, error) {
	var in cloudwatch.DescribeAlarmHistoryInput
	if err := protocol.DecodeCBOR(c.Body, &in); err != nil {
		return nil, err
	}
	var found []types.AlarmHistoryItem
	for i := len(r.history) - 1; i >= 0; i-- { // newest first
		h := r.history[i]
		if in.AlarmName != nil && aws.ToString(h.AlarmName) != *in.AlarmName {
			continue
		}
		if in.HistoryItemType != "" && h.HistoryItemType != in.HistoryItemType {
			continue
		}
		found = append(found, h)
	}
	start, end, next, err := protocol.Page(len(found), aws.ToString(in.NextToken), int(aws.ToInt32(in.MaxRecords)), 100)
	if err != nil {
		return nil, protocol.Errorf("InvalidNextToken", "invalid next token")
	}
	return &cloudwatch.DescribeAlarmHistoryOutput{AlarmHistoryItems: found[start:end], NextToken: optString(next)}, nil
}

// AlarmState returns an alarm's state, or "" when it does not exist.
func (s *Service) AlarmState(scope protocol.Scope, name string) string {
	al, ok := s.region(scope).alarms[name]
	if !ok {
		return ""
	}
	return string(al.a.StateValue)
}

// AlarmWindow returns how long a watcher must wait to be sure an alarm
// evaluated a full window of fresh data: Period × (EvaluationPeriods + 1),
// since evaluations happen on period boundaries; zero when the alarm does
// not exist.
func (s *Service) AlarmWindow(scope protocol.Scope, name string) time.Duration {
	al, ok := s.region(scope).alarms[name]
	if !ok {
		return 0
	}
	return period(al) * time.Duration(aws.ToInt32(al.a.EvaluationPeriods)+1)
}

// PutServiceAlarm creates or replaces a metric alarm on behalf of another
// service (Application Auto Scaling's TargetTracking-* alarms) and returns
// its ARN.
func (s *Service) PutServiceAlarm(scope protocol.Scope, a types.MetricAlarm, now time.Time) string {
	r := s.region(scope)
	name := aws.ToString(a.AlarmName)
	al, exists := r.alarms[name]
	if !exists {
		al = &alarm{}
		r.alarms[name] = al
		r.alarmOrder = append(r.alarmOrder, name)
	}
	a.AlarmArn = aws.String(fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", scope.Region, scope.Account, name))
	a.AlarmConfigurationUpdatedTimestamp = aws.Time(now)
	a.ActionsEnabled = aws.Bool(true)
	prev := al.a
	al.a = a
	if exists {
		al.a.StateValue, al.a.StateReason, al.a.StateUpdatedTimestamp = prev.StateValue, prev.StateReason, prev.StateUpdatedTimestamp
		al.a.StateTransitionedTimestamp = prev.StateTransitionedTimestamp
	} else {
		r.setState(al, types.StateValueInsufficientData, "Unchecked: Initial alarm creation", now)
	}
	al.nextEval = nextBoundary(now, period(al))
	return aws.ToString(a.AlarmArn)
}

// DeleteServiceAlarms deletes alarms another service created.
func (s *Service) DeleteServiceAlarms(scope protocol.Scope, names []string) {
	r := s.region(scope)
	for _, name := range names {
		delete(r.alarms, name)
		r.alarmOrder = slices.DeleteFunc(r.alarmOrder, func(n string) bool { return n == name })
	}
}
