package asg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/providers/aws/awstag"
	"github.com/jibe-dev/jibe/reconcile"
)

// Red/black (the blueGreen strategy) runs the revision in a new group,
// <name>-<revision>, beside the active one, at the active group's current
// capacity (not the spec's desired, which would fight its scaling), in
// the same target groups, with the active group's scaling policies. Once
// every new instance is InService and healthy in every target group, the
// old group is detached from the target groups (ShiftTraffic 100 or
// Promote), and when the deregistration delay is over it is retired:
// scaling processes suspended (its policies and scheduled actions no
// longer act, so they never duel with the new group's) and scaled to
// zero, its capacity kept in a tag. Cleanup deletes retired groups;
// Rollback brings the old group back (processes resumed, capacity
// restored, re-attached, healthy) before the new group is deleted.

var errNoPrevious = errors.New("there is no previous version to return to: this was the first deploy")

// nextName is the name of the group a red/black rollout of d creates.
func nextName(d *reconcile.Deployment) string {
	rev := d.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return d.Target.AutoScalingGroup.Name + "-" + rev
}

// applyRedBlack creates the new group beside the active one; a first
// deploy (no active group) creates the group in place, as rolling does.
func (p *Platform) applyRedBlack(ctx context.Context, d *reconcile.Deployment) error {
	lt, err := p.ensureTemplate(ctx, d)
	if err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	nn := nextName(d)
	next, old := named(gs, nn), active(gs, nn)
	if next == nil && old == nil {
		return p.applyRolling(ctx, d)
	}
	want := d.Target.AutoScalingGroup
	if next != nil {
		return p.syncTargetGroups(ctx, next, want.TargetGroupArns)
	}
	desired := min(max(aws.ToInt32(old.DesiredCapacity), want.MinSize), want.MaxSize)
	c, err := p.carried(ctx, d, old)
	if err != nil {
		return err
	}
	if err := p.createGroup(ctx, d, nn, lt, desired, c.hooks); err != nil {
		return err
	}
	if err := p.syncPolicies(ctx, nn, c.policies, false); err != nil {
		return err
	}
	if err := p.syncActions(ctx, nn, c.actions, false); err != nil {
		return err
	}
	return p.pauseSchedule(ctx, d, old, len(c.actions) > 0)
}

// carriedOver is what a new red/black group takes from the spec, or from
// the old group for the kinds the spec does not declare.
type carriedOver struct {
	policies map[string]policyData
	actions  map[string]actionData
	hooks    map[string]hookData
}

// carried returns the new group's policies, scheduled actions and hooks.
func (p *Platform) carried(ctx context.Context, d *reconcile.Deployment, old *astypes.AutoScalingGroup) (carriedOver, error) {
	g, name := d.Target.AutoScalingGroup, aws.ToString(old.AutoScalingGroupName)
	c := carriedOver{actions: desiredActions(g.ScheduledActions), hooks: desiredHooks(g.LifecycleHooks)}
	var err error
	if c.policies, err = p.carriedPolicies(ctx, d, old); err != nil {
		return c, err
	}
	if c.actions == nil {
		live, err := p.actions(ctx, name)
		if err != nil {
			return c, err
		}
		c.actions = liveActions(live)
	}
	if c.hooks == nil {
		live, err := p.hooks(ctx, name)
		if err != nil {
			return c, err
		}
		c.hooks = liveHooks(live)
	}
	return c, nil
}

// pauseSchedule suspends the old group's ScheduledActions process once
// the new group has the actions, so that the same schedule never sizes
// both groups; rollback resumes it.
func (p *Platform) pauseSchedule(ctx context.Context, d *reconcile.Deployment, old *astypes.AutoScalingGroup, has bool) error {
	if !has {
		return nil
	}
	_, err := p.c.AutoScaling.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: old.AutoScalingGroupName, ScalingProcesses: []string{"ScheduledActions"}})
	if err != nil {
		return classify(fmt.Errorf("suspend the scheduled actions of %s: %w", aws.ToString(old.AutoScalingGroupName), err))
	}
	p.logger(d, "apply").Info("suspended the old group's scheduled actions", "group", aws.ToString(old.AutoScalingGroupName))
	return nil
}

// carriedPolicies are the new group's policies: the spec's when it
// declares any (the spec owns them, as rolling's prune does), else the
// old group's live policies, carried over (enabled).
func (p *Platform) carriedPolicies(ctx context.Context, d *reconcile.Deployment, old *astypes.AutoScalingGroup) (map[string]policyData, error) {
	if want := desiredPolicies(d.Target.AutoScalingGroup.ScalingPolicies); want != nil {
		return want, nil
	}
	live, err := p.policies(ctx, aws.ToString(old.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	out := livePolicies(live)
	for name, pd := range out {
		pd.Disabled = false // the new group's act
		out[name] = pd
	}
	return out, nil
}

// healthRedBlack is the new group's health.
func (p *Platform) healthRedBlack(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	gs, err := p.groups(ctx, d)
	if err != nil {
		return reconcile.Health{}, err
	}
	next := named(gs, nextName(d))
	if next == nil {
		if g := active(gs, ""); g != nil && tagOf(g, awstag.Revision) == d.Revision {
			return p.healthRolling(ctx, d) // a first deploy, created in place
		}
		return reconcile.Health{State: reconcile.HealthProgressing, Reason: fmt.Sprintf("group %s does not exist yet", nextName(d))}, nil
	}
	h, err := p.groupHealth(ctx, next)
	if err == nil {
		h.Instances = pairInstances(h.Instances, nextName(d), active(gs, nextName(d)))
	}
	return h, err
}

// shiftRedBlack: below 100 % both groups serve (a red/black rollout has
// no weights), which needs the new group healthy; at 100 % the old group
// is detached from the target groups.
func (p *Platform) shiftRedBlack(ctx context.Context, d *reconcile.Deployment, weight float64) error {
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	nn := nextName(d)
	next, old := named(gs, nn), active(gs, nn)
	if next == nil || old == nil || tagOf(old, awstag.SwitchedAt) != "" {
		return nil // a first deploy, or switched already
	}
	h, err := p.groupHealth(ctx, next)
	if err != nil {
		return err
	}
	if h.State != reconcile.HealthHealthy {
		return reconcile.Waiting(p.requeue, "traffic stays on group %s until the new group is healthy: %s", aws.ToString(old.AutoScalingGroupName), h.Reason)
	}
	if weight < 100 {
		return nil
	}
	if err := p.detach(ctx, old, old.TargetGroupARNs); err != nil {
		return err
	}
	p.logger(d, "shift").Info("detached the old group from its target groups", "group", aws.ToString(old.AutoScalingGroupName))
	return p.setTag(ctx, old, awstag.SwitchedAt, p.clock.Now().UTC().Format(time.RFC3339))
}

// promoteRedBlack switches if not done, waits out the target groups'
// deregistration delay, then retires the old group.
func (p *Platform) promoteRedBlack(ctx context.Context, d *reconcile.Deployment) error {
	if err := p.shiftRedBlack(ctx, d, 100); err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	old := active(gs, nextName(d))
	if old == nil || named(gs, nextName(d)) == nil {
		return nil
	}
	if err := p.waitDrained(ctx, d, old); err != nil {
		return err
	}
	return p.retire(ctx, d, old)
}

// waitDrained returns Waiting until the longest deregistration delay of
// the target groups (or the strategy's drainTime, if longer) has passed
// since the old group was detached.
func (p *Platform) waitDrained(ctx context.Context, d *reconcile.Deployment, old *astypes.AutoScalingGroup) error {
	at, err := time.Parse(time.RFC3339, tagOf(old, awstag.SwitchedAt))
	if err != nil {
		return reconcile.Stalled(fmt.Errorf("group %s: tag %s is not a time (%w); remove the tag to switch again", aws.ToString(old.AutoScalingGroupName), awstag.SwitchedAt, err))
	}
	var delay time.Duration
	if st := d.Environment; st != nil && st.Strategy != nil && st.Strategy.BlueGreen != nil && st.Strategy.BlueGreen.DrainTime != nil {
		delay = st.Strategy.BlueGreen.DrainTime.Duration
	}
	for _, tg := range d.Target.AutoScalingGroup.TargetGroupArns {
		dd, err := albtraffic.DeregistrationDelay(ctx, p.c.ELB, tg)
		if err != nil {
			return err
		}
		delay = max(delay, dd)
	}
	if left := at.Add(delay).Sub(p.clock.Now()); left > 0 {
		return reconcile.Waiting(min(left, p.requeue), "group %s is draining from its target groups for %s more", aws.ToString(old.AutoScalingGroupName), left.Round(time.Second))
	}
	return nil
}

// retire suspends the old group's scaling processes, keeps its capacity
// in a tag, scales it to zero and disables its predictive scaling
// policies (which no suspended process stops).
func (p *Platform) retire(ctx context.Context, d *reconcile.Deployment, old *astypes.AutoScalingGroup) error {
	name := aws.ToString(old.AutoScalingGroupName)
	if _, err := p.c.AutoScaling.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: old.AutoScalingGroupName, ScalingProcesses: retiredProcesses}); err != nil {
		return classify(fmt.Errorf("suspend the processes of %s: %w", name, err))
	}
	if tagOf(old, TagCapacity) == "" {
		capacity := fmt.Sprintf("%d/%d/%d", aws.ToInt32(old.MinSize), aws.ToInt32(old.MaxSize), aws.ToInt32(old.DesiredCapacity))
		if err := p.setTag(ctx, old, TagCapacity, capacity); err != nil {
			return err
		}
	}
	if _, err := p.c.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: old.AutoScalingGroupName,
		MinSize: aws.Int32(0), DesiredCapacity: aws.Int32(0)}); err != nil {
		return classify(fmt.Errorf("scale %s to zero: %w", name, err))
	}
	if err := p.enablePredictive(ctx, d, name, false); err != nil {
		return err
	}
	p.logger(d, "promote").Info("retired the old group", "group", name)
	return p.setTag(ctx, old, TagDisabledAt, p.clock.Now().UTC().Format(time.RFC3339))
}

// cleanupRedBlack deletes the retired groups.
func (p *Platform) cleanupRedBlack(ctx context.Context, d *reconcile.Deployment) error {
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	for i := range gs {
		if tagOf(&gs[i], TagDisabledAt) != "" && aws.ToString(gs[i].AutoScalingGroupName) != nextName(d) {
			if err := p.deleteGroup(ctx, d, &gs[i], "cleanup"); err != nil {
				return err
			}
		}
	}
	return nil
}

// rollbackRedBlack brings the old group back and deletes the new one.
func (p *Platform) rollbackRedBlack(ctx context.Context, d *reconcile.Deployment) error {
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	nn := nextName(d)
	next := named(gs, nn)
	if old := newestOther(gs, nn); old != nil {
		if err := p.restore(ctx, d, old); err != nil {
			return err
		}
	}
	if next == nil {
		return nil
	}
	if err := p.detach(ctx, next, next.TargetGroupARNs); err != nil {
		return err
	}
	return p.deleteGroup(ctx, d, next, "rollback")
}

// newestOther returns the newest group not named skip, retired or not.
func newestOther(gs []astypes.AutoScalingGroup, skip string) *astypes.AutoScalingGroup {
	for i := len(gs) - 1; i >= 0; i-- {
		if aws.ToString(gs[i].AutoScalingGroupName) != skip {
			return &gs[i]
		}
	}
	return nil
}

// restore resumes a retired group at its kept capacity and re-attaches it
// to the target groups; Waiting until it is healthy.
func (p *Platform) restore(ctx context.Context, d *reconcile.Deployment, old *astypes.AutoScalingGroup) error {
	name := aws.ToString(old.AutoScalingGroupName)
	changed := false
	if capacity := tagOf(old, TagCapacity); capacity != "" || tagOf(old, TagDisabledAt) != "" {
		if _, err := p.c.AutoScaling.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: old.AutoScalingGroupName, ScalingProcesses: retiredProcesses}); err != nil {
			return classify(fmt.Errorf("resume the processes of %s: %w", name, err))
		}
		var lo, hi, want int32
		if _, err := fmt.Sscanf(capacity, "%d/%d/%d", &lo, &hi, &want); err == nil {
			if _, err := p.c.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: old.AutoScalingGroupName,
				MinSize: aws.Int32(lo), MaxSize: aws.Int32(hi), DesiredCapacity: aws.Int32(want)}); err != nil {
				return classify(fmt.Errorf("scale %s back to %d: %w", name, want, err))
			}
		}
		if err := p.enablePredictive(ctx, d, name, true); err != nil {
			return err
		}
		if err := p.deleteTags(ctx, old, TagDisabledAt, TagCapacity); err != nil {
			return err
		}
		changed = true
	}
	if !changed && len(old.SuspendedProcesses) > 0 {
		if _, err := p.c.AutoScaling.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: old.AutoScalingGroupName, ScalingProcesses: retiredProcesses}); err != nil {
			return classify(fmt.Errorf("resume the processes of %s: %w", name, err))
		}
	}
	var missing []string
	for _, tg := range d.Target.AutoScalingGroup.TargetGroupArns {
		if !slices.Contains(old.TargetGroupARNs, tg) {
			missing = append(missing, tg)
		}
	}
	if err := p.attach(ctx, old, missing); err != nil {
		return err
	}
	if err := p.deleteTags(ctx, old, awstag.SwitchedAt); err != nil {
		return err
	}
	if changed || len(missing) > 0 {
		return reconcile.Waiting(p.requeue, "bringing group %s back into service", name)
	}
	h, err := p.groupHealth(ctx, old)
	if err != nil {
		return err
	}
	if h.State != reconcile.HealthHealthy {
		return reconcile.Waiting(p.requeue, "the new group stays until the old one is back: %s", h.Reason)
	}
	return nil
}
