package ecs

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Blue/green runs two slots bound to the traffic pair: the service file's
// name on the stable target group and <name>-green on the canary target
// group. The new version goes to the slot that receives no traffic (or the
// one already tagged with the revision, so re-runs find it), traffic
// switches at once, the old slot is scaled to zero once draining is over
// and deleted at cleanup. The roles alternate from one rollout to the next.

// pair is the two slots of a blue/green deployment as they stand.
type pair struct {
	// live serves traffic; next runs (or will run) the revision.
	live, next *ecstypes.Service
	// liveName, nextName name them; liveTG, nextTG are their target groups.
	liveName, nextName string
	liveTG, nextTG     string
}

// readPair describes both slots and decides which is which.
func (p *Platform) readPair(ctx context.Context, d *reconcile.Deployment) (*pair, error) {
	tr, err := traffic(d)
	if err != nil {
		return nil, err
	}
	sl := slotsOf(d)
	svcs, err := p.describeServices(ctx, d.Target.Service.Cluster, sl.names())
	if err != nil {
		return nil, err
	}
	w, err := albtraffic.Read(ctx, p.c.ELB, tr)
	if err != nil {
		return nil, err
	}
	a := &pair{liveName: sl.stable, liveTG: tr.StableTargetGroupArn, nextName: sl.next, nextTG: tr.CanaryTargetGroupArn}
	if nextOwnsRevision(d, svcs[sl.stable], svcs[sl.next], w.Share(tr.StableTargetGroupArn)) {
		a.liveName, a.nextName, a.liveTG, a.nextTG = a.nextName, a.liveName, a.nextTG, a.liveTG
	}
	a.live, a.next = svcs[a.liveName], svcs[a.nextName]
	return a, nil
}

// nextOwnsRevision reports whether the stable-named slot is the one the
// revision goes to: it is tagged with the revision, or (neither is) it
// receives less traffic than the other. A first deploy (neither slot
// exists) goes to the stable-named slot, which the listener already
// forwards to.
func nextOwnsRevision(d *reconcile.Deployment, blue, green *ecstypes.Service, blueShare float64) bool {
	switch {
	case blue == nil && green == nil:
		return true
	case blue != nil && tagValue(blue, TagRevision) == d.Revision:
		return true
	case green != nil && tagValue(green, TagRevision) == d.Revision:
		return false
	}
	return blueShare < 50
}

func (p *Platform) applyBlueGreen(ctx context.Context, d *reconcile.Deployment) error {
	a, err := p.readPair(ctx, d)
	if err != nil {
		return err
	}
	td, err := p.ensureTaskDef(ctx, d, arnOf(a.next), arnOf(a.live))
	if err != nil {
		return err
	}
	// The new slot starts at the live slot's size (the autoscaler's
	// choice), even when it is an old slot kept at zero for rollback.
	u := upsert{want: slotSpec(d, a.nextName, a.nextTG), taskDef: td, live: a.next, desired: newCount(d, a.live)}
	u.want.DesiredCount = aws.Int32(u.desired)
	if err := p.upsertService(ctx, d, u); err != nil {
		return err
	}
	var from *scaling
	if a.live != nil {
		if from, err = p.readScaling(ctx, d.Target.Service.Cluster, a.liveName); err != nil {
			return err
		}
	}
	return p.ensureScaling(ctx, d, a.nextName, from)
}

func arnOf(s *ecstypes.Service) string {
	if s == nil {
		return ""
	}
	return aws.ToString(s.TaskDefinition)
}

func (p *Platform) healthBlueGreen(ctx context.Context, d *reconcile.Deployment) (reconcile.Health, error) {
	a, err := p.readPair(ctx, d)
	if err != nil {
		return reconcile.Health{}, err
	}
	h, err := p.slotHealth(ctx, d, a.next, a.nextTG)
	if err == nil && a.live != nil && a.live != a.next {
		h.Instances = slotsInstances(a.next, a.live)
	}
	return h, err
}

// shiftBlueGreen sends weight percent to the new slot; at 100 it records
// when, so that Promote waits for draining. It refuses while the new slot
// is not healthy.
func (p *Platform) shiftBlueGreen(ctx context.Context, d *reconcile.Deployment, weight float64) error {
	a, err := p.readPair(ctx, d)
	if err != nil {
		return err
	}
	if err := p.requireHealthy(ctx, d, a); err != nil {
		return err
	}
	tr, _ := traffic(d)
	if err := albtraffic.Set(ctx, p.c.ELB, tr, a.liveTG, a.nextTG, spec.Percent(weight)); err != nil {
		return err
	}
	if weight < 100 || tagValue(a.next, TagSwitchedAt) != "" {
		return nil
	}
	at := p.clock.Now().UTC().Format(time.RFC3339)
	p.logger(d, "shift-traffic").Info("switched traffic", "to", a.nextName, "from", a.liveName)
	return p.tagService(ctx, a.next, ecstypes.Tag{Key: aws.String(TagSwitchedAt), Value: aws.String(at)})
}

// requireHealthy returns Waiting unless the new slot is healthy, so that
// the old version is never disabled while the new one is not.
func (p *Platform) requireHealthy(ctx context.Context, d *reconcile.Deployment, a *pair) error {
	h, err := p.slotHealth(ctx, d, a.next, a.nextTG)
	if err != nil {
		return err
	}
	if h.State != reconcile.HealthHealthy {
		return reconcile.Waiting(p.requeue, "new version is %s: %s", h.State, h.Reason)
	}
	return nil
}

// promoteBlueGreen switches all traffic to the new slot if not done yet,
// waits until the old target group has drained (returning Waiting), then
// retires the old slot's autoscaling and scales it to zero. The old slot is
// kept for the rollback window; Cleanup deletes it.
func (p *Platform) promoteBlueGreen(ctx context.Context, d *reconcile.Deployment) error {
	if err := p.shiftBlueGreen(ctx, d, 100); err != nil {
		return err
	}
	a, err := p.readPair(ctx, d)
	if err != nil || a.live == nil {
		return err
	}
	if err := p.waitDrained(ctx, d, a); err != nil {
		return err
	}
	if err := p.deregisterScaling(ctx, d.Target.Service.Cluster, a.liveName); err != nil {
		return err
	}
	p.logger(d, "promote").Info("scaling old version to zero", "service", a.liveName)
	return p.scaleService(ctx, a.live, 0)
}

// waitDrained returns Waiting until the drain time has passed since the
// switch.
func (p *Platform) waitDrained(ctx context.Context, d *reconcile.Deployment, a *pair) error {
	at, err := time.Parse(time.RFC3339, tagValue(a.next, TagSwitchedAt))
	if err != nil {
		return reconcile.Waiting(time.Second, "waiting for the traffic switch to be recorded")
	}
	drain, err := p.drainTime(ctx, d, a.liveTG)
	if err != nil {
		return err
	}
	if left := at.Add(drain).Sub(p.clock.Now()); left > 0 {
		return reconcile.Waiting(left, "draining in-flight requests from %s for %s more", a.liveName, left)
	}
	return nil
}

// cleanupBlueGreen deletes the old slot.
func (p *Platform) cleanupBlueGreen(ctx context.Context, d *reconcile.Deployment) error {
	a, err := p.readPair(ctx, d)
	if err != nil || a.live == nil || a.next == nil {
		return err
	}
	p.logger(d, "cleanup").Info("deleting old version", "service", a.liveName)
	return p.deleteService(ctx, a.live)
}

// rollbackBlueGreen scales the old slot back up if it was scaled down
// (waiting until it is healthy), returns all traffic to it, and deletes
// the new slot.
func (p *Platform) rollbackBlueGreen(ctx context.Context, d *reconcile.Deployment) error {
	a, err := p.readPair(ctx, d)
	if err != nil || a.next == nil {
		return err
	}
	if a.live == nil {
		return reconcile.Stalled(errNoPrevious)
	}
	if err := p.restoreOld(ctx, d, a); err != nil {
		return err
	}
	tr, _ := traffic(d)
	if err := albtraffic.Set(ctx, p.c.ELB, tr, a.nextTG, a.liveTG, 100); err != nil {
		return err
	}
	if err := p.deregisterScaling(ctx, d.Target.Service.Cluster, a.nextName); err != nil {
		return err
	}
	p.logger(d, "rollback").Info("traffic returned; deleting new version", "service", a.nextName)
	return p.deleteService(ctx, a.next)
}

// restoreOld brings a scaled-down old slot back to the new slot's size,
// with the new slot's autoscaling, and waits until it is healthy.
func (p *Platform) restoreOld(ctx context.Context, d *reconcile.Deployment, a *pair) error {
	if a.live.DesiredCount > 0 {
		return p.ready(ctx, a.live, a.liveTG)
	}
	sc, err := p.readScaling(ctx, d.Target.Service.Cluster, a.nextName)
	if err != nil {
		return err
	}
	if sc != nil {
		if err := p.copyScaling(ctx, d.Target.Service.Cluster, a.liveName, sc); err != nil {
			return err
		}
	}
	if err := p.scaleService(ctx, a.live, max(a.next.DesiredCount, 1)); err != nil {
		return err
	}
	return reconcile.Waiting(p.requeue, "scaling %s back up before returning traffic to it", a.liveName)
}

// ready returns Waiting until the service's rollout is complete and every
// target of tg is healthy, whatever it runs.
func (p *Platform) ready(ctx context.Context, s *ecstypes.Service, tg string) error {
	if h := rolloutHealth(aws.ToString(s.ServiceName), primaryDeployment(s)); h.State != reconcile.HealthHealthy {
		return reconcile.Waiting(p.requeue, "%s", h.Reason)
	}
	ok, reason, err := albtraffic.TargetsHealthy(ctx, p.c.ELB, tg, s.DesiredCount)
	if err != nil {
		return err
	}
	if !ok {
		return reconcile.Waiting(p.requeue, "service %s: %s", aws.ToString(s.ServiceName), reason)
	}
	return nil
}
