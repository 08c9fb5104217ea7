package asg

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// TestRollingCreatesRefreshesAndIsIdempotent: a first deploy creates the
// launch template and the group; a no-op apply writes nothing and diffs
// nothing; an AMI bump diffs as imageId old → new, creates one template
// version and refreshes the instances with no 5xx, Health reporting the
// refresh's progress.
func TestRollingCreatesRefreshesAndIsIdempotent(t *testing.T) {
	r := newRig(t)
	d1 := r.deployment("rev1", "ami-00000001", nil)
	changes, err := r.p.Diff(r.ctx, d1)
	if err != nil || len(changes) != 2 || changes[0].Action != reconcile.ActionCreate || changes[1].Action != reconcile.ActionCreate {
		t.Fatalf("first diff: %v %+v", err, changes)
	}
	r.rollout(d1)
	g := r.live("web")
	if g == nil || aws.ToInt32(g.DesiredCapacity) != 2 || aws.ToString(g.LaunchTemplate.Version) != "1" || aws.ToString(g.VPCZoneIdentifier) != "subnet-b,subnet-a" ||
		tagOf(g, "jibe.dev/revision") != "rev1" || tagOf(g, "team") != "core" || aws.ToString(g.HealthCheckType) != "ELB" {
		t.Fatalf("group after first deploy: %+v", g)
	}

	r.env.Emu.ResetRequests()
	if err := r.p.Apply(r.ctx, d1); err != nil {
		t.Fatal(err)
	}
	if changes, err := r.p.Diff(r.ctx, d1); err != nil || len(changes) != 0 {
		t.Errorf("diff of an applied revision: %v %+v", err, changes)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("a no-op apply and diff wrote %d calls: %+v", len(w), w)
	}

	d2 := r.next(d1, "rev2", "ami-00000002", spec.StrategyRolling)
	changes, err = r.p.Diff(r.ctx, d2)
	if err != nil || len(changes) != 1 || changes[0].Resource != "EC2 launch template web" {
		t.Fatalf("diff of an AMI bump: %v %+v", err, changes)
	}
	fields := map[string]reconcile.FieldChange{}
	for _, f := range changes[0].Fields {
		fields[f.Path] = f
	}
	if f := fields["imageId"]; f.Live != "ami-00000001" || f.Desired != "ami-00000002" {
		t.Errorf("imageId change: %+v (all %+v)", f, changes[0].Fields)
	}
	if f := fields["userData"]; !strings.HasPrefix(f.Live, "sha256:") || strings.Contains(f.Desired, "echo") {
		t.Errorf("user data must show as a digest: %+v", f)
	}
	r.sending = true
	if err := r.p.Apply(r.ctx, d2); err != nil {
		t.Fatal(err)
	}
	h, seen := r.waitHealth(d2)
	if h.State != reconcile.HealthHealthy {
		t.Fatalf("refresh: %s: %s", h.State, h.Reason)
	}
	if !containsAny(seen, "instance refresh") || !containsAny(seen, "instances pending") {
		t.Errorf("health reasons did not report the refresh and pending instances: %q", seen)
	}
	if r.errors != 0 || r.sent == 0 {
		t.Errorf("%d of %d requests failed during the refresh", r.errors, r.sent)
	}
	g = r.live("web")
	if aws.ToString(g.LaunchTemplate.Version) != "2" || len(g.Instances) != 2 {
		t.Fatalf("group after refresh: version %s, %d instances", aws.ToString(g.LaunchTemplate.Version), len(g.Instances))
	}
	for _, in := range g.Instances {
		if aws.ToString(in.LaunchTemplate.Version) != "2" {
			t.Errorf("instance %s on version %s", aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version))
		}
	}
	vs, err := r.env.EC2().DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web")})
	if err != nil || len(vs.LaunchTemplateVersions) != 2 {
		t.Errorf("launch template versions: %v %d, want 2", err, len(vs.LaunchTemplateVersions))
	}
	r.env.Emu.ResetRequests()
	if err := r.p.Apply(r.ctx, d2); err != nil || len(r.writes()) != 0 {
		t.Errorf("re-apply after the refresh: %v, %d writes", err, len(r.writes()))
	}
}

// TestRollingSizesPoliciesAndDesiredLeftToScaling: a spec without
// desiredCapacity leaves it to scaling (a scale-out is not drift);
// scaling policies are put and a changed size is one update.
func TestRollingSizesPoliciesAndDesiredLeftToScaling(t *testing.T) {
	r := newRig(t)
	d1 := r.deployment("rev1", "ami-00000001", nil)
	d1.Target.AutoScalingGroup.DesiredCapacity = nil
	d1.Target.AutoScalingGroup.ScalingPolicies = []spec.ScalingPolicy{{Name: "cpu", TargetTracking: &spec.TargetTracking{TargetValue: 50, PredefinedMetric: "ASGAverageCPUUtilization"}}}
	r.rollout(d1)
	if _, err := r.as.SetDesiredCapacity(r.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	if changes, err := r.p.Diff(r.ctx, d1); err != nil || len(changes) != 0 {
		t.Errorf("a scale-out shows as drift: %v %+v", err, changes)
	}
	ps, err := r.as.DescribePolicies(r.ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: aws.String("web")})
	if err != nil || len(ps.ScalingPolicies) != 1 || aws.ToFloat64(ps.ScalingPolicies[0].TargetTrackingConfiguration.TargetValue) != 50 {
		t.Fatalf("policies: %v %+v", err, ps)
	}
	d2 := r.next(d1, "rev2", "ami-00000001", spec.StrategyRolling)
	d2.Target.AutoScalingGroup.DesiredCapacity = nil
	d2.Target.AutoScalingGroup.MaxSize = 8
	d2.Target.AutoScalingGroup.ScalingPolicies = []spec.ScalingPolicy{{Name: "cpu", TargetTracking: &spec.TargetTracking{TargetValue: 60, PredefinedMetric: "ASGAverageCPUUtilization"}}}
	changes, err := r.p.Diff(r.ctx, d2)
	if err != nil || len(changes) != 1 || !hasField(changes[0], "maxSize", "6", "8") || !hasField(changes[0], "scalingPolicies.cpu.targetValue", "50", "60") {
		t.Fatalf("diff: %v %+v", err, changes)
	}
	r.env.Emu.ResetRequests()
	if err := r.p.Apply(r.ctx, d2); err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, w := range r.writes() {
		ops[w.Operation]++
	}
	if ops["UpdateAutoScalingGroup"] != 1 || ops["PutScalingPolicy"] != 1 || ops["StartInstanceRefresh"] != 0 || ops["CreateLaunchTemplateVersion"] != 0 {
		t.Errorf("writes %v", ops)
	}
	if g := r.live("web"); aws.ToInt32(g.DesiredCapacity) != 4 || aws.ToInt32(g.MaxSize) != 8 {
		t.Errorf("desired %d max %d, want the scaled 4 kept and max 8", aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MaxSize))
	}
}

// TestRollingBrokenAMIFailsAndRollsBackTheRefresh: instances of a broken
// AMI fail their ELB health checks; Health fails naming the instance and
// the target's reason; Rollback rolls the refresh back to the previous
// version.
func TestRollingBrokenAMIFailsAndRollsBackTheRefresh(t *testing.T) {
	r := newRig(t)
	d1 := r.deployment("rev1", "ami-00000001", nil)
	r.rollout(d1)
	r.env.Emu.MarkImageBroken("ami-00000bad")
	d2 := r.next(d1, "rev2", "ami-00000bad", spec.StrategyRolling)
	r.sending = true
	if err := r.p.Apply(r.ctx, d2); err != nil {
		t.Fatal(err)
	}
	h, _ := r.waitHealth(d2)
	if h.State != reconcile.HealthFailed || !strings.Contains(h.Reason, "health checks") {
		t.Fatalf("health of a broken AMI: %s: %s", h.State, h.Reason)
	}
	r.until("rollback", func() error { return r.p.Rollback(r.ctx, d2) })
	if h, _ := r.waitHealth(d1); h.State != reconcile.HealthHealthy {
		t.Fatalf("after rollback: %s: %s", h.State, h.Reason)
	}
	r.advance(2 * time.Minute)
	g := r.live("web")
	if aws.ToString(g.LaunchTemplate.Version) != "1" || tagOf(g, "jibe.dev/revision") != "rev1" {
		t.Errorf("group after rollback: version %s revision %s", aws.ToString(g.LaunchTemplate.Version), tagOf(g, "jibe.dev/revision"))
	}
	for _, in := range g.Instances {
		if aws.ToString(in.LaunchTemplate.Version) != "1" {
			t.Errorf("instance %s on version %s after rollback", aws.ToString(in.InstanceId), aws.ToString(in.LaunchTemplate.Version))
		}
	}
	ref, err := r.as.DescribeInstanceRefreshes(r.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})
	if err != nil || len(ref.InstanceRefreshes) == 0 {
		t.Fatal(err)
	}
	t.Logf("refresh %s: %s", ref.InstanceRefreshes[0].Status, aws.ToString(ref.InstanceRefreshes[0].StatusReason))
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func hasField(c reconcile.Change, path, live, desired string) bool {
	for _, f := range c.Fields {
		if f.Path == path && f.Live == live && f.Desired == desired {
			return true
		}
	}
	return false
}
