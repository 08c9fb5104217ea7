package asg

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Rolling updates the target's active group in place: its settings, then,
// when the launch template version changed, an instance refresh to it
// (minimum healthy percentage and warmup from the spec, skipping
// instances already on the version) started with the version as desired
// configuration, so that the refresh can be rolled back.

// applyRolling writes d to the active group (creating the group, named as
// the spec says, on a first deploy) and starts an instance refresh when
// the launch template version changed. It writes nothing that matches.
func (p *Platform) applyRolling(ctx context.Context, d *reconcile.Deployment) error {
	lt, err := p.ensureTemplate(ctx, d)
	if err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	g := active(gs, "")
	want := d.Target.AutoScalingGroup
	if g == nil {
		if err := p.createGroup(ctx, d, want.Name, lt, initialCapacity(want), desiredHooks(want.LifecycleHooks)); err != nil {
			return err
		}
		return p.syncOwned(ctx, want.Name, want)
	}
	refresh := groupVersion(g) != lt.versionString()
	if err := p.updateGroup(ctx, d, g, ltRef{}); err != nil {
		return err
	}
	if err := p.syncOwned(ctx, aws.ToString(g.AutoScalingGroupName), want); err != nil {
		return err
	}
	if !refresh {
		return nil
	}
	return p.startRefresh(ctx, d, g, lt, 0)
}

// startRefresh starts an instance refresh of g to the template version,
// stopping at d's checkpoints from weight from on; Waiting while another
// refresh is in progress.
func (p *Platform) startRefresh(ctx context.Context, d *reconcile.Deployment, g *astypes.AutoScalingGroup, lt ltRef, from spec.Percent) error {
	prefs := refreshPreferences(d, from)
	name := aws.ToString(g.AutoScalingGroupName)
	out, err := p.c.AutoScaling.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: g.AutoScalingGroupName,
		Strategy: astypes.RefreshStrategyRolling, Preferences: prefs, DesiredConfiguration: desiredConfiguration(d, lt)})
	if isCode(err, "InstanceRefreshInProgress") {
		return reconcile.Waiting(p.requeue, "group %s: another instance refresh is in progress; the refresh to launch template version %d starts when it ends", name, lt.version)
	}
	if err != nil {
		return classify(fmt.Errorf("start an instance refresh of %s: %w", name, err))
	}
	p.logger(d, "apply").Info("started instance refresh", "group", name, "refresh", aws.ToString(out.InstanceRefreshId), "launchTemplateVersion", lt.version,
		"checkpoints", prefs.CheckpointPercentages)
	return nil
}

// latestRefresh returns g's newest instance refresh, nil when it has none.
func (p *Platform) latestRefresh(ctx context.Context, g *astypes.AutoScalingGroup) (*astypes.InstanceRefresh, error) {
	out, err := p.c.AutoScaling.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: g.AutoScalingGroupName, MaxRecords: aws.Int32(1)})
	if err != nil {
		return nil, classify(fmt.Errorf("describe instance refreshes of %s: %w", aws.ToString(g.AutoScalingGroupName), err))
	}
	if len(out.InstanceRefreshes) == 0 {
		return nil, nil
	}
	return &out.InstanceRefreshes[0], nil
}

// healthRolling reports the active group's refresh and instances: the
// refresh's progress while it runs, failed when it failed, was cancelled
// or rolled back, and once it is over the group's own health.
func (p *Platform) healthRolling(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	gs, err := p.groups(ctx, d)
	if err != nil {
		return reconcile.Health{}, err
	}
	g := active(gs, "")
	if g == nil {
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf("group %s does not exist yet", d.Target.AutoScalingGroup.Name)}, nil
	}
	ref, err := p.latestRefresh(ctx, g)
	if err != nil {
		return reconcile.Health{}, err
	}
	gh, err := p.groupHealth(ctx, g)
	if err != nil || ref == nil || !refreshesTo(ref, groupVersion(g)) {
		return gh, err
	}
	name := aws.ToString(g.AutoScalingGroupName)
	switch ref.Status {
	case astypes.InstanceRefreshStatusPending, astypes.InstanceRefreshStatusInProgress:
		if gh.State == reconcile.HealthFailed {
			return gh, nil
		}
		status := string(ref.Status)
		if r := aws.ToString(ref.StatusReason); r != "" {
			status += " (" + r + ")" // e.g. waiting at a checkpoint
		}
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf("instance refresh %s of %s %s, %d%% complete, %d instances to update; %s",
			aws.ToString(ref.InstanceRefreshId), name, status, aws.ToInt32(ref.PercentageComplete), aws.ToInt32(ref.InstancesToUpdate), gh.Reason), Instances: gh.Instances}, nil
	case astypes.InstanceRefreshStatusSuccessful:
		return gh, nil
	}
	reason := fmt.Sprintf("instance refresh %s of %s %s", aws.ToString(ref.InstanceRefreshId), name, ref.Status)
	if r := aws.ToString(ref.StatusReason); r != "" {
		reason += ": " + r
	}
	return reconcile.Health{State: reconcile.HealthFailed, Reason: reason, Instances: gh.Instances}, nil
}

// refreshesTo reports whether ref replaces instances with the launch
// template version (a refresh to another version, e.g. one rolled back
// since, says nothing about it).
func refreshesTo(ref *astypes.InstanceRefresh, version string) bool {
	lt := desiredTemplate(ref)
	return lt == nil || aws.ToString(lt.Version) == version
}

// desiredConfiguration is what a refresh of d replaces instances with:
// the template version, in the spec's mixed instances policy if any.
func desiredConfiguration(d *reconcile.Deployment, lt ltRef) *astypes.DesiredConfiguration {
	plain, mixed := launchWith(d.Target.AutoScalingGroup, lt.spec())
	return &astypes.DesiredConfiguration{LaunchTemplate: plain, MixedInstancesPolicy: mixed}
}

// rollbackRolling rolls back the active group's refresh when one is in
// progress (AWS restores the previous launch template version and
// replaces the new instances), then re-applies the previous revision,
// which starts a refresh back to its version when the refresh had ended.
func (p *Platform) rollbackRolling(ctx context.Context, d *reconcile.Deployment) error {
	prev, err := previous(d)
	if err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	if g := active(gs, ""); g != nil {
		if err := p.rollbackRefresh(ctx, d, g); err != nil {
			return err
		}
	}
	return p.applyRolling(ctx, prev)
}

// rollbackRefresh rolls back g's refresh if one is in progress.
func (p *Platform) rollbackRefresh(ctx context.Context, d *reconcile.Deployment, g *astypes.AutoScalingGroup) error {
	ref, err := p.latestRefresh(ctx, g)
	if err != nil || ref == nil {
		return err
	}
	if ref.Status != astypes.InstanceRefreshStatusPending && ref.Status != astypes.InstanceRefreshStatusInProgress {
		return nil
	}
	_, err = p.c.AutoScaling.RollbackInstanceRefresh(ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: g.AutoScalingGroupName})
	if isCode(err, "ActiveInstanceRefreshNotFound") {
		return nil
	}
	if err != nil {
		return classify(fmt.Errorf("roll back instance refresh %s of %s: %w", aws.ToString(ref.InstanceRefreshId), aws.ToString(g.AutoScalingGroupName), err))
	}
	p.logger(d, "rollback").Info("rolling back instance refresh", "group", aws.ToString(g.AutoScalingGroupName), "refresh", aws.ToString(ref.InstanceRefreshId))
	return nil
}

// previous returns the deployment of the previous revision.
func previous(d *reconcile.Deployment) (*reconcile.Deployment, error) {
	if d.Previous == nil || d.Previous.AutoScalingGroup == nil {
		return nil, reconcile.Stalled(errNoPrevious)
	}
	prev := *d
	prev.Target, prev.Revision, prev.Previous, prev.PreviousRevision = d.Previous, d.PreviousRevision, nil, ""
	return &prev, nil
}
