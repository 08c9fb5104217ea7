package asg

import (
	"errors"
	"fmt"

	"github.com/jibe-dev/jibe/spec"
)

// Capabilities is what the Auto Scaling group platform deploys: groups
// refreshed in place (rolling), or a new group beside the old one behind
// the same target groups (blueGreen, red/black), which needs
// targetGroupArns. It needs no client: validation and planning ask it.
var Capabilities = spec.Capabilities{
	Platform:      spec.PlatformAutoScalingGroup,
	Noun:          "an Auto Scaling group",
	ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen},
	Requires:      requires,
}

// errNeedsTargetGroups is why a group without target groups cannot run
// red/black.
var errNeedsTargetGroups = errors.New("needs autoScalingGroup.targetGroupArns (the load balancer the old and new groups share)")

// requires returns why t cannot be deployed with kind: red/black moves
// traffic between groups through their target groups.
func requires(t *spec.Target, kind spec.StrategyKind) error {
	if kind == spec.StrategyBlueGreen && (t.AutoScalingGroup == nil || len(t.AutoScalingGroup.TargetGroupArns) == 0) {
		return fmt.Errorf("%w for %s", errNeedsTargetGroups, kind)
	}
	return nil
}
