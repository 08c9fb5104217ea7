package ecs

import (
	"context"
	"errors"
	"fmt"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var (
	errNoPrevious = errors.New("there is no previous version to return to: this was the first deploy")
	errNotECS     = errors.New("the target is not an ECS target with rendered task definition and service files")
)

var _ reconcile.TrafficReturner = (*Platform)(nil)

// check returns a stalled error unless d is a rendered ECS deployment with
// a known mode.
func check(d *reconcile.Deployment) error {
	t := d.Target
	if t == nil || t.ECS == nil || t.TaskDefinition == nil || t.Service == nil {
		return reconcile.Stalled(errNotECS)
	}
	if d.Mode == spec.StrategyUnknown {
		return reconcile.Stalled(fmt.Errorf("environment %s: the deployment has no mode (rolling, blueGreen or canary); set exactly one strategy", d.Env))
	}
	return nil
}

// Apply registers the task definition if it changed and writes the new
// version: the service in place for rolling, the idle slot for
// blue/green, the canary service for canary (receiving no traffic yet).
// It writes nothing that already matches.
func (p *Platform) Apply(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	switch d.Mode {
	case spec.StrategyBlueGreen:
		return p.applyBlueGreen(ctx, d)
	case spec.StrategyCanary:
		return p.applyCanary(ctx, d)
	}
	return p.applyRolling(ctx, d)
}

// Health reports the new version's health: the rollout state of the ECS
// deployment, and for blue/green and canary also the health of every
// target in the new version's target group.
func (p *Platform) Health(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	if err := check(d); err != nil {
		return reconcile.Health{}, err
	}
	switch d.Mode {
	case spec.StrategyBlueGreen:
		return p.healthBlueGreen(ctx, d)
	case spec.StrategyCanary:
		return p.healthCanary(ctx, d)
	}
	s, err := p.describeService(ctx, d.Target.Service.Cluster, d.Target.Service.ServiceName)
	if err != nil {
		return reconcile.Health{}, err
	}
	return p.serviceHealth(ctx, d, s)
}

// ShiftTraffic sends weight percent of the listener's traffic to the new
// version and returns once the listener reads back the new weights. It
// returns Waiting while the new version is not healthy. Rolling
// deployments have no traffic to shift.
func (p *Platform) ShiftTraffic(ctx context.Context, d *reconcile.Deployment, weight spec.Percent) error {
	if err := check(d); err != nil {
		return err
	}
	switch d.Mode {
	case spec.StrategyBlueGreen:
		return p.shiftBlueGreen(ctx, d, float64(weight))
	case spec.StrategyCanary:
		return p.shiftCanary(ctx, d, weight)
	}
	return nil
}

// Promote makes the new version the stable one. Blue/green: all traffic
// on the new slot, then (after draining, Waiting meanwhile) the old slot
// scaled to zero. Canary: the stable service rolled to the new version,
// all traffic back on it, the canary service deleted. Rolling: when the
// traffic's listener (or rule) forwards to neither of its target groups,
// the service takes it over once its targets are healthy (see takeOver).
func (p *Platform) Promote(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	switch d.Mode {
	case spec.StrategyBlueGreen:
		return p.promoteBlueGreen(ctx, d)
	case spec.StrategyCanary:
		return p.promoteCanary(ctx, d)
	}
	return p.takeOver(ctx, d)
}

// Cleanup deletes the old blue/green slot kept for the rollback window.
// Other strategies leave nothing to clean up.
func (p *Platform) Cleanup(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	if d.Mode == spec.StrategyBlueGreen {
		return p.cleanupBlueGreen(ctx, d)
	}
	return nil
}

// Rollback returns all traffic to the stable version and removes the new
// one (blue/green, canary; this needs no previous revision), or re-applies the previous revision's task
// definition, service settings and autoscaling in place (rolling).
func (p *Platform) Rollback(ctx context.Context, d *reconcile.Deployment) error {
	if err := check(d); err != nil {
		return err
	}
	switch d.Mode {
	case spec.StrategyBlueGreen:
		return p.rollbackBlueGreen(ctx, d)
	case spec.StrategyCanary:
		return p.rollbackCanary(ctx, d)
	}
	prev, err := previous(d)
	if err != nil {
		return err
	}
	return p.applyRolling(ctx, prev)
}

// ReturnsTraffic reports that ReturnTraffic can undo d without its
// previous revision: for every strategy but rolling, which has no traffic
// to return.
func (p *Platform) ReturnsTraffic(d *reconcile.Deployment) bool {
	return check(d) == nil && d.Mode != spec.StrategyRolling
}

// ReturnTraffic is Rollback, which for blue/green and canary needs no
// previous revision: all traffic back on the stable service or slot (once
// it is healthy), the canary service or new slot deleted.
func (p *Platform) ReturnTraffic(ctx context.Context, d *reconcile.Deployment) error {
	return p.Rollback(ctx, d)
}

// previous returns the deployment of the previous revision.
func previous(d *reconcile.Deployment) (*reconcile.Deployment, error) {
	if d.Previous == nil || d.Previous.ECS == nil || d.Previous.TaskDefinition == nil || d.Previous.Service == nil {
		return nil, reconcile.Stalled(errNoPrevious)
	}
	prev := *d
	prev.Target, prev.Revision, prev.Previous, prev.PreviousRevision = d.Previous, d.PreviousRevision, nil, ""
	return &prev, nil
}
