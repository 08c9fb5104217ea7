package asg

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/providers/aws/apidiff"
	"github.com/jibe-dev/jibe/reconcile"
)

// Diff compares the target with its active group and the launch template
// version that group launches: "EC2 launch template <name>" field by
// field (imageId old → new for an AMI bump; user data by digest) and
// "Auto Scaling group <name>" (sizes, subnets, target groups, health
// checks, tags, scaling policies). Desired capacity is compared only when
// the spec sets it and no scaling policy manages it, so that autoscaling
// is not drift. It makes no write call.
func (p *Platform) Diff(ctx context.Context, d *reconcile.Deployment) ([]reconcile.Change, error) {
	if err := check(d); err != nil {
		return nil, err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return nil, err
	}
	g, ltName := active(gs, ""), templateName(d)
	if g == nil {
		return []reconcile.Change{
			{Target: d.Target.Name, Resource: "EC2 launch template " + ltName, Action: reconcile.ActionCreate},
			{Target: d.Target.Name, Resource: "Auto Scaling group " + d.Target.AutoScalingGroup.Name, Action: reconcile.ActionCreate}}, nil
	}
	var out []reconcile.Change
	lt, err := p.version(ctx, ltName, groupVersion(g))
	if err != nil {
		return nil, err
	}
	want := desiredLT(d.Target)
	if lt == nil {
		out = append(out, reconcile.Change{Target: d.Target.Name, Resource: "EC2 launch template " + ltName, Action: reconcile.ActionCreate})
	} else if have := liveLT(lt); !have.equal(want) {
		fields, err := apidiff.Fields("", have, want)
		if err != nil {
			return nil, err
		}
		out = append(out, reconcile.Change{Target: d.Target.Name, Resource: "EC2 launch template " + ltName, Action: reconcile.ActionUpdate, Fields: fields})
	}
	c, err := p.diffGroup(ctx, d, g)
	if err != nil || c == nil {
		return out, err
	}
	return append(out, *c), nil
}

// liveExtras reads the scheduled actions and lifecycle hooks of a group
// into have, for the kinds the spec declares (and so owns).
func (p *Platform) liveExtras(ctx context.Context, name string, want groupData, have *groupData) error {
	if want.ScheduledActions != nil {
		live, err := p.actions(ctx, name)
		if err != nil {
			return err
		}
		have.ScheduledActions = comparableActions(liveActions(live))
	}
	if want.LifecycleHooks != nil {
		live, err := p.hooks(ctx, name)
		if err != nil {
			return err
		}
		have.LifecycleHooks = liveHooks(live)
	}
	return nil
}

// diffGroup returns the change of the group's settings, nil when none.
func (p *Platform) diffGroup(ctx context.Context, d *reconcile.Deployment, g *astypes.AutoScalingGroup) (*reconcile.Change, error) {
	name := aws.ToString(g.AutoScalingGroupName)
	want := desiredGroup(d.Target.AutoScalingGroup)
	policies, err := p.policies(ctx, name)
	if err != nil {
		return nil, err
	}
	have := liveGroup(g, policies, want)
	if err := p.liveExtras(ctx, name, want, &have); err != nil {
		return nil, err
	}
	fields, err := apidiff.Fields("", have, want)
	if err != nil {
		return nil, fmt.Errorf("diff group %s: %w", name, err)
	}
	if len(fields) == 0 {
		return nil, nil
	}
	return &reconcile.Change{Target: d.Target.Name, Resource: "Auto Scaling group " + name, Action: reconcile.ActionUpdate, Fields: fields}, nil
}
