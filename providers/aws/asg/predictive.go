package asg

import (
	"context"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Predictive scaling policies are owned and carried over like the other
// policies. They act through no alarm, so suspending a retired group's
// AlarmNotification process does not stop them: red/black disables the
// old group's (PutScalingPolicy Enabled=false) when it retires it, so
// that the forecast never sizes both groups, and a rollback enables them
// again.

// AWS's defaults of a predictive scaling configuration.
const (
	forecastOnly     = "ForecastOnly"
	honorMaxCapacity = "HonorMaxCapacity"
)

// predictiveData is a predictive scaling configuration in the shape diffs
// compare, AWS's defaults filled in.
type predictiveData struct {
	TargetValue               float64     `json:"targetValue"`
	MetricPair                string      `json:"predefinedMetricPair,omitempty"`
	LoadMetric                string      `json:"predefinedLoadMetric,omitempty"`
	ScalingMetric             string      `json:"predefinedScalingMetric,omitempty"`
	ResourceLabel             string      `json:"resourceLabel,omitempty"`
	CustomizedLoad            *metricData `json:"customizedLoadMetric,omitempty"`
	CustomizedScaling         *metricData `json:"customizedScalingMetric,omitempty"`
	CustomizedCapacity        *metricData `json:"customizedCapacityMetric,omitempty"`
	Mode                      string      `json:"mode"`
	SchedulingBufferTime      int32       `json:"schedulingBufferTime,omitempty"`
	MaxCapacityBreachBehavior string      `json:"maxCapacityBreachBehavior"`
	MaxCapacityBuffer         *int32      `json:"maxCapacityBuffer,omitempty"`
}

// metricData is a CloudWatch metric of a customized specification.
type metricData struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Statistic  string            `json:"statistic"`
	Unit       string            `json:"unit,omitempty"`
}

// desiredPredictive returns the spec's configuration with AWS's defaults.
func desiredPredictive(ps *spec.PredictiveScaling) *predictiveData {
	out := &predictiveData{TargetValue: ps.TargetValue, MetricPair: ps.PredefinedMetricPair, LoadMetric: ps.PredefinedLoadMetric, ScalingMetric: ps.PredefinedScalingMetric,
		ResourceLabel: ps.ResourceLabel, CustomizedLoad: specMetric(ps.CustomizedLoadMetric), CustomizedScaling: specMetric(ps.CustomizedScalingMetric),
		CustomizedCapacity: specMetric(ps.CustomizedCapacityMetric), Mode: or(ps.Mode, forecastOnly),
		MaxCapacityBreachBehavior: or(ps.MaxCapacityBreachBehavior, honorMaxCapacity), MaxCapacityBuffer: ps.MaxCapacityBuffer}
	if b := ps.SchedulingBufferTime; b != nil {
		out.SchedulingBufferTime = int32(b.Seconds())
	}
	return out
}

func specMetric(m *spec.Metric) *metricData {
	if m == nil {
		return nil
	}
	return &metricData{Namespace: m.Namespace, Name: m.Name, Dimensions: m.Dimensions, Statistic: m.Statistic, Unit: m.Unit}
}

// livePredictive returns a live policy's configuration; nil when it has
// none.
func livePredictive(c *astypes.PredictiveScalingConfiguration) *predictiveData {
	if c == nil || len(c.MetricSpecifications) == 0 {
		return nil
	}
	m := c.MetricSpecifications[0]
	out := &predictiveData{TargetValue: aws.ToFloat64(m.TargetValue), Mode: string(c.Mode), SchedulingBufferTime: aws.ToInt32(c.SchedulingBufferTime),
		MaxCapacityBreachBehavior: string(c.MaxCapacityBreachBehavior), MaxCapacityBuffer: c.MaxCapacityBuffer,
		CustomizedLoad: liveMetric(m.CustomizedLoadMetricSpecification), CustomizedScaling: liveMetric(m.CustomizedScalingMetricSpecification),
		CustomizedCapacity: liveMetric(m.CustomizedCapacityMetricSpecification)}
	if p := m.PredefinedMetricPairSpecification; p != nil {
		out.MetricPair, out.ResourceLabel = string(p.PredefinedMetricType), aws.ToString(p.ResourceLabel)
	}
	if p := m.PredefinedLoadMetricSpecification; p != nil {
		out.LoadMetric, out.ResourceLabel = string(p.PredefinedMetricType), or(out.ResourceLabel, aws.ToString(p.ResourceLabel))
	}
	if p := m.PredefinedScalingMetricSpecification; p != nil {
		out.ScalingMetric, out.ResourceLabel = string(p.PredefinedMetricType), or(out.ResourceLabel, aws.ToString(p.ResourceLabel))
	}
	return out
}

// liveMetric reads the metric of a customized specification's first
// query with one.
func liveMetric[T interface {
	*astypes.PredictiveScalingCustomizedLoadMetric | *astypes.PredictiveScalingCustomizedScalingMetric | *astypes.PredictiveScalingCustomizedCapacityMetric
}](c T) *metricData {
	var qs []astypes.MetricDataQuery
	switch c := any(c).(type) {
	case *astypes.PredictiveScalingCustomizedLoadMetric:
		if c != nil {
			qs = c.MetricDataQueries
		}
	case *astypes.PredictiveScalingCustomizedScalingMetric:
		if c != nil {
			qs = c.MetricDataQueries
		}
	case *astypes.PredictiveScalingCustomizedCapacityMetric:
		if c != nil {
			qs = c.MetricDataQueries
		}
	}
	for _, q := range qs {
		if ms := q.MetricStat; ms != nil && ms.Metric != nil {
			out := &metricData{Namespace: aws.ToString(ms.Metric.Namespace), Name: aws.ToString(ms.Metric.MetricName), Statistic: aws.ToString(ms.Stat), Unit: aws.ToString(ms.Unit)}
			for _, d := range ms.Metric.Dimensions {
				if out.Dimensions == nil {
					out.Dimensions = map[string]string{}
				}
				out.Dimensions[aws.ToString(d.Name)] = aws.ToString(d.Value)
			}
			return out
		}
	}
	return nil
}

// queries returns the MetricDataQueries of a customized specification:
// the metric, returned.
func (m *metricData) queries() []astypes.MetricDataQuery {
	metric := &astypes.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Name)}
	for _, k := range slices.Sorted(maps.Keys(m.Dimensions)) {
		metric.Dimensions = append(metric.Dimensions, astypes.MetricDimension{Name: aws.String(k), Value: aws.String(m.Dimensions[k])})
	}
	ms := &astypes.MetricStat{Metric: metric, Stat: aws.String(m.Statistic)}
	if m.Unit != "" {
		ms.Unit = aws.String(m.Unit)
	}
	return []astypes.MetricDataQuery{{Id: aws.String("m1"), MetricStat: ms, ReturnData: aws.Bool(true)}}
}

// configuration returns the API's configuration of pd.
func (pd *predictiveData) configuration() *astypes.PredictiveScalingConfiguration {
	m := astypes.PredictiveScalingMetricSpecification{TargetValue: aws.Float64(pd.TargetValue)}
	label := func() *string {
		if pd.ResourceLabel == "" {
			return nil
		}
		return aws.String(pd.ResourceLabel)
	}
	if pd.MetricPair != "" {
		m.PredefinedMetricPairSpecification = &astypes.PredictiveScalingPredefinedMetricPair{PredefinedMetricType: astypes.PredefinedMetricPairType(pd.MetricPair), ResourceLabel: label()}
	}
	if pd.LoadMetric != "" {
		m.PredefinedLoadMetricSpecification = &astypes.PredictiveScalingPredefinedLoadMetric{PredefinedMetricType: astypes.PredefinedLoadMetricType(pd.LoadMetric), ResourceLabel: label()}
	}
	if pd.ScalingMetric != "" {
		m.PredefinedScalingMetricSpecification = &astypes.PredictiveScalingPredefinedScalingMetric{PredefinedMetricType: astypes.PredefinedScalingMetricType(pd.ScalingMetric), ResourceLabel: label()}
	}
	if c := pd.CustomizedLoad; c != nil {
		m.CustomizedLoadMetricSpecification = &astypes.PredictiveScalingCustomizedLoadMetric{MetricDataQueries: c.queries()}
	}
	if c := pd.CustomizedScaling; c != nil {
		m.CustomizedScalingMetricSpecification = &astypes.PredictiveScalingCustomizedScalingMetric{MetricDataQueries: c.queries()}
	}
	if c := pd.CustomizedCapacity; c != nil {
		m.CustomizedCapacityMetricSpecification = &astypes.PredictiveScalingCustomizedCapacityMetric{MetricDataQueries: c.queries()}
	}
	return &astypes.PredictiveScalingConfiguration{MetricSpecifications: []astypes.PredictiveScalingMetricSpecification{m}, Mode: astypes.PredictiveScalingMode(pd.Mode),
		SchedulingBufferTime: aws.Int32(pd.SchedulingBufferTime), MaxCapacityBreachBehavior: astypes.PredictiveScalingMaxCapacityBreachBehavior(pd.MaxCapacityBreachBehavior),
		MaxCapacityBuffer: pd.MaxCapacityBuffer}
}

// enablePredictive enables or disables the predictive scaling policies of
// a group (a retired group's are disabled, a restored one's enabled).
func (p *Platform) enablePredictive(ctx context.Context, d *reconcile.Deployment, group string, enabled bool) error {
	live, err := p.policies(ctx, group)
	if err != nil {
		return err
	}
	for name, pd := range livePolicies(live) {
		if pd.Predictive == nil || pd.Disabled == !enabled {
			continue
		}
		pd.Disabled = !enabled
		if err := p.putPolicy(ctx, group, name, pd); err != nil {
			return err
		}
		p.logger(d, "promote").Info("set predictive scaling policy", "group", group, "policy", name, "enabled", enabled)
	}
	return nil
}

// putEnabled sets a put's Enabled from pd.
func putEnabled(in *autoscaling.PutScalingPolicyInput, pd policyData) {
	in.Enabled = aws.Bool(!pd.Disabled)
}
