package ecs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	awselbv2 "github.com/jibe-dev/jibe/internal/awsemu/elbv2"
	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func TestCanaryShiftsAListenerRule(t *testing.T) {
	r := newRig(t)
	rule, err := r.elb.CreateRule(r.ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(r.listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(r.blue), Weight: aws.Int32(100)},
				{TargetGroupArn: aws.String(r.green), Weight: aws.Int32(0)}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	tr := &spec.ALBTraffic{ListenerRuleArn: aws.ToString(rule.Rules[0].RuleArn), StableTargetGroupArn: r.blue, CanaryTargetGroupArn: r.green}
	v1 := r.deployment("rev1", "shop/web:v1", canary())
	v1.Target.ECS.Traffic = tr
	r.rollout(v1)
	v2 := r.next(v1, "rev2", "shop/web:v2")
	v2.Target.ECS.Traffic = tr
	r.until("apply", func() error { return r.p.Apply(r.ctx, v2) })
	r.waitHealth(v2)
	r.until("shift", func() error { return r.p.ShiftTraffic(r.ctx, v2, 10) })
	w, err := albtraffic.Read(r.ctx, r.p.c.ELB, tr)
	if err != nil {
		t.Fatal(err)
	}
	if w[r.green] != 10 || w[r.blue] != 90 {
		t.Fatalf("rule weights %v", w)
	}
	if def := r.weights(); def[r.blue] != 100 {
		t.Errorf("the listener's default action changed: %v", def)
	}
	r.until("promote", func() error { return r.p.Promote(r.ctx, v2) })
	if w, _ := albtraffic.Read(r.ctx, r.p.c.ELB, tr); w[r.blue] != 100 || w[r.green] != 0 {
		t.Errorf("rule weights after promotion %v", w)
	}
	if r.live("web-canary") != nil {
		t.Errorf("canary service left behind")
	}
}

// A rolling deploy whose traffic names a listener rule that forwards to
// neither of its target groups (the path is served by something else,
// here another target group, as a Lambda function's would) takes the
// rule over once the new service's targets are healthy, not before:
// requests on the path never see a 5xx during the move.
func TestRollingTakesOverAListenerRuleOnceHealthy(t *testing.T) {
	r := newRig(t)
	legacy, err := r.elb.CreateTargetGroup(r.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("legacy"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	old := aws.ToString(legacy.TargetGroups[0].TargetGroupArn)
	must(t)(r.elb.RegisterTargets(r.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(old),
		Targets: []elbtypes.TargetDescription{{Id: aws.String("10.0.9.9"), Port: aws.Int32(8080)}}}))
	rule, err := r.elb.CreateRule(r.ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(r.listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/quote*"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(old)}}})
	if err != nil {
		t.Fatal(err)
	}
	var sent, failed int
	send := func() {
		res, err := r.env.Emu.SendRequests(r.listener, awselbv2.Request{Path: "/api/quote"}, 20)
		if err != nil {
			t.Fatal(err)
		}
		sent, failed = sent+res.Requests, failed+res.Target5xx+res.ELB5xx
	}
	r.env.Emu.Advance(10 * time.Second) // the legacy target turns healthy
	send()
	if failed != 0 {
		t.Fatalf("the legacy target group answers %d of %d with 5xx before the move", failed, sent)
	}

	tr := &spec.ALBTraffic{ListenerRuleArn: aws.ToString(rule.Rules[0].RuleArn), StableTargetGroupArn: r.blue, CanaryTargetGroupArn: r.green}
	d := r.deployment("rev1", "shop/web:v1", nil)
	d.Target.ECS.Traffic = tr
	r.until("apply", func() error { send(); return r.p.Apply(r.ctx, d) })
	err = r.p.Promote(r.ctx, d)
	if reconcile.PolicyOf(err) != reconcile.PolicyRequeue {
		t.Fatalf("promote before the service's targets are healthy = %v, want a wait", err)
	}
	if w, _ := albtraffic.Read(r.ctx, r.p.c.ELB, tr); w[old] == 0 || w[r.blue] != 0 {
		t.Fatalf("the rule moved before the service was healthy: %v", w)
	}
	for {
		h, err := r.p.Health(r.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if h.State != reconcile.HealthProgressing {
			break
		}
		r.env.Emu.Advance(time.Second)
		send()
	}
	r.until("promote", func() error { send(); return r.p.Promote(r.ctx, d) })
	w, err := albtraffic.Read(r.ctx, r.p.c.ELB, tr)
	if err != nil {
		t.Fatal(err)
	}
	if w[r.blue] != 100 || w[old] != 0 {
		t.Fatalf("rule weights after the rollout: %v, want all on %s", w, r.blue)
	}
	for range 5 {
		r.env.Emu.Advance(time.Second)
		send()
	}
	if failed != 0 {
		t.Errorf("%d of %d requests to /api/quote failed during the move", failed, sent)
	}
	res, _ := r.env.Emu.SendRequests(r.listener, awselbv2.Request{Path: "/api/quote"}, 10)
	if res.ByTargetGroup[r.blue].OK != 10 {
		t.Errorf("after the move /api/quote goes to %+v, want the service's target group", res.ByTargetGroup)
	}
	// A rollout of a later revision leaves weights on the pair alone.
	r.env.Emu.ResetRequests()
	if err := r.p.Promote(r.ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.writes() {
		t.Errorf("a promote with the rule already taken over wrote %s", c.Operation)
	}
}
