package asg

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// predictivePolicies are a CPU pair forecast-and-scale policy with a
// raised maximum and a customized one.
func predictivePolicies() []spec.ScalingPolicy {
	custom := func(name string) *spec.Metric {
		return &spec.Metric{Namespace: "Shop", Name: name, Statistic: "Sum", Dimensions: map[string]string{"AutoScalingGroupName": "web"}}
	}
	return []spec.ScalingPolicy{
		{Name: "cpu-forecast", PredictiveScaling: &spec.PredictiveScaling{TargetValue: 50, PredefinedMetricPair: "ASGCPUUtilization", Mode: "ForecastAndScale",
			SchedulingBufferTime: &spec.Duration{Duration: 5 * time.Minute}, MaxCapacityBreachBehavior: "IncreaseMaxCapacity", MaxCapacityBuffer: aws.Int32(10)}},
		{Name: "orders-forecast", PredictiveScaling: &spec.PredictiveScaling{TargetValue: 100, CustomizedLoadMetric: custom("Orders"), CustomizedScalingMetric: custom("OrdersPerInstance")}},
	}
}

// enabled returns the predictive policies of a group by name: whether
// each is enabled.
func (r *rig) predictive(group string) map[string]bool {
	r.t.Helper()
	out, err := r.as.DescribePolicies(r.ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String(group)})
	if err != nil {
		r.t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range out.ScalingPolicies {
		if aws.ToString(p.PolicyType) == "PredictiveScaling" && p.PredictiveScalingConfiguration != nil {
			got[aws.ToString(p.PolicyName)] = aws.ToBool(p.Enabled)
		}
	}
	return got
}

// TestPredictivePoliciesPutDiffedAndNeverDuelling: predictive policies
// are put with their metric specifications; a no-op writes nothing; a
// changed target value diffs; red/black copies them to the new group and
// disables the retired group's, and a rollback enables them again.
func TestPredictivePoliciesPutDiffedAndNeverDuelling(t *testing.T) {
	r := newRig(t)
	d1 := r.deployment("rev1", "ami-00000001", blueGreen)
	d1.Mode = spec.StrategyRolling // a first deploy rolls
	d1.Target.AutoScalingGroup.DesiredCapacity = nil
	d1.Target.AutoScalingGroup.ScalingPolicies = predictivePolicies()
	r.rollout(d1)
	if got := r.predictive("web"); len(got) != 2 || !got["cpu-forecast"] || !got["orders-forecast"] {
		t.Fatalf("predictive policies: %v", got)
	}
	out, err := r.as.DescribePolicies(r.ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String("web"), PolicyNames: []string{"orders-forecast"}})
	if err != nil || out.ScalingPolicies[0].PredictiveScalingConfiguration.Mode != astypes.PredictiveScalingModeForecastOnly ||
		aws.ToString(out.ScalingPolicies[0].PredictiveScalingConfiguration.MetricSpecifications[0].CustomizedLoadMetricSpecification.MetricDataQueries[0].MetricStat.Metric.MetricName) != "Orders" {
		t.Fatalf("customized policy: %v %+v", err, out)
	}
	r.env.Emu.ResetRequests()
	if changes, err := r.p.Diff(r.ctx, d1); err != nil || len(changes) != 0 {
		t.Fatalf("diff of an applied revision: %v %+v", err, changes)
	}
	if err := r.p.Apply(r.ctx, d1); err != nil || len(r.writes()) != 0 {
		t.Fatalf("no-op apply: %v, writes %+v", err, r.writes())
	}
	d2 := r.next(d1, "rev2", "ami-00000002", spec.StrategyBlueGreen)
	d2.Target.AutoScalingGroup.DesiredCapacity = nil
	d2.Target.AutoScalingGroup.ScalingPolicies = predictivePolicies()
	d2.Target.AutoScalingGroup.ScalingPolicies[0].PredictiveScaling.TargetValue = 40
	changes, err := r.p.Diff(r.ctx, d2)
	if err != nil || len(changes) != 2 || !hasField(changes[1], "scalingPolicies.cpu-forecast.predictiveScaling.targetValue", "50", "40") {
		t.Fatalf("diff of a new target value: %v %+v", err, changes)
	}
	r.rollout(d2)
	if got := r.predictive("web-rev2"); len(got) != 2 || !got["cpu-forecast"] || !got["orders-forecast"] {
		t.Errorf("predictive policies of the new group: %v", got)
	}
	if got := r.predictive("web"); len(got) != 2 || got["cpu-forecast"] || got["orders-forecast"] {
		t.Errorf("predictive policies of the retired group must be disabled: %v", got)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	if got := r.predictive("web"); len(got) != 2 || !got["cpu-forecast"] || !got["orders-forecast"] {
		t.Errorf("predictive policies of the restored group must be enabled: %v", got)
	}
	if h, _ := r.waitHealth(d1); h.State != reconcile.HealthHealthy {
		t.Errorf("after the rollback: %s: %s", h.State, h.Reason)
	}
}
