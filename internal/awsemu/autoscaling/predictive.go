package autoscaling

import (
	"slices"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Limits and values AWS puts on a predictive scaling configuration.
const (
	maxSchedulingBuffer = 3600
	increaseMaxCapacity = "IncreaseMaxCapacity"
)

var (
	predictiveModes   = []string{"ForecastOnly", "ForecastAndScale"}
	breachBehaviors   = []string{"HonorMaxCapacity", increaseMaxCapacity}
	metricPairs       = []string{"ASGCPUUtilization", "ASGNetworkIn", "ASGNetworkOut", "ALBRequestCount"}
	loadMetrics       = []string{"ASGTotalCPUUtilization", "ASGTotalNetworkIn", "ASGTotalNetworkOut", "ALBTargetGroupRequestCount"}
	scalingMetrics    = []string{"ASGAverageCPUUtilization", "ASGAverageNetworkIn", "ASGAverageNetworkOut", "ALBRequestCountPerTarget"}
	albPredictiveKind = []string{"ALBRequestCount", "ALBTargetGroupRequestCount", "ALBRequestCountPerTarget"}
)

type xmlPredictive struct {
	MetricSpecifications      []xmlPredictiveMetric `xml:"MetricSpecifications>member"`
	Mode                      string
	SchedulingBufferTime      int `xml:",omitempty"`
	MaxCapacityBreachBehavior string
	MaxCapacityBuffer         *int `xml:",omitempty"`
}

type xmlPredictiveMetric struct {
	TargetValue                           float64
	PredefinedMetricPairSpecification     *xmlPredefined `xml:",omitempty"`
	PredefinedScalingMetricSpecification  *xmlPredefined `xml:",omitempty"`
	PredefinedLoadMetricSpecification     *xmlPredefined `xml:",omitempty"`
	CustomizedScalingMetricSpecification  *xmlQueries    `xml:",omitempty"`
	CustomizedLoadMetricSpecification     *xmlQueries    `xml:",omitempty"`
	CustomizedCapacityMetricSpecification *xmlQueries    `xml:",omitempty"`
}

type xmlQueries struct {
	MetricDataQueries []xmlQuery `xml:"MetricDataQueries>member"`
}

type xmlQuery struct {
	Id         string
	Expression string         `xml:",omitempty"`
	MetricStat *xmlMetricStat `xml:",omitempty"`
	Label      string         `xml:",omitempty"`
	ReturnData bool
}

type xmlMetricStat struct {
	Metric xmlMetric
	Stat   string
	Unit   string `xml:",omitempty"`
}

type xmlMetric struct {
	Namespace  string
	MetricName string
	Dimensions []xmlDimension `xml:"Dimensions>member"`
}

type xmlDimension struct {
	Name, Value string
}

// readPredictive reads a PredictiveScalingConfiguration, refusing what AWS
// refuses: other than one metric specification, a target value not above
// zero, a metric pair with a load or scaling metric, a load metric
// without a scaling one (or the reverse), unknown metric types, an ALB
// metric without a resource label, an unknown mode or breach behavior, a
// buffer outside 0..3600 s, a MaxCapacityBuffer outside 0..100 or set
// without IncreaseMaxCapacity, and IncreaseMaxCapacity without it.
func readPredictive(f protocol.Form) (*xmlPredictive, error) {
	specs := f.List("MetricSpecifications")
	if len(specs) != 1 {
		return nil, validation("PredictiveScalingConfiguration needs exactly one MetricSpecifications entry")
	}
	m, err := readPredictiveMetric(specs[0])
	if err != nil {
		return nil, err
	}
	out := &xmlPredictive{MetricSpecifications: []xmlPredictiveMetric{*m}, Mode: "ForecastOnly", MaxCapacityBreachBehavior: "HonorMaxCapacity"}
	if v := f.String("Mode"); v != "" {
		out.Mode = v
	}
	if v := f.String("MaxCapacityBreachBehavior"); v != "" {
		out.MaxCapacityBreachBehavior = v
	}
	buffer, hasBuffer := f.Int("MaxCapacityBuffer")
	out.SchedulingBufferTime, _ = f.Int("SchedulingBufferTime")
	switch {
	case !slices.Contains(predictiveModes, out.Mode):
		return nil, validation("Mode must be one of %v", predictiveModes)
	case !slices.Contains(breachBehaviors, out.MaxCapacityBreachBehavior):
		return nil, validation("MaxCapacityBreachBehavior must be one of %v", breachBehaviors)
	case out.SchedulingBufferTime < 0 || out.SchedulingBufferTime > maxSchedulingBuffer:
		return nil, validation("SchedulingBufferTime must be between 0 and %d seconds", maxSchedulingBuffer)
	case hasBuffer != (out.MaxCapacityBreachBehavior == increaseMaxCapacity):
		return nil, validation("MaxCapacityBuffer is required with the IncreaseMaxCapacity MaxCapacityBreachBehavior, and cannot be used otherwise")
	case hasBuffer && (buffer < 0 || buffer > 100):
		return nil, validation("MaxCapacityBuffer must be between 0 and 100")
	case hasBuffer:
		out.MaxCapacityBuffer = &buffer
	}
	return out, nil
}

func readPredictiveMetric(f protocol.Form) (*xmlPredictiveMetric, error) {
	v, ok := f.Float("TargetValue")
	if !ok || v <= 0 {
		return nil, validation("TargetValue of a predictive scaling metric specification must be above 0")
	}
	m := &xmlPredictiveMetric{TargetValue: v}
	var err error
	if m.PredefinedMetricPairSpecification, err = predefined(f, "PredefinedMetricPairSpecification", metricPairs); err != nil {
		return nil, err
	}
	if m.PredefinedLoadMetricSpecification, err = predefined(f, "PredefinedLoadMetricSpecification", loadMetrics); err != nil {
		return nil, err
	}
	if m.PredefinedScalingMetricSpecification, err = predefined(f, "PredefinedScalingMetricSpecification", scalingMetrics); err != nil {
		return nil, err
	}
	m.CustomizedLoadMetricSpecification = queries(f, "CustomizedLoadMetricSpecification")
	m.CustomizedScalingMetricSpecification = queries(f, "CustomizedScalingMetricSpecification")
	m.CustomizedCapacityMetricSpecification = queries(f, "CustomizedCapacityMetricSpecification")
	hasLoad := m.PredefinedLoadMetricSpecification != nil || m.CustomizedLoadMetricSpecification != nil
	hasScaling := m.PredefinedScalingMetricSpecification != nil || m.CustomizedScalingMetricSpecification != nil
	switch {
	case m.PredefinedMetricPairSpecification != nil && (hasLoad || hasScaling || m.CustomizedCapacityMetricSpecification != nil):
		return nil, validation("A PredefinedMetricPairSpecification cannot be combined with load, scaling or capacity metric specifications")
	case m.PredefinedMetricPairSpecification != nil:
	case !hasLoad || !hasScaling:
		return nil, validation("Specify a PredefinedMetricPairSpecification, or both a load and a scaling metric specification")
	case m.PredefinedLoadMetricSpecification != nil && m.CustomizedLoadMetricSpecification != nil,
		m.PredefinedScalingMetricSpecification != nil && m.CustomizedScalingMetricSpecification != nil:
		return nil, validation("Specify one load metric and one scaling metric specification, predefined or customized")
	}
	return m, nil
}

// predefined reads a predefined metric specification at name, refusing
// an unknown type or an ALB type without a resource label.
func predefined(f protocol.Form, name string, types []string) (*xmlPredefined, error) {
	if !f.Has(name) {
		return nil, nil
	}
	p := &xmlPredefined{PredefinedMetricType: f.String(name + ".PredefinedMetricType"), ResourceLabel: f.String(name + ".ResourceLabel")}
	if !slices.Contains(types, p.PredefinedMetricType) {
		return nil, validation("%s.PredefinedMetricType must be one of %v", name, types)
	}
	if slices.Contains(albPredictiveKind, p.PredefinedMetricType) && p.ResourceLabel == "" {
		return nil, validation("%s %s needs a ResourceLabel", name, p.PredefinedMetricType)
	}
	return p, nil
}

// queries reads a customized metric specification's MetricDataQueries.
func queries(f protocol.Form, name string) *xmlQueries {
	if !f.Has(name) {
		return nil
	}
	out := &xmlQueries{}
	for _, q := range f.List(name + ".MetricDataQueries") {
		x := xmlQuery{Id: q.String("Id"), Expression: q.String("Expression"), Label: q.String("Label"), ReturnData: true}
		if rd, ok := q.Bool("ReturnData"); ok {
			x.ReturnData = rd
		}
		if q.Has("MetricStat") {
			ms := q.Sub("MetricStat")
			x.MetricStat = &xmlMetricStat{Metric: xmlMetric{Namespace: ms.String("Metric.Namespace"), MetricName: ms.String("Metric.MetricName")},
				Stat: ms.String("Stat"), Unit: ms.String("Unit")}
			for _, d := range ms.List("Metric.Dimensions") {
				x.MetricStat.Metric.Dimensions = append(x.MetricStat.Metric.Dimensions, xmlDimension{Name: d.String("Name"), Value: d.String("Value")})
			}
		}
		out.MetricDataQueries = append(out.MetricDataQueries, x)
	}
	return out
}
