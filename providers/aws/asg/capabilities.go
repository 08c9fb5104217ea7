package asg

import (
	"errors"
	"fmt"
	"slices"

	"github.com/jibe-dev/jibe/spec"
)

// Capabilities is what the Auto Scaling group platform deploys: groups
// refreshed in place (rolling), a new group beside the old one behind the
// same target groups (blueGreen, red/black), which needs targetGroupArns,
// or a new group in a canary target group weighed against the stable one
// (canary), which needs traffic too. Its instance refresh stops at
// checkpoints (strategy.rolling.steps). It needs no client: validation and planning ask it.
var Capabilities = spec.Capabilities{
	Platform:      spec.PlatformAutoScalingGroup,
	Noun:          "an Auto Scaling group",
	ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
	Checkpoints:   true,
	Requires:      requires,
}

// errNeedsTargetGroups is why a group without target groups cannot run
// red/black.
var errNeedsTargetGroups = errors.New("needs autoScalingGroup.targetGroupArns (the load balancer the old and new groups share)")

// errNeedsTraffic is why a group without a traffic pair cannot run a
// canary.
var errNeedsTraffic = errors.New("needs autoScalingGroup.traffic (a listener and stable/canary target groups)")

// requires returns why t cannot be deployed with kind: red/black moves
// traffic between groups through their target groups, a canary weighs
// the traffic pair's stable and canary target groups.
func requires(t *spec.Target, kind spec.StrategyKind) error {
	g := t.AutoScalingGroup
	if kind == spec.StrategyRolling || g == nil {
		return nil
	}
	if len(g.TargetGroupArns) == 0 {
		return fmt.Errorf("%w for %s", errNeedsTargetGroups, kind)
	}
	if kind != spec.StrategyCanary {
		return nil
	}
	if g.Traffic == nil {
		return fmt.Errorf("%w for canary", errNeedsTraffic)
	}
	if !slices.Contains(g.TargetGroupArns, g.Traffic.StableTargetGroupArn) {
		return fmt.Errorf("needs traffic.stableTargetGroupArn %s among targetGroupArns for canary", g.Traffic.StableTargetGroupArn)
	}
	return nil
}
