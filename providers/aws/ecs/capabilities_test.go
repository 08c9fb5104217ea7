package ecs

import (
	"errors"
	"testing"

	"github.com/jibe-dev/jibe/spec"
)

// A strategy that shifts traffic needs ecs.traffic; rolling does not.
func TestCapabilitiesRequireTraffic(t *testing.T) {
	bare := &spec.Target{Name: "web", ECS: &spec.ECSTarget{}}
	wired := &spec.Target{Name: "web", ECS: &spec.ECSTarget{Traffic: &spec.ALBTraffic{}}}
	for _, tc := range []struct {
		target *spec.Target
		kind   spec.StrategyKind
		want   error
	}{
		{bare, spec.StrategyRolling, nil},
		{bare, spec.StrategyCanary, errNeedsTraffic},
		{bare, spec.StrategyBlueGreen, errNeedsTraffic},
		{wired, spec.StrategyCanary, nil},
		{wired, spec.StrategyBlueGreen, nil},
	} {
		if err := Capabilities.Requires(tc.target, tc.kind); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("traffic %v, %s: %v, want %v", tc.target.ECS.Traffic != nil, tc.kind, err, tc.want)
		}
	}
}
