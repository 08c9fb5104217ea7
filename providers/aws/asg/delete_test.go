package asg

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Deleting the target of an application that left Git force-deletes
// every group Jibe tagged for it (here the new red/black group and the
// retired one kept for rollback), waiting while they are deleted, with
// their scaling policies, then the launch template; another
// application's group stays, and deleting again is nil.
func TestDeleteRemovesEveryGroupAndTheLaunchTemplate(t *testing.T) {
	r := newRig(t)
	d1 := r.deployment("rev1", "ami-00000001", nil)
	d1.Target.AutoScalingGroup.ScalingPolicies = []spec.ScalingPolicy{{Name: "cpu", TargetTracking: &spec.TargetTracking{TargetValue: 50, PredefinedMetric: "ASGAverageCPUUtilization"}}}
	r.rollout(d1)
	d2 := r.next(d1, "rev2", "ami-00000002", spec.StrategyBlueGreen)
	r.rollout(d2)
	if r.live("web") == nil || r.live("web-rev2") == nil {
		t.Fatalf("want the retired group and the new one: web %v, web-rev2 %v", r.live("web") != nil, r.live("web-rev2") != nil)
	}
	other := r.deployment("rev1", "ami-00000001", nil)
	other.App = "other"
	other.Target.AutoScalingGroup.Name = "other"
	r.rollout(other)

	waited := false
	r.until("delete", func() error {
		err := r.p.Delete(r.ctx, d2)
		waited = waited || reconcile.PolicyOf(err) == reconcile.PolicyRequeue
		return err
	})
	if !waited {
		t.Error("Delete did not wait for the groups to be deleted")
	}
	for _, name := range []string{"web", "web-rev2"} {
		if r.live(name) != nil {
			t.Errorf("group %s after the deletion", name)
		}
		ps, err := r.as.DescribePolicies(r.ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String(name)})
		if err == nil && len(ps.ScalingPolicies) > 0 {
			t.Errorf("policies of %s after the deletion: %+v", name, ps.ScalingPolicies)
		}
	}
	if _, err := r.env.EC2().DescribeLaunchTemplates(r.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"web"}}); err == nil {
		t.Error("the launch template is still there")
	}
	if r.live("other") == nil {
		t.Error("Delete deleted another application's group")
	}
	if err := r.p.Delete(r.ctx, d2); err != nil {
		t.Errorf("deleting again = %v, want nil", err)
	}
}
