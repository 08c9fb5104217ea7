package asg

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// withMixedAndWarmPool gives d's group two weighted instance types, one
// on-demand instance then half spot, and a running warm pool.
func withMixedAndWarmPool(d *reconcile.Deployment) *reconcile.Deployment {
	g := d.Target.AutoScalingGroup
	g.MixedInstancesPolicy = &spec.MixedInstancesPolicy{Overrides: []spec.InstanceTypeOverride{{InstanceType: "m5.large", WeightedCapacity: 1}, {InstanceType: "m5.xlarge", WeightedCapacity: 2}},
		InstancesDistribution: &spec.InstancesDistribution{OnDemandBaseCapacity: aws.Int32(1), OnDemandPercentageAboveBaseCapacity: aws.Int32(50), SpotAllocationStrategy: "capacity-optimized"}}
	g.WarmPool = &spec.WarmPool{MinSize: 1, PoolState: "Running", ReuseOnScaleIn: true}
	return d
}

// checkMixedAndWarmPool fails unless the group launches its template
// through the mixed instances policy (no plain launch template) at the
// version, and has the warm pool.
func (r *rig) checkMixedAndWarmPool(name, version string) {
	r.t.Helper()
	g := r.live(name)
	if g == nil {
		r.t.Fatalf("group %s does not exist", name)
	}
	m := g.MixedInstancesPolicy
	if g.LaunchTemplate != nil || m == nil || len(m.LaunchTemplate.Overrides) != 2 || aws.ToString(m.LaunchTemplate.Overrides[1].WeightedCapacity) != "2" ||
		aws.ToString(m.LaunchTemplate.LaunchTemplateSpecification.Version) != version || aws.ToInt32(m.InstancesDistribution.OnDemandBaseCapacity) != 1 ||
		aws.ToString(m.InstancesDistribution.SpotAllocationStrategy) != "capacity-optimized" {
		r.t.Errorf("group %s: launch template %+v, mixed instances policy %+v", name, g.LaunchTemplate, m)
	}
	for _, in := range g.Instances {
		if aws.ToString(in.InstanceType) != "m5.large" {
			r.t.Errorf("instance %s of %s is a %s, want the first override m5.large", aws.ToString(in.InstanceId), name, aws.ToString(in.InstanceType))
		}
	}
	w := g.WarmPoolConfiguration
	if w == nil || aws.ToInt32(w.MinSize) != 1 || w.PoolState != "Running" || !aws.ToBool(w.InstanceReusePolicy.ReuseOnScaleIn) {
		r.t.Errorf("warm pool of %s: %+v", name, w)
	}
}

// TestMixedInstancesAndWarmPoolRolling: a group created with a mixed
// instances policy names its template there only (AWS refuses both) and
// gets its warm pool; a no-op writes nothing; an AMI bump refreshes the
// instances through the policy; dropping both from the spec diffs them
// and puts a plain launch template back, the warm pool deleted.
func TestMixedInstancesAndWarmPoolRolling(t *testing.T) {
	r := newRig(t)
	d1 := withMixedAndWarmPool(r.deployment("rev1", "ami-00000001", nil))
	r.rollout(d1)
	r.checkMixedAndWarmPool("web", "1")
	r.env.Emu.ResetRequests()
	if err := r.p.Apply(r.ctx, d1); err != nil {
		t.Fatal(err)
	}
	if changes, err := r.p.Diff(r.ctx, d1); err != nil || len(changes) != 0 || len(r.writes()) != 0 {
		t.Fatalf("no-op: %v, changes %+v, writes %+v", err, changes, r.writes())
	}
	d2 := withMixedAndWarmPool(r.next(d1, "rev2", "ami-00000002", spec.StrategyRolling))
	r.rollout(d2)
	r.checkMixedAndWarmPool("web", "2")
	if n := r.onVersion("web", "2"); n != 2 {
		t.Errorf("%d of 2 instances refreshed to version 2", n)
	}
	d3 := r.next(d2, "rev3", "ami-00000002", spec.StrategyRolling)
	changes, err := r.p.Diff(r.ctx, d3)
	if err != nil || len(changes) != 1 || !hasField(changes[0], "mixedInstancesPolicy.spotAllocationStrategy", "capacity-optimized", "") ||
		!hasField(changes[0], "warmPool.poolState", "Running", "") {
		t.Fatalf("diff dropping the policy and the pool: %v %+v", err, changes)
	}
	r.until("apply", func() error { return r.p.Apply(r.ctx, d3) })
	if g := r.live("web"); g.MixedInstancesPolicy != nil || aws.ToString(g.LaunchTemplate.Version) != "2" || g.WarmPoolConfiguration != nil {
		t.Errorf("after dropping them: launch template %+v, policy %+v, warm pool %+v", g.LaunchTemplate, g.MixedInstancesPolicy, g.WarmPoolConfiguration)
	}
}

// TestMixedInstancesAndWarmPoolCarriedToRedBlack: the red/black group is
// created with the policy and the warm pool; cleanup deletes the old
// group's warm pool before the group, as AWS requires.
func TestMixedInstancesAndWarmPoolCarriedToRedBlack(t *testing.T) {
	r := newRig(t)
	d1 := withMixedAndWarmPool(r.deployment("rev1", "ami-00000001", blueGreen))
	d1.Mode = spec.StrategyRolling // a first deploy rolls
	r.rollout(d1)
	d2 := withMixedAndWarmPool(r.next(d1, "rev2", "ami-00000002", spec.StrategyBlueGreen))
	r.rollout(d2)
	r.checkMixedAndWarmPool("web-rev2", "2")
	r.advance(time.Minute)
	r.env.Emu.ResetRequests()
	r.until("cleanup", func() error { return r.p.Cleanup(r.ctx, d2) })
	var ops []string
	for _, w := range r.writes() {
		ops = append(ops, w.Operation)
	}
	if len(ops) < 2 || ops[0] != "DeleteWarmPool" || ops[1] != "DeleteAutoScalingGroup" || r.live("web") != nil {
		t.Errorf("cleanup wrote %v, want DeleteWarmPool then DeleteAutoScalingGroup", ops)
	}
	if _, err := r.as.DeleteAutoScalingGroup(r.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-rev2")}); !isCode(err, "ResourceInUse") {
		t.Errorf("deleting a group with a warm pool without ForceDelete: %v, want ResourceInUse", err)
	}
}
