package ecs

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/jibe-dev/jibe/spec"
)

// scalingOf returns the scalable target and policy names of a service.
func (r *rig) scalingOf(name string) (*aastypes.ScalableTarget, []string) {
	r.t.Helper()
	sc, err := r.p.readScaling(r.ctx, "prod", name)
	if err != nil {
		r.t.Fatal(err)
	}
	if sc == nil {
		return nil, nil
	}
	var names []string
	for _, p := range sc.policies {
		names = append(names, aws.ToString(p.PolicyName))
	}
	return &sc.target, names
}

func TestAutoscalingIsCarriedOverAndNeverFought(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	r.rollout(v1)
	// Someone registers autoscaling by hand, and the autoscaler scales out.
	id := aws.String("service/prod/web")
	if _, err := r.scaling.RegisterScalableTarget(r.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: scalingNS, ResourceId: id,
		ScalableDimension: scalingDim, MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.scaling.PutScalingPolicy(r.ctx, policyInput(*id, spec.ScalingPolicy{Name: "cpu",
		TargetTracking: &spec.TargetTracking{TargetValue: 60, PredefinedMetric: "ECSServiceAverageCPUUtilization"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ecs.UpdateService(r.ctx, &awsecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), DesiredCount: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Minute)

	// Rolling: desiredCount belongs to the autoscaler.
	v2 := r.next(v1, "rev2", "shop/web:v2")
	changes, err := r.p.Diff(r.ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		for _, f := range c.Fields {
			if f.Path == "desiredCount" {
				t.Errorf("diff fights the autoscaler: %+v", f)
			}
		}
	}
	r.rollout(v2)
	if s := r.live("web"); s.DesiredCount != 4 || r.image(s) != "shop/web:v2" {
		t.Errorf("after rolling update: desired %d image %s, want 4 and v2", s.DesiredCount, r.image(s))
	}

	// Blue/green: the new slot inherits the count, target and policies;
	// the old slot's autoscaling is retired with it.
	v3 := r.next(v2, "rev3", "shop/web:v3")
	v3.Environment.Strategy, v3.Mode = blueGreen(), spec.StrategyBlueGreen
	r.rollout(v3)
	green := r.live("web-green")
	if green == nil || green.DesiredCount != 4 {
		t.Fatalf("green slot: %+v, want 4 tasks", green)
	}
	target, policies := r.scalingOf("web-green")
	if target == nil || aws.ToInt32(target.MinCapacity) != 2 || aws.ToInt32(target.MaxCapacity) != 10 || len(policies) != 1 || policies[0] != "cpu" {
		t.Errorf("green autoscaling: %+v %v", target, policies)
	}
	if old, _ := r.scalingOf("web"); old != nil {
		t.Errorf("old slot still has a scalable target")
	}
}

func TestDeclaredAutoscalingIsAppliedAndPruned(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	v1.Target.ECS.AutoScaling = &spec.ECSAutoScaling{MinCapacity: 2, MaxCapacity: 6, Policies: []spec.ScalingPolicy{
		{Name: "cpu", TargetTracking: &spec.TargetTracking{TargetValue: 50, PredefinedMetric: "ECSServiceAverageCPUUtilization"}},
		{Name: "steps", StepScaling: &spec.StepScaling{AdjustmentType: "ChangeInCapacity", Steps: []spec.ScalingStep{{LowerBound: aws.Float64(0), Adjustment: 1}}}},
	}}
	r.rollout(v1)
	target, policies := r.scalingOf("web")
	if target == nil || aws.ToInt32(target.MaxCapacity) != 6 || len(policies) != 2 {
		t.Fatalf("autoscaling: %+v %v", target, policies)
	}
	v2 := r.next(v1, "rev2", "shop/web:v1")
	v2.Target.ECS.AutoScaling = &spec.ECSAutoScaling{MinCapacity: 2, MaxCapacity: 8, Policies: v1.Target.ECS.AutoScaling.Policies[:1]}
	changes, err := r.p.Diff(r.ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Resource != "Application Auto Scaling target service/prod/web" {
		t.Fatalf("diff = %+v, want the autoscaling target updated", changes)
	}
	paths := map[string]bool{}
	for _, f := range changes[0].Fields {
		paths[f.Path] = true
	}
	if !paths["maxCapacity"] || !paths["policies[steps].type"] {
		t.Errorf("diff fields = %+v, want maxCapacity and the removed steps policy", changes[0].Fields)
	}
	r.rollout(v2)
	if changes, err := r.p.Diff(r.ctx, v2); err != nil || len(changes) != 0 {
		t.Errorf("diff after apply = %+v, %v", changes, err)
	}
	target, policies = r.scalingOf("web")
	if aws.ToInt32(target.MaxCapacity) != 8 || len(policies) != 1 || policies[0] != "cpu" {
		t.Errorf("after update: %+v %v, want max 8 and only cpu", target, policies)
	}
	// Rollback restores the previous revision's autoscaling.
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	target, policies = r.scalingOf("web")
	if aws.ToInt32(target.MaxCapacity) != 6 || len(policies) != 2 {
		t.Errorf("after rollback: %+v %v, want max 6 and two policies", target, policies)
	}
}

// Scheduled actions in the spec are applied, shown in diffs, pruned when
// they leave the spec, and carried by a rollback.
func TestScheduledActionsAreAppliedAndPruned(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	v1.Target.ECS.AutoScaling = &spec.ECSAutoScaling{MinCapacity: 2, MaxCapacity: 6, ScheduledActions: []spec.ScheduledAction{
		{Name: "business-hours", Schedule: "cron(0 8 ? * MON-FRI *)", Timezone: "Europe/Dublin", MinCapacity: aws.Int32(4)},
		{Name: "night", Schedule: "cron(0 20 ? * MON-FRI *)", Timezone: "Europe/Dublin", MinCapacity: aws.Int32(2)},
	}}
	r.rollout(v1)
	if got := r.scheduledOf("web"); len(got) != 2 || got[0] != "business-hours" {
		t.Fatalf("scheduled actions = %v", got)
	}
	if changes, err := r.p.Diff(r.ctx, v1); err != nil || len(changes) != 0 {
		t.Fatalf("diff after apply = %+v, %v", changes, err)
	}
	v2 := r.next(v1, "rev2", "shop/web:v1")
	v2.Target.ECS.AutoScaling = &spec.ECSAutoScaling{MinCapacity: 2, MaxCapacity: 6, ScheduledActions: v1.Target.ECS.AutoScaling.ScheduledActions[:1]}
	changes, err := r.p.Diff(r.ctx, v2)
	if err != nil || len(changes) != 1 || !strings.HasPrefix(changes[0].Fields[0].Path, "scheduledActions[night].") {
		t.Fatalf("diff = %+v, %v; want the night action removed", changes, err)
	}
	r.rollout(v2)
	if got := r.scheduledOf("web"); len(got) != 1 || got[0] != "business-hours" {
		t.Errorf("after update: %v", got)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, v2) })
	if got := r.scheduledOf("web"); len(got) != 2 {
		t.Errorf("after rollback: %v, want both actions back", got)
	}
}

func (r *rig) scheduledOf(service string) []string {
	r.t.Helper()
	out, err := r.scaling.DescribeScheduledActions(r.ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: scalingNS,
		ResourceId: aws.String(resourceID("prod", service)), ScalableDimension: scalingDim})
	if err != nil {
		r.t.Fatal(err)
	}
	var names []string
	for _, a := range out.ScheduledActions {
		names = append(names, aws.ToString(a.ScheduledActionName))
	}
	return names
}
