package spec_test

import (
	"errors"
	"fmt"
	"slices"

	"github.com/jibe-dev/jibe/spec"
)

// The platforms' declarations, written as their providers write them
// (providers/aws/ecs, providers/aws/lambda, providers/kubernetes,
// providers/aws/asg), so that
// spec's tests, and the fuzz targets built with them, link neither the
// providers nor their SDKs. The providers' own tests check their
// declarations' rules; these check what spec does with declarations.
var (
	ecsCaps = spec.Capabilities{
		Platform:      spec.PlatformECS,
		Noun:          "an ECS service",
		ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
		Requires:      ecsRequires,
	}
	lambdaCaps = spec.Capabilities{
		Platform:      spec.PlatformLambda,
		Noun:          "a Lambda function",
		ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
	}
	kubeCaps = spec.Capabilities{
		Platform:      spec.PlatformKubernetes,
		Noun:          "a Kubernetes target",
		ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
	}
	asgCaps = spec.Capabilities{
		Platform:      spec.PlatformAutoScalingGroup,
		Noun:          "an Auto Scaling group",
		ShiftsTraffic: []spec.StrategyKind{spec.StrategyBlueGreen, spec.StrategyCanary},
		Checkpoints:   true,
		Requires:      asgRequires,
	}
	// builtin declares the platforms as cmd/jibe wires them.
	builtin = spec.WithPlatforms(ecsCaps, lambdaCaps, kubeCaps, asgCaps)
)

// ecsRequires is the ECS platform's rule: a strategy that shifts traffic
// needs the load balancer wiring to shift it on.
func ecsRequires(t *spec.Target, kind spec.StrategyKind) error {
	if kind != spec.StrategyRolling && (t.ECS == nil || t.ECS.Traffic == nil) {
		return fmt.Errorf("%w for %s", errors.New("needs ecs.traffic (a listener and stable/canary target groups)"), kind)
	}
	return nil
}

// asgRequires is the Auto Scaling group platform's rule: red/black moves
// traffic through the groups' target groups, a canary weighs the traffic
// pair's stable and canary target groups.
func asgRequires(t *spec.Target, kind spec.StrategyKind) error {
	g := t.AutoScalingGroup
	switch {
	case kind == spec.StrategyRolling || g == nil:
		return nil
	case len(g.TargetGroupArns) == 0:
		return fmt.Errorf("needs autoScalingGroup.targetGroupArns (the load balancer the old and new groups share) for %s", kind)
	case kind != spec.StrategyCanary:
		return nil
	case g.Traffic == nil:
		return errors.New("needs autoScalingGroup.traffic (a listener and stable/canary target groups) for canary")
	case !slices.Contains(g.TargetGroupArns, g.Traffic.StableTargetGroupArn):
		return fmt.Errorf("needs traffic.stableTargetGroupArn %s among targetGroupArns for canary", g.Traffic.StableTargetGroupArn)
	}
	return nil
}
