package ecs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Deleting the target of an application that left Git deletes its
// service, in whichever slot it runs (here the blue/green slot), with its
// autoscaling target and policies, once scaled to zero; it waits while the
// service drains. Another environment's service of the same name is left
// alone, task definitions stay registered, and deleting again is nil.
func TestDeleteRemovesTheServiceAndItsAutoscaling(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	v1.Target.ECS.AutoScaling = &spec.ECSAutoScaling{MinCapacity: 2, MaxCapacity: 6, Policies: []spec.ScalingPolicy{
		{Name: "cpu", TargetTracking: &spec.TargetTracking{TargetValue: 50, PredefinedMetric: "ECSServiceAverageCPUUtilization"}}}}
	r.rollout(v1)
	v2 := r.next(v1, "rev2", "shop/web:v2")
	v2.Environment.Strategy, v2.Mode = blueGreen(), spec.StrategyBlueGreen
	r.rollout(v2)
	if r.live("web-green") == nil {
		t.Fatal("no blue/green slot to delete")
	}
	td := aws.ToString(r.live("web-green").TaskDefinition)

	other := r.next(v2, "rev2", "shop/web:v2")
	other.Env = "staging"
	if err := r.p.Delete(r.ctx, other); err != nil {
		t.Fatalf("deleting another environment = %v", err)
	}
	if r.live("web-green") == nil {
		t.Fatal("Delete deleted another environment's service")
	}

	waited := false
	r.until("delete", func() error {
		err := r.p.Delete(r.ctx, v2)
		waited = waited || reconcile.PolicyOf(err) == reconcile.PolicyRequeue
		return err
	})
	if !waited {
		t.Error("Delete did not wait for the service to drain")
	}
	for _, name := range []string{"web", "web-green"} {
		if s := r.live(name); s != nil {
			t.Errorf("service %s after the deletion: %s", name, aws.ToString(s.Status))
		}
		if target, policies := r.scalingOf(name); target != nil || len(policies) > 0 {
			t.Errorf("autoscaling of %s after the deletion: %+v %v", name, target, policies)
		}
	}
	out, err := r.ecs.DescribeTaskDefinition(r.ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
	if err != nil || out.TaskDefinition.Status != "ACTIVE" {
		t.Errorf("task definition %s after the deletion: %v, want it kept", td, err)
	}
	if err := r.p.Delete(r.ctx, v2); err != nil {
		t.Errorf("deleting again = %v, want nil", err)
	}
}
