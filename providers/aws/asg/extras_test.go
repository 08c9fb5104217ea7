package asg

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// withExtras declares volumes, metadata options, termination policies,
// a scheduled action and a launching lifecycle hook on d's group.
func withExtras(d *reconcile.Deployment) *reconcile.Deployment {
	g := d.Target.AutoScalingGroup
	g.LaunchTemplate.BlockDeviceMappings = []spec.BlockDevice{{DeviceName: "/dev/xvda", EBS: &spec.EBSVolume{VolumeSize: 20, VolumeType: "gp3", Encrypted: true}}}
	g.LaunchTemplate.MetadataOptions = &spec.MetadataOptions{HTTPTokens: "required", HTTPPutResponseHopLimit: 2}
	g.TerminationPolicies = []string{"OldestLaunchTemplate", "Default"}
	g.ScheduledActions = []spec.GroupScheduledAction{{Name: "morning", Recurrence: "0 8 * * 1-5", TimeZone: "Europe/Paris", MinSize: ptr(int32(2))}}
	g.LifecycleHooks = []spec.LifecycleHook{{Name: "warm", Transition: "launching", HeartbeatTimeout: &spec.Duration{Duration: 30 * time.Second}, DefaultResult: "CONTINUE"}}
	return d
}

// TestExtrasCreatedDiffedAndCarriedToRedBlack: volumes, metadata options,
// termination policies, scheduled actions and lifecycle hooks are
// created; Health names instances a lifecycle hook holds; a no-op writes
// nothing; a changed action is one diff field and one write; red/black
// creates the new group with them (its instances wait on the hook too)
// and suspends the old group's scheduled actions.
func TestExtrasCreatedDiffedAndCarriedToRedBlack(t *testing.T) {
	r := newRig(t)
	d1 := withExtras(r.deployment("rev1", "ami-00000001", blueGreen))
	d1.Mode = spec.StrategyRolling
	r.until("apply", func() error { return r.p.Apply(r.ctx, d1) })
	h, seen := r.waitHealth(d1)
	if h.State != reconcile.HealthHealthy || !containsAny(seen, "lifecycle hook (Pending:Wait)") {
		t.Fatalf("first deploy: %s: %s (%q)", h.State, h.Reason, seen)
	}
	v, err := r.env.EC2().DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web")})
	if err != nil || len(v.LaunchTemplateVersions[0].LaunchTemplateData.BlockDeviceMappings) != 1 || v.LaunchTemplateVersions[0].LaunchTemplateData.MetadataOptions == nil {
		t.Fatalf("template: %v %+v", err, v)
	}
	if g := r.live("web"); len(g.TerminationPolicies) != 2 {
		t.Errorf("termination policies %v", g.TerminationPolicies)
	}
	r.env.Emu.ResetRequests()
	if err := r.p.Apply(r.ctx, d1); err != nil {
		t.Fatal(err)
	}
	if changes, err := r.p.Diff(r.ctx, d1); err != nil || len(changes) != 0 {
		t.Errorf("diff of an applied revision: %v %+v", err, changes)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("a no-op apply and diff wrote %+v", w)
	}

	d2 := withExtras(r.next(d1, "rev2", "ami-00000002", spec.StrategyBlueGreen))
	d2.Target.AutoScalingGroup.ScheduledActions[0].MinSize = ptr(int32(3))
	changes, err := r.p.Diff(r.ctx, d2)
	if err != nil || len(changes) != 2 || !hasField(changes[1], "scheduledActions.morning.minSize", "2", "3") {
		t.Fatalf("diff: %v %+v", err, changes)
	}
	r.until("apply", func() error { return r.p.Apply(r.ctx, d2) })
	acts, err := r.as.DescribeScheduledActions(r.ctx, &autoscaling.DescribeScheduledActionsInput{AutoScalingGroupName: aws.String("web-rev2")})
	if err != nil || len(acts.ScheduledUpdateGroupActions) != 1 || aws.ToInt32(acts.ScheduledUpdateGroupActions[0].MinSize) != 3 {
		t.Fatalf("new group's scheduled actions: %v %+v", err, acts)
	}
	hooks, err := r.as.DescribeLifecycleHooks(r.ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String("web-rev2")})
	if err != nil || len(hooks.LifecycleHooks) != 1 {
		t.Fatalf("new group's hooks: %v %+v", err, hooks)
	}
	if old := r.live("web"); len(old.SuspendedProcesses) != 1 || aws.ToString(old.SuspendedProcesses[0].ProcessName) != "ScheduledActions" {
		t.Errorf("old group's suspended processes: %+v", old.SuspendedProcesses)
	}
	h, seen = r.waitHealth(d2)
	if h.State != reconcile.HealthHealthy || !containsAny(seen, "web-rev2: 0 of 2 instances in service and healthy; instances held by a launching lifecycle hook") {
		t.Fatalf("new group: %s: %s (%q)", h.State, h.Reason, seen)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	if old := r.live("web"); len(old.SuspendedProcesses) != 0 {
		t.Errorf("after rollback the old group's processes are still suspended: %+v", old.SuspendedProcesses)
	}
}
