package asg

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// canaryRig is the rig with a second (canary) target group, the listener
// forwarding 100/0 between the stable and canary target groups, and rev1
// deployed rolling.
func canaryRig(t *testing.T) (*rig, *reconcile.Deployment) {
	r := newRig(t)
	tg, err := r.elb.CreateTargetGroup(r.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("canary"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumInstance,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	canary := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := r.elb.ModifyListener(r.ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(r.listener), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
		ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(r.tg), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(canary), Weight: aws.Int32(0)}}}}}}); err != nil {
		t.Fatal(err)
	}
	strategy := &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{{SetWeight: ptr(spec.Percent(20))}}}}
	d1 := r.deployment("rev1", "ami-00000001", strategy)
	d1.Target.AutoScalingGroup.Traffic = &spec.ALBTraffic{ListenerArn: r.listener, StableTargetGroupArn: r.tg, CanaryTargetGroupArn: canary}
	d1.Mode = spec.StrategyRolling
	r.rollout(d1)
	return r, d1
}

func (r *rig) canaryOf(d1 *reconcile.Deployment, revision, ami string) *reconcile.Deployment {
	d := r.next(d1, revision, ami, spec.StrategyCanary)
	d.Target.AutoScalingGroup.Traffic = d1.Target.AutoScalingGroup.Traffic
	return d
}

// TestCanaryWeighsThenCompletesAsRedBlack: the new group serves only the
// canary target group, gets 20% once healthy, and promotion moves it into
// the stable target group with all traffic, the old group retired; no
// request fails.
func TestCanaryWeighsThenCompletesAsRedBlack(t *testing.T) {
	r, d1 := canaryRig(t)
	tr := d1.Target.AutoScalingGroup.Traffic
	d2 := r.canaryOf(d1, "rev2", "ami-00000002")
	r.sending = true
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	if g := r.live("web-rev2"); g == nil || len(g.TargetGroupARNs) != 1 || g.TargetGroupARNs[0] != tr.CanaryTargetGroupArn {
		t.Fatalf("canary group: %+v", g)
	}
	if h, _ := r.waitHealth(d2); h.State != reconcile.HealthHealthy {
		t.Fatalf("canary: %s: %s", h.State, h.Reason)
	}
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, d2, 20) })
	w, err := albtraffic.Read(r.ctx, r.p.c.ELB, tr)
	if err != nil || w[tr.CanaryTargetGroupArn] != 20 {
		t.Fatalf("weights %v %v", w, err)
	}
	before := r.sent
	r.advance(time.Minute)
	if r.sent == before {
		t.Fatal("no traffic sent")
	}
	r.until("promote", func() error { return r.p.Promote(r.ctx, d2) })
	w, _ = albtraffic.Read(r.ctx, r.p.c.ELB, tr)
	g := r.live("web-rev2")
	if w[tr.StableTargetGroupArn] != 100 || len(g.TargetGroupARNs) != 1 || g.TargetGroupARNs[0] != r.tg {
		t.Errorf("after promote: weights %v, new group in %v", w, g.TargetGroupARNs)
	}
	if old := r.live("web"); aws.ToInt32(old.DesiredCapacity) != 0 || len(old.TargetGroupARNs) != 0 {
		t.Errorf("old group after promote: desired %d, target groups %v", aws.ToInt32(old.DesiredCapacity), old.TargetGroupARNs)
	}
	r.until("cleanup", func() error { return r.p.Cleanup(r.ctx, d2) })
	r.advance(time.Minute)
	if r.errors != 0 {
		t.Errorf("%d of %d requests failed during a healthy canary", r.errors, r.sent)
	}
	if r.live("web") != nil {
		t.Errorf("the old group outlived cleanup")
	}
}

// TestCanaryOfBrokenAMIGetsNoTrafficAndRollsBack: a canary whose
// instances fail their health checks is never weighed in; Health fails
// and Rollback deletes it, traffic all on stable.
func TestCanaryOfBrokenAMIGetsNoTrafficAndRollsBack(t *testing.T) {
	r, d1 := canaryRig(t)
	tr := d1.Target.AutoScalingGroup.Traffic
	r.env.Emu.MarkImageBroken("ami-00000bad")
	d2 := r.canaryOf(d1, "rev2", "ami-00000bad")
	r.sending = true
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	if err := r.p.ShiftTraffic(r.ctx, d2, 20); reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Errorf("shift to an unhealthy canary: %v, want Waiting", err)
	}
	if h, _ := r.waitHealth(d2); h.State != reconcile.HealthFailed {
		t.Fatalf("canary of a broken AMI: %s: %s", h.State, h.Reason)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	r.advance(time.Minute)
	w, _ := albtraffic.Read(r.ctx, r.p.c.ELB, tr)
	if r.live("web-rev2") != nil || w[tr.StableTargetGroupArn] != 100 || r.errors != 0 {
		t.Errorf("after rollback: canary group %v, weights %v, %d errors", r.live("web-rev2") != nil, w, r.errors)
	}
}
