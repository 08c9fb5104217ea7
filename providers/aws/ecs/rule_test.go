package ecs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
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
