package asg

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var blueGreen = &spec.Strategy{BlueGreen: &spec.BlueGreen{}}

// scaledOut deploys rev1 rolling with no desired capacity, puts two
// scaling policies by hand and lets scaling take the group to 3
// instances.
func scaledOut(r *rig) *reconcile.Deployment {
	r.t.Helper()
	d1 := r.deployment("rev1", "ami-00000001", blueGreen)
	d1.Mode = spec.StrategyRolling // a first deploy rolls
	d1.Target.AutoScalingGroup.DesiredCapacity = nil
	r.rollout(d1)
	// policies made by hand, carried over to the new group
	if _, err := r.as.PutScalingPolicy(r.ctx, &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("web"), PolicyName: aws.String("cpu"),
		PolicyType: aws.String("TargetTrackingScaling"), TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeASGAverageCPUUtilization}}}); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.as.SetDesiredCapacity(r.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(3)}); err != nil {
		r.t.Fatal(err)
	}
	r.advance(time.Minute)
	if _, err := r.as.PutScalingPolicy(r.ctx, &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("web"), PolicyName: aws.String("requests"),
		PolicyType: aws.String("TargetTrackingScaling"), TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{TargetValue: aws.Float64(1000),
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeALBRequestCountPerTarget, ResourceLabel: aws.String("app/web/tg")}}}); err != nil {
		r.t.Fatal(err)
	}
	return d1
}

// TestRedBlackAtCurrentCapacityRetiresThenCleansTheOldGroup: the new
// group starts at the old group's scaled capacity with its policies,
// serves beside it, and once healthy the old group is detached, drained,
// scaled to zero with its processes suspended, and deleted at cleanup;
// the stable version serves without a 5xx throughout.
func TestRedBlackAtCurrentCapacityRetiresThenCleansTheOldGroup(t *testing.T) {
	r := newRig(t)
	d1 := scaledOut(r)
	d2 := r.next(d1, "rev2", "ami-00000002", spec.StrategyBlueGreen)
	d2.Target.AutoScalingGroup.DesiredCapacity = nil
	r.sending = true
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	next := r.live("web-rev2")
	if next == nil || aws.ToInt32(next.DesiredCapacity) != 3 || len(next.TargetGroupARNs) != 1 || tagOf(next, "jibe.dev/revision") != "rev2" {
		t.Fatalf("new group: %+v", next)
	}
	ps, err := r.as.DescribePolicies(r.ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String("web-rev2")})
	if err != nil || len(ps.ScalingPolicies) != 2 {
		t.Fatalf("policies of the new group: %v %+v, want cpu and requests", err, ps)
	}
	if err := r.p.ShiftTraffic(r.ctx, d2, 100); reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Fatalf("shift before the new group is healthy: got %v, want Waiting", err)
	}
	h, seen := r.waitHealth(d2)
	if h.State != reconcile.HealthHealthy || !containsAny(seen, "instances pending") {
		t.Fatalf("new group: %s: %s (%q)", h.State, h.Reason, seen)
	}
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, d2, 100) })
	old := r.live("web")
	if len(old.TargetGroupARNs) != 0 || tagOf(old, "jibe.dev/switched-at") == "" {
		t.Fatalf("old group after the switch: %+v", old)
	}
	err = r.p.Promote(r.ctx, d2)
	if reconcile.PolicyOf(err) != reconcile.PolicyRequeue || !strings.Contains(err.Error(), "draining") {
		t.Fatalf("promote during the deregistration delay: %v, want Waiting", err)
	}
	r.until("promote", func() error { return r.p.Promote(r.ctx, d2) })
	old = r.live("web")
	suspended := map[string]bool{}
	for _, sp := range old.SuspendedProcesses {
		suspended[aws.ToString(sp.ProcessName)] = true
	}
	if aws.ToInt32(old.DesiredCapacity) != 0 || !suspended["AlarmNotification"] || !suspended["ScheduledActions"] || tagOf(old, TagCapacity) != "2/6/3" {
		t.Fatalf("retired group: desired %d, suspended %v, capacity %q", aws.ToInt32(old.DesiredCapacity), suspended, tagOf(old, TagCapacity))
	}
	r.advance(time.Minute)
	if r.errors != 0 || r.sent == 0 {
		t.Errorf("%d of %d requests failed during a healthy red/black", r.errors, r.sent)
	}
	if changes, err := r.p.Diff(r.ctx, d2); err != nil || len(changes) != 0 {
		t.Errorf("diff after promote: %v %+v", err, changes)
	}
	r.until("cleanup", func() error { return r.p.Cleanup(r.ctx, d2) })
	r.advance(time.Minute)
	if r.live("web") != nil || r.live("web-rev2") == nil {
		t.Errorf("after cleanup the old group must be gone and the new one kept")
	}
}

// TestRedBlackRollbackAfterPromoteRestoresTheOldGroup: a rollback after
// promotion resumes the old group at its kept capacity, re-attaches it,
// waits until it is healthy and only then deletes the new group.
func TestRedBlackRollbackAfterPromoteRestoresTheOldGroup(t *testing.T) {
	r := newRig(t)
	d1 := scaledOut(r)
	d2 := r.next(d1, "rev2", "ami-00000002", spec.StrategyBlueGreen)
	r.rollout(d2)
	r.sending = true
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	old := r.live("web")
	if old == nil || aws.ToInt32(old.DesiredCapacity) != 3 || len(old.TargetGroupARNs) != 1 || len(old.SuspendedProcesses) != 0 || tagOf(old, TagDisabledAt) != "" {
		t.Fatalf("old group after rollback: %+v", old)
	}
	r.advance(2 * time.Minute)
	if r.live("web-rev2") != nil {
		t.Errorf("the new group is still there after rollback")
	}
	if r.errors != 0 {
		t.Errorf("%d of %d requests failed during the rollback", r.errors, r.sent)
	}
}

// TestRedBlackBrokenAMIFailsAndRollsBack: the new group's instances fail
// their health checks: Health fails naming the instance and the target's
// reason, the old group never stops serving, and Rollback deletes the
// new group.
func TestRedBlackBrokenAMIFailsAndRollsBack(t *testing.T) {
	r := newRig(t)
	d1 := scaledOut(r)
	r.env.Emu.MarkImageBroken("ami-00000bad")
	d2 := r.next(d1, "rev2", "ami-00000bad", spec.StrategyBlueGreen)
	r.sending = true
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	h, _ := r.waitHealth(d2)
	if h.State != reconcile.HealthFailed || !strings.Contains(h.Reason, "web-rev2") || !strings.Contains(h.Reason, "health checks") {
		t.Fatalf("health: %s: %s", h.State, h.Reason)
	}
	if err := r.p.ShiftTraffic(r.ctx, d2, 100); reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Errorf("shift to a broken group: %v, want Waiting", err)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	r.advance(2 * time.Minute)
	if r.live("web-rev2") != nil || r.live("web") == nil || len(r.live("web").TargetGroupARNs) != 1 {
		t.Errorf("after rollback only the old group must serve")
	}
	if r.errors != 0 {
		t.Errorf("%d of %d requests failed while the broken group ran beside the stable one", r.errors, r.sent)
	}
}
