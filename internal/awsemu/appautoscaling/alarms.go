package appautoscaling

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Alarms is the part of CloudWatch where target tracking policies keep
// their TargetTracking-* alarms.
type Alarms interface {
	// PutServiceAlarm creates or replaces an alarm and returns its ARN.
	PutServiceAlarm(scope protocol.Scope, a cwtypes.MetricAlarm, now time.Time) string
	// DeleteServiceAlarms deletes alarms by name.
	DeleteServiceAlarms(scope protocol.Scope, names []string)
}

// Target tracking alarms, as AWS creates them: high after 3 breaching
// minutes, low (scale in) after 15 minutes below 90% of the target.
const (
	highEvaluations = 3
	lowEvaluations  = 15
	lowRatio        = 0.9
)

// trackingAlarms creates the TargetTracking-<resource>-AlarmHigh/-AlarmLow
// pair of a target tracking policy (no low alarm when scale-in is
// disabled), replacing the policy's previous ones, and records them in
// the policy's Alarms.
func (s *Service) trackingAlarms(scope protocol.Scope, p *types.ScalingPolicy, old []types.Alarm, now time.Time) {
	if s.cfg.Alarms == nil {
		return
	}
	s.deleteAlarms(scope, old)
	p.Alarms = nil
	tt := p.TargetTrackingScalingPolicyConfiguration
	if p.PolicyType != types.PolicyTypeTargetTrackingScaling || tt == nil {
		return
	}
	base := metricAlarm(tt)
	if base == nil {
		return
	}
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", s.ids, s.ids)
	target := aws.ToFloat64(tt.TargetValue)
	high := *base
	high.AlarmName = aws.String("TargetTracking-" + aws.ToString(p.ResourceId) + "-AlarmHigh-" + id)
	high.EvaluationPeriods, high.Threshold = aws.Int32(highEvaluations), aws.Float64(target)
	high.ComparisonOperator = cwtypes.ComparisonOperatorGreaterThanThreshold
	alarms := []cwtypes.MetricAlarm{high}
	if !aws.ToBool(tt.DisableScaleIn) {
		low := *base
		low.AlarmName = aws.String("TargetTracking-" + aws.ToString(p.ResourceId) + "-AlarmLow-" + id)
		low.EvaluationPeriods, low.Threshold = aws.Int32(lowEvaluations), aws.Float64(target*lowRatio)
		low.ComparisonOperator = cwtypes.ComparisonOperatorLessThanThreshold
		alarms = append(alarms, low)
	}
	for _, a := range alarms {
		a.AlarmDescription = aws.String("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + aws.ToString(p.PolicyARN) + ".")
		a.AlarmActions = []string{aws.ToString(p.PolicyARN)}
		arn := s.cfg.Alarms.PutServiceAlarm(scope, a, now)
		p.Alarms = append(p.Alarms, types.Alarm{AlarmName: a.AlarmName, AlarmARN: aws.String(arn)})
	}
}

// metricAlarm returns the metric part of a tracking policy's alarms: the
// predefined metric's (ALBRequestCountPerTarget → AWS/ApplicationELB
// RequestCountPerTarget by TargetGroup; ECS CPU and memory by cluster and
// service) or the customized one.
func metricAlarm(tt *types.TargetTrackingScalingPolicyConfiguration) *cwtypes.MetricAlarm {
	a := &cwtypes.MetricAlarm{Period: aws.Int32(60), Statistic: cwtypes.StatisticAverage}
	if pm := tt.PredefinedMetricSpecification; pm != nil {
		switch pm.PredefinedMetricType {
		case types.MetricTypeALBRequestCountPerTarget:
			dims, ok := albDimensions(aws.ToString(pm.ResourceLabel))
			if !ok {
				return nil
			}
			a.Namespace, a.MetricName, a.Statistic = aws.String("AWS/ApplicationELB"), aws.String("RequestCountPerTarget"), cwtypes.StatisticSum
			a.Dimensions = []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(dims["TargetGroup"])}}
		case types.MetricTypeECSServiceAverageCPUUtilization:
			a.Namespace, a.MetricName = aws.String("AWS/ECS"), aws.String("CPUUtilization")
		case types.MetricTypeECSServiceAverageMemoryUtilization:
			a.Namespace, a.MetricName = aws.String("AWS/ECS"), aws.String("MemoryUtilization")
		default:
			return nil
		}
		return a
	}
	cm := tt.CustomizedMetricSpecification
	if cm == nil || cm.MetricName == nil {
		return nil
	}
	a.Namespace, a.MetricName, a.Statistic, a.Unit = cm.Namespace, cm.MetricName, cwtypes.Statistic(cm.Statistic), cwtypes.StandardUnit(aws.ToString(cm.Unit))
	for _, d := range cm.Dimensions {
		a.Dimensions = append(a.Dimensions, cwtypes.Dimension{Name: d.Name, Value: d.Value})
	}
	return a
}

// deleteAlarms deletes a policy's alarms.
func (s *Service) deleteAlarms(scope protocol.Scope, alarms []types.Alarm) {
	if s.cfg.Alarms == nil || len(alarms) == 0 {
		return
	}
	names := make([]string, 0, len(alarms))
	for _, a := range alarms {
		names = append(names, aws.ToString(a.AlarmName))
	}
	s.cfg.Alarms.DeleteServiceAlarms(scope, names)
}
