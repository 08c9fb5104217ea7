package ecs

import (
	"context"
	"errors"
	"fmt"
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
