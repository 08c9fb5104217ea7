package awsemu_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// TestPredictiveScalingPolicyAsAWSValidatesIt: a predictive policy's
// metric specification is a predefined pair, or a load and a scaling
// metric; its buffers are checked; it is stored with AWS's defaults and
// can be disabled (Enabled=false).
func TestPredictiveScalingPolicyAsAWSValidatesIt(t *testing.T) {
	ctx := context.Background()
	_, as := webGroup(t, ctx, 1, 4)
	pair := &astypes.PredictiveScalingPredefinedMetricPair{PredefinedMetricType: astypes.PredefinedMetricPairTypeASGCPUUtilization}
	load := &astypes.PredictiveScalingPredefinedLoadMetric{PredefinedMetricType: astypes.PredefinedLoadMetricTypeASGTotalCPUUtilization}
	scaling := &astypes.PredictiveScalingPredefinedScalingMetric{PredefinedMetricType: astypes.PredefinedScalingMetricTypeASGAverageCPUUtilization}
	put := func(m astypes.PredictiveScalingMetricSpecification, c astypes.PredictiveScalingConfiguration, enabled bool) error {
		if m.TargetValue == nil {
			m.TargetValue = aws.Float64(50)
		}
		c.MetricSpecifications = []astypes.PredictiveScalingMetricSpecification{m}
		_, err := as.PutScalingPolicy(ctx, &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("web"), PolicyName: aws.String("forecast"),
			PolicyType: aws.String("PredictiveScaling"), PredictiveScalingConfiguration: &c, Enabled: aws.Bool(enabled)})
		return err
	}
	none := astypes.PredictiveScalingConfiguration{}
	for name, err := range map[string]error{
		"no metric":                  put(astypes.PredictiveScalingMetricSpecification{}, none, true),
		"a pair with a load metric":  put(astypes.PredictiveScalingMetricSpecification{PredefinedMetricPairSpecification: pair, PredefinedLoadMetricSpecification: load}, none, true),
		"a load metric alone":        put(astypes.PredictiveScalingMetricSpecification{PredefinedLoadMetricSpecification: load}, none, true),
		"a target value of 0":        put(astypes.PredictiveScalingMetricSpecification{TargetValue: aws.Float64(0), PredefinedMetricPairSpecification: pair}, none, true),
		"ALB pair without a label":   put(astypes.PredictiveScalingMetricSpecification{PredefinedMetricPairSpecification: &astypes.PredictiveScalingPredefinedMetricPair{PredefinedMetricType: astypes.PredefinedMetricPairTypeALBRequestCount}}, none, true),
		"a buffer above an hour":     put(astypes.PredictiveScalingMetricSpecification{PredefinedMetricPairSpecification: pair}, astypes.PredictiveScalingConfiguration{SchedulingBufferTime: aws.Int32(3601)}, true),
		"a max buffer without raise": put(astypes.PredictiveScalingMetricSpecification{PredefinedMetricPairSpecification: pair}, astypes.PredictiveScalingConfiguration{MaxCapacityBuffer: aws.Int32(10)}, true),
		"raise without a max buffer": put(astypes.PredictiveScalingMetricSpecification{PredefinedMetricPairSpecification: pair},
			astypes.PredictiveScalingConfiguration{MaxCapacityBreachBehavior: astypes.PredictiveScalingMaxCapacityBreachBehaviorIncreaseMaxCapacity}, true),
	} {
		if apiCode(err) != "ValidationError" {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	if err := put(astypes.PredictiveScalingMetricSpecification{PredefinedLoadMetricSpecification: load, PredefinedScalingMetricSpecification: scaling}, none, false); err != nil {
		t.Fatal(err)
	}
	p := need(as.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String("web")})).on(t).ScalingPolicies[0]
	c := p.PredictiveScalingConfiguration
	if aws.ToBool(p.Enabled) || c == nil || c.Mode != astypes.PredictiveScalingModeForecastOnly || c.MaxCapacityBreachBehavior != astypes.PredictiveScalingMaxCapacityBreachBehaviorHonorMaxCapacity ||
		c.MetricSpecifications[0].PredefinedScalingMetricSpecification.PredefinedMetricType != astypes.PredefinedScalingMetricTypeASGAverageCPUUtilization {
		t.Errorf("stored policy: enabled %v, %+v", aws.ToBool(p.Enabled), c)
	}
}
