package ecs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jibe-dev/jibe/providers/aws/albtraffic"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// errNoTraffic says a strategy that shifts traffic has no traffic settings.
var errNoTraffic = errors.New("blue/green and canary strategies need the target's ecs.traffic (listener and target groups)")

// traffic returns the target's traffic settings, or a stalled error.
func traffic(d *reconcile.Deployment) (*spec.ALBTraffic, error) {
	tr := d.Target.ECS.Traffic
	if tr == nil || (tr.ListenerArn == "") == (tr.ListenerRuleArn == "") {
		return nil, reconcile.Stalled(errNoTraffic)
	}
	return tr, nil
}

// wrapIf wraps err with a message, or returns nil.
func wrapIf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// drainTime is how long in-flight requests may take to finish on tg: the
// larger of its deregistration delay and the strategy's drain time.
func (p *Platform) drainTime(ctx context.Context, d *reconcile.Deployment, tg string) (time.Duration, error) {
	var drain time.Duration
	if bg := d.Environment.Strategy.BlueGreen; bg != nil && bg.DrainTime != nil {
		drain = bg.DrainTime.Duration
	}
	delay, err := albtraffic.DeregistrationDelay(ctx, p.c.ELB, tg)
	if err != nil {
		return 0, err
	}
	return max(drain, delay), nil
}

// takeOver moves a rolling deployment's listener (or rule) to its stable
// target group when it forwards to neither target group of the traffic
// pair: the path was served by something else, such as a Lambda
// function's target group or another application's service, and now
// moves to this service. It waits (Waiting) until every target of the
// stable group is healthy, so that the path keeps answering, then records
// on the listener (or rule) what it forwarded to (tag
// awstag.ForwardedBefore, for handBack) and sends it all of the traffic. A listener that already forwards to the pair is
// the strategies' to shift and is left alone, as is a service whose file
// does not register it in the stable target group.
func (p *Platform) takeOver(ctx context.Context, d *reconcile.Deployment) error {
	tr := d.Target.ECS.Traffic
	if tr == nil || (tr.ListenerArn == "") == (tr.ListenerRuleArn == "") || !registersIn(d.Target.Service, tr.StableTargetGroupArn) {
		return nil
	}
	w, err := albtraffic.Read(ctx, p.c.ELB, tr)
	if err != nil || w[tr.StableTargetGroupArn] > 0 || w[tr.CanaryTargetGroupArn] > 0 {
		return err
	}
	s, err := p.describeService(ctx, d.Target.Service.Cluster, d.Target.Service.ServiceName)
	if err != nil {
		return err
	}
	want := int32(1)
	if s != nil {
		want = max(want, s.DesiredCount)
	}
	healthy, reason, err := albtraffic.TargetsHealthy(ctx, p.c.ELB, tr.StableTargetGroupArn, want)
	if err != nil {
		return err
	}
	if !healthy {
		return reconcile.Waiting(p.requeue, "taking over the traffic of %s once target group %s is healthy: %s",
			trafficName(tr), tr.StableTargetGroupArn, reason)
	}
	if err := p.recordForwarded(ctx, tr, w); err != nil {
		return err
	}
	if err := albtraffic.Set(ctx, p.c.ELB, tr, tr.CanaryTargetGroupArn, tr.StableTargetGroupArn, 100); err != nil {
		return err
	}
	p.logger(d, "promote").Info("took over the traffic", "of", trafficName(tr), "from", slices.Sorted(maps.Keys(w)),
		"to", tr.StableTargetGroupArn)
	return nil
}

// registersIn reports whether the service file registers the service in
// target group tg.
func registersIn(s *spec.ECSService, tg string) bool {
	for _, lb := range s.LoadBalancers {
		if lb.TargetGroupArn == tg {
			return true
		}
	}
	return false
}

// trafficName names the listener or rule of tr.
func trafficName(tr *spec.ALBTraffic) string {
	if tr.ListenerRuleArn != "" {
		return "listener rule " + tr.ListenerRuleArn
	}
	return "listener " + tr.ListenerArn
}
