package asg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var errNotASG = errors.New("the target is not an Auto Scaling group target")

// check returns a stalled error unless d is an Auto Scaling group
// deployment with a known mode.
func check(d *reconcile.Deployment) error {
	if d.Target == nil || d.Target.Target == nil || d.Target.AutoScalingGroup == nil {
		return reconcile.Stalled(errNotASG)
	}
	if d.Mode == spec.StrategyUnknown {
		return reconcile.Stalled(fmt.Errorf("environment %s: the deployment has no mode (rolling, blueGreen or canary); set exactly one strategy", d.Env))
	}
	return nil
}

// redBlack reports whether d runs red/black.
func redBlack(d *reconcile.Deployment) bool { return d.Mode == spec.StrategyBlueGreen }

// canary reports whether d runs a canary.
func canary(d *reconcile.Deployment) bool { return d.Mode == spec.StrategyCanary }

// Apply creates a launch template version if the data changed and writes
// the new version: the active group updated and refreshed (rolling), or
// a new group beside it (blueGreen). It writes nothing that matches.
func (p *Platform) Apply(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	if redBlack(d) {
		return p.applyRedBlack(ctx, d)
	}
	if canary(d) {
		return p.applyCanary(ctx, d)
	}
	return p.applyRolling(ctx, d)
}

// Health reports the instance refresh's progress and the group's
// instances (rolling), or the new group's instances (blueGreen): every
// instance InService and healthy in every target group, the reason
// naming pending instances and failing targets.
func (p *Platform) Health(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	if err := check(d); err != nil {
		return reconcile.Health{}, err
	}
	if redBlack(d) || canary(d) {
		return p.healthRedBlack(ctx, d)
	}
	return p.healthRolling(ctx, d)
}

// ShiftTraffic, for blueGreen, returns Waiting while the new group is not
// healthy and at 100 % detaches the old group from the target groups.
// For rolling with steps, weight is a checkpoint: the instance refresh
// goes on until it has replaced that share of the instances (see
// shiftRolling); rolling without steps has nothing to shift.
func (p *Platform) ShiftTraffic(ctx context.Context, d *reconcile.Deployment, weight spec.Percent) error {
	if err := check(d); err != nil {
		return err
	}
	if redBlack(d) {
		return p.shiftRedBlack(ctx, d, float64(weight))
	}
	if canary(d) {
		return p.shiftCanary(ctx, d, weight)
	}
	return p.shiftRolling(ctx, d, weight)
}

// Promote, for blueGreen, switches if not done, waits out the
// deregistration delay (Waiting) and retires the old group: processes
// suspended, scaled to zero, kept for rollback.
func (p *Platform) Promote(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	if redBlack(d) {
		return p.promoteRedBlack(ctx, d)
	}
	if canary(d) {
		return p.promoteCanary(ctx, d)
	}
	return nil
}

// Cleanup deletes the groups red/black retired.
func (p *Platform) Cleanup(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	if redBlack(d) || canary(d) {
		return p.cleanupRedBlack(ctx, d)
	}
	return nil
}

// Rollback brings the old group back and deletes the new one (blueGreen,
// needing no previous revision), or rolls back the instance refresh and
// re-applies the previous revision (rolling).
func (p *Platform) Rollback(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	if redBlack(d) {
		return p.rollbackRedBlack(ctx, d)
	}
	if canary(d) {
		return p.rollbackCanary(ctx, d)
	}
	return p.rollbackRolling(ctx, d)
}

var _ reconcile.TrafficReturner = (*Platform)(nil)

// ReturnsTraffic reports that ReturnTraffic can undo d without its
// previous revision: for blueGreen and canary.
func (p *Platform) ReturnsTraffic(d *reconcile.Deployment) bool {
	return check(d) == nil && d.Mode != spec.StrategyRolling
}

// ReturnTraffic is Rollback, which for blueGreen and canary needs no
// previous revision.
func (p *Platform) ReturnTraffic(ctx context.Context, d *reconcile.Deployment) error {
	return p.Rollback(ctx, d)
}
