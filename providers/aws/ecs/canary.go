package ecs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// A canary runs the new version as <name>-canary on the canary target
// group beside the stable service, and shifts a weighted share of the
// listener to it. Promote rolls the stable service to the new version,
// waits until it is healthy, returns all traffic to it and deletes the
// canary service; Rollback returns all traffic to stable and deletes the
// canary service. Either way nothing is left behind: the listener forwards
// 100% to the stable target group and only the stable service remains.

// canarySet is the stable and canary services as they stand.
type canarySet struct {
	tr             *spec.ALBTraffic
	stable, canary *ecstypes.Service
	sl             slots
}

func (p *Platform) readCanary(ctx context.Context, d *reconcile.Deployment) (*canarySet, error) {
	tr, err := traffic(d)
	if err != nil {
		return nil, err
	}
	sl := slotsOf(d)
	svcs, err := p.describeServices(ctx, d.Target.Service.Cluster, sl.names())
	if err != nil {
		return nil, err
	}
	return &canarySet{tr: tr, stable: svcs[sl.stable], canary: svcs[sl.next], sl: sl}, nil
}

// applyCanary starts the canary service with the stable service's size
// and no traffic. On a first deploy (no stable service) it creates the
// stable service instead.
func (p *Platform) applyCanary(ctx context.Context, d *reconcile.Deployment) error {
	c, err := p.readCanary(ctx, d)
	if err != nil {
		return err
	}
	if c.stable == nil {
		return p.applyStable(ctx, d, c)
	}
	td, err := p.ensureTaskDef(ctx, d, arnOf(c.canary), arnOf(c.stable))
	if err != nil {
		return err
	}
	u := upsert{want: slotSpec(d, c.sl.next, c.tr.CanaryTargetGroupArn), taskDef: td, live: c.canary, desired: newCount(d, c.stable)}
	u.want.DesiredCount = aws.Int32(u.desired)
	return p.upsertService(ctx, d, u)
}

// applyStable brings the stable service to the revision (rolling).
func (p *Platform) applyStable(ctx context.Context, d *reconcile.Deployment, c *canarySet) error {
	td, err := p.ensureTaskDef(ctx, d, arnOf(c.stable))
	if err != nil {
		return err
	}
	u := upsert{want: slotSpec(d, c.sl.stable, c.tr.StableTargetGroupArn), taskDef: td, live: c.stable, desired: newCount(d, nil)}
	if u.scaled, err = p.scaled(ctx, d, c.sl.stable); err != nil {
		return err
	}
	if err := p.upsertService(ctx, d, u); err != nil {
		return err
	}
	return p.ensureScaling(ctx, d, c.sl.stable, nil)
}

func (p *Platform) healthCanary(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	c, err := p.readCanary(ctx, d)
	if err != nil {
		return reconcile.Health{}, err
	}
	if c.canary == nil {
		return p.slotHealth(ctx, d, c.stable, c.tr.StableTargetGroupArn)
	}
	h, err := p.slotHealth(ctx, d, c.canary, c.tr.CanaryTargetGroupArn)
	if err == nil {
		h.Instances = slotsInstances(c.canary, c.stable)
	}
	return h, err
}

// shiftCanary sets the canary's share of traffic once it is healthy.
// Without a canary service (a first deploy) there is nothing to shift.
func (p *Platform) shiftCanary(ctx context.Context, d *reconcile.Deployment, weight spec.Percent) error {
	c, err := p.readCanary(ctx, d)
	if err != nil || c.canary == nil {
		return err
	}
	if weight > 0 {
		if err := p.requireReady(ctx, d, c.canary, c.tr.CanaryTargetGroupArn); err != nil {
			return err
		}
	}
	if err := albtraffic.Set(ctx, p.c.ELB, c.tr, c.tr.StableTargetGroupArn, c.tr.CanaryTargetGroupArn, weight); err != nil {
		return err
	}
	p.logger(d, "shift-traffic").Info("canary weight in effect", "weight", float64(weight))
	return nil
}

// requireReady returns Waiting unless the slot runs the revision healthily.
func (p *Platform) requireReady(ctx context.Context, d *reconcile.Deployment, s *ecstypes.Service, tg string) error {
	h, err := p.slotHealth(ctx, d, s, tg)
	if err != nil {
		return err
	}
	if h.State != reconcile.HealthHealthy {
		return reconcile.Waiting(p.requeue, "%s is %s: %s", aws.ToString(s.ServiceName), h.State, h.Reason)
	}
	return nil
}

// promoteCanary rolls the stable service to the revision, waits until it
// is healthy, sends it all traffic and deletes the canary service.
func (p *Platform) promoteCanary(ctx context.Context, d *reconcile.Deployment) error {
	c, err := p.readCanary(ctx, d)
	if err != nil {
		return err
	}
	if err := p.applyStable(ctx, d, c); err != nil {
		return err
	}
	if c, err = p.readCanary(ctx, d); err != nil {
		return err
	}
	if err := p.requireReady(ctx, d, c.stable, c.tr.StableTargetGroupArn); err != nil {
		return err
	}
	return p.removeCanary(ctx, c)
}

// removeCanary returns all traffic to stable and deletes the canary
// service.
func (p *Platform) removeCanary(ctx context.Context, c *canarySet) error {
	if err := albtraffic.Set(ctx, p.c.ELB, c.tr, c.tr.CanaryTargetGroupArn, c.tr.StableTargetGroupArn, 100); err != nil {
		return err
	}
	if c.canary == nil {
		return nil
	}
	return p.deleteService(ctx, c.canary)
}

// rollbackCanary returns all traffic to stable, deletes the canary
// service, and restores the stable service to the previous revision if a
// promotion had started to change it. Without a previous revision it
// returns Waiting until the stable service is healthy, as a restore would.
func (p *Platform) rollbackCanary(ctx context.Context, d *reconcile.Deployment) error {
	c, err := p.readCanary(ctx, d)
	if err != nil {
		return err
	}
	if err := p.removeCanary(ctx, c); err != nil {
		return err
	}
	promoting := c.stable != nil && tagValue(c.stable, TagRevision) == d.Revision
	switch {
	case c.stable == nil:
		return nil
	case !promoting && d.Previous == nil:
		return p.ready(ctx, c.stable, c.tr.StableTargetGroupArn)
	case !promoting:
		return nil
	case d.Previous == nil:
		return reconcile.Stalled(fmt.Errorf("service %s already runs revision %s (its promotion had started), and no earlier revision is known to restore",
			aws.ToString(c.stable.ServiceName), reconcile.ShortRevision(d.Revision)))
	}
	prev, err := previous(d)
	if err != nil {
		return err
	}
	return p.applyStable(ctx, prev, c)
}
