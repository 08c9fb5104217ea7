package asg

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
)

// groupInstances counts group g's instances as described (no further
// call): running are those not terminating, healthy those InService and
// Healthy less the failing targets that health found (failing, all on
// the group's launch template version). Instances on another version
// than the group's (an instance refresh in progress) make that version
// and the group's one two versions, the group's new.
func groupInstances(g *astypes.AutoScalingGroup, failing int) *reconcile.Instances {
	version := groupVersion(g)
	in := &reconcile.Instances{Desired: int(aws.ToInt32(g.DesiredCapacity))}
	byVersion := map[string]*reconcile.VersionInstances{}
	var order []string
	for _, i := range g.Instances {
		if i.LifecycleState == astypes.LifecycleStateTerminating || i.LifecycleState == astypes.LifecycleStateTerminated {
			continue
		}
		v := version
		if i.LaunchTemplate != nil {
			v = aws.ToString(i.LaunchTemplate.Version)
		}
		vi := byVersion[v]
		if vi == nil {
			vi = &reconcile.VersionInstances{Version: aws.ToString(g.AutoScalingGroupName) + " v" + v, New: v == version}
			byVersion[v], order = vi, append(order, v)
		}
		vi.Running++
		if i.LifecycleState == astypes.LifecycleStateInService && aws.ToString(i.HealthStatus) == "Healthy" {
			vi.Healthy++
		}
	}
	if vi := byVersion[version]; vi != nil {
		vi.Desired, vi.Healthy = in.Desired, max(vi.Healthy-failing, 0)
	}
	for _, v := range order {
		vi := byVersion[v]
		vi.Unhealthy = vi.Running - vi.Healthy
		in.Running, in.Healthy, in.Unhealthy = in.Running+vi.Running, in.Healthy+vi.Healthy, in.Unhealthy+vi.Unhealthy
	}
	if len(order) > 1 {
		for _, v := range order {
			if byVersion[v].New {
				in.Versions = append([]reconcile.VersionInstances{*byVersion[v]}, in.Versions...)
			} else {
				in.Versions = append(in.Versions, *byVersion[v])
			}
		}
	}
	return in
}

// pairInstances counts a red/black or canary rollout's two groups: the
// new group's instances and the old one's, each a version.
func pairInstances(next *reconcile.Instances, nextName string, old *astypes.AutoScalingGroup) *reconcile.Instances {
	if next == nil || old == nil {
		return next
	}
	o := groupInstances(old, 0)
	in := &reconcile.Instances{Desired: next.Desired + o.Desired, Running: next.Running + o.Running,
		Healthy: next.Healthy + o.Healthy, Unhealthy: next.Unhealthy + o.Unhealthy}
	in.Versions = []reconcile.VersionInstances{
		{Version: nextName, New: true, Desired: next.Desired, Running: next.Running, Healthy: next.Healthy, Unhealthy: next.Unhealthy},
		{Version: aws.ToString(old.AutoScalingGroupName), Desired: o.Desired, Running: o.Running, Healthy: o.Healthy, Unhealthy: o.Unhealthy},
	}
	return in
}
