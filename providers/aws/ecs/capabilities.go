package ecs

import (
	"errors"
	"fmt"

	"github.com/jibe-dev/jibe/spec"
)

// Capabilities is what the ECS platform deploys: services rolled in place
// (rolling), or beside the stable service with traffic shifted on an
// Application Load Balancer (blueGreen, canary), which needs ecs.traffic.
// It needs no client: validation and planning ask it.
var Capabilities = spec.Capabilities{
	Platform:      spec.PlatformECS,
	Noun:          "an ECS service",
	ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
	Requires:      requires,
}

// errNeedsTraffic is why an ECS target without ecs.traffic cannot shift
// traffic.
var errNeedsTraffic = errors.New("needs ecs.traffic (a listener and stable/canary target groups)")

// requires returns why t cannot be deployed with kind: a strategy that
// shifts traffic needs the load balancer wiring to shift it on.
func requires(t *spec.Target, kind spec.StrategyKind) error {
	if kind != spec.StrategyRolling && (t.ECS == nil || t.ECS.Traffic == nil) {
		return fmt.Errorf("%w for %s", errNeedsTraffic, kind)
	}
	return nil
}
