package asg

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Canary runs the revision in the red/black group, <name>-<revision>, but
// in the canary target group of traffic only, at the active group's
// current capacity. ShiftTraffic weighs the listener (or rule) between the
// stable and canary target groups (albtraffic), never towards an
// unhealthy canary. Promote completes as red/black: the new group joins
// the target groups of the spec, all traffic returns to the stable target
// group (now served by both groups), the new group leaves the canary
// target group, and the old group is detached, drained and retired.
// Rollback returns all traffic to the stable target group first.

var errNoTraffic = errors.New("canary needs autoScalingGroup.traffic (a listener and stable/canary target groups)")

// trafficOf returns the target's traffic pair; stalled when it has none.
func trafficOf(d *reconcile.Deployment) (*spec.ALBTraffic, error) {
	if tr := d.Target.AutoScalingGroup.Traffic; tr != nil {
		return tr, nil
	}
	return nil, reconcile.Stalled(errNoTraffic)
}

// applyCanary creates the canary group in the canary target group.
func (p *Platform) applyCanary(ctx context.Context, d *reconcile.Deployment) error {
	tr, err := trafficOf(d)
	if err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	if active(gs, nextName(d)) == nil && named(gs, nextName(d)) == nil {
		return p.applyRolling(ctx, d) // nothing runs: a first deploy
	}
	canary := *d
	target := *d.Target.Target
	group := *d.Target.AutoScalingGroup
	group.TargetGroupArns = []string{tr.CanaryTargetGroupArn}
	target.AutoScalingGroup = &group
	canary.Target = &spec.RenderedTarget{Target: &target, UserData: d.Target.UserData}
	return p.applyRedBlack(ctx, &canary)
}

// shiftCanary sends weight percent to the canary target group once the
// canary group is healthy.
func (p *Platform) shiftCanary(ctx context.Context, d *reconcile.Deployment, weight spec.Percent) error {
	tr, err := trafficOf(d)
	if err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	next := named(gs, nextName(d))
	if next == nil {
		return nil // a first deploy runs rolling: nothing to shift
	}
	h, err := p.groupHealth(ctx, next)
	if err != nil {
		return err
	}
	if h.State != reconcile.HealthHealthy && weight > 0 {
		return reconcile.Waiting(p.requeue, "no traffic for the canary group until it is healthy: %s", h.Reason)
	}
	return albtraffic.Set(ctx, p.c.ELB, tr, tr.StableTargetGroupArn, tr.CanaryTargetGroupArn, weight)
}

// promoteCanary moves the canary group into the stable target groups,
// returns all traffic to them and completes as red/black.
func (p *Platform) promoteCanary(ctx context.Context, d *reconcile.Deployment) error {
	tr, err := trafficOf(d)
	if err != nil {
		return err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return err
	}
	next := named(gs, nextName(d))
	if next == nil {
		return nil
	}
	if err := p.joinStable(ctx, d, next); err != nil {
		return err
	}
	if err := albtraffic.Set(ctx, p.c.ELB, tr, tr.StableTargetGroupArn, tr.CanaryTargetGroupArn, 0); err != nil {
		return err
	}
	if slices.Contains(next.TargetGroupARNs, tr.CanaryTargetGroupArn) && !slices.Contains(d.Target.AutoScalingGroup.TargetGroupArns, tr.CanaryTargetGroupArn) {
		if err := p.detach(ctx, next, []string{tr.CanaryTargetGroupArn}); err != nil {
			return err
		}
	}
	return p.promoteRedBlack(ctx, d)
}

// joinStable attaches the canary group to the spec's target groups and
// returns Waiting until it is healthy in them.
func (p *Platform) joinStable(ctx context.Context, d *reconcile.Deployment, next *astypes.AutoScalingGroup) error {
	var missing []string
	for _, tg := range d.Target.AutoScalingGroup.TargetGroupArns {
		if !slices.Contains(next.TargetGroupARNs, tg) {
			missing = append(missing, tg)
		}
	}
	if len(missing) > 0 {
		if err := p.attach(ctx, next, missing); err != nil {
			return err
		}
		return reconcile.Waiting(p.requeue, "group %s joins target groups %v", aws.ToString(next.AutoScalingGroupName), missing)
	}
	h, err := p.groupHealth(ctx, next)
	if err != nil {
		return err
	}
	if h.State != reconcile.HealthHealthy {
		return reconcile.Waiting(p.requeue, "traffic stays shared until the new group is healthy in the stable target groups: %s", h.Reason)
	}
	return nil
}

// rollbackCanary returns all traffic to the stable target group, then
// rolls back as red/black (the old group restored if it was retired, the
// new one deleted).
func (p *Platform) rollbackCanary(ctx context.Context, d *reconcile.Deployment) error {
	tr, err := trafficOf(d)
	if err != nil {
		return err
	}
	if err := albtraffic.Set(ctx, p.c.ELB, tr, tr.StableTargetGroupArn, tr.CanaryTargetGroupArn, 0); err != nil {
		return err
	}
	return p.rollbackRedBlack(ctx, d)
}
