package spec_test

import (
	"errors"
	"fmt"

	"github.com/jibe-dev/jibe/spec"
)

// The platforms' declarations, written as their providers write them
// (providers/aws/ecs, providers/aws/lambda, providers/kubernetes), so that
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
	// builtin declares the platforms as cmd/jibe wires them.
	builtin = spec.WithPlatforms(ecsCaps, lambdaCaps, kubeCaps)
)

// ecsRequires is the ECS platform's rule: a strategy that shifts traffic
// needs the load balancer wiring to shift it on.
func ecsRequires(t *spec.Target, kind spec.StrategyKind) error {
	if kind != spec.StrategyRolling && (t.ECS == nil || t.ECS.Traffic == nil) {
		return fmt.Errorf("%w for %s", errors.New("needs ecs.traffic (a listener and stable/canary target groups)"), kind)
	}
	return nil
}
