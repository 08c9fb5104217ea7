package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Capabilities is what a platform declares it can deploy: the strategies it
// rolls out with and what a target needs for each. Each provider package
// exports its declaration as a plain value (ecs.Capabilities,
// kubernetes.Capabilities); the command wires the list into Load with
// WithPlatforms, and validation and planning both ask it.
type Capabilities struct {
	// Platform is the kind of target the declaration is about.
	Platform Platform
	// Noun names one target of the platform in messages, with its
	// article, e.g. "an Auto Scaling group".
	Noun string
	// ShiftsTraffic are the strategies other than rolling that the
	// platform supports. Every platform rolls out in place (rolling); in
	// these, it runs the new version beside the stable one and shifts
	// traffic between them. Planning derives from this list that a first
	// deploy (nothing runs to shift traffic from) runs rolling, and that
	// cleanup steps remove what the previous version left.
	ShiftsTraffic []StrategyKind
	// Checkpoints says the platform's rolling update can stop at
	// checkpoints (a share of instances replaced) while the engine runs
	// steps: strategy.rolling.steps are refused on other platforms.
	Checkpoints bool
	// Requires returns why target t cannot be deployed with strategy kind,
	// which the platform supports, e.g. "needs ecs.traffic (...) for
	// canary"; nil when it can. Optional.
	Requires func(t *Target, kind StrategyKind) error
}

// Supports reports whether the platform can roll out with kind.
func (c *Capabilities) Supports(kind StrategyKind) bool {
	return kind == StrategyRolling || c.Shifts(kind)
}

// Shifts reports whether the platform runs kind by shifting traffic from
// the stable version to a new one beside it. It is false for rolling, for
// strategies the platform does not support, and for a nil c.
func (c *Capabilities) Shifts(kind StrategyKind) bool {
	return c != nil && kind != StrategyRolling && slices.Contains(c.ShiftsTraffic, kind)
}

// Mode returns the mode a rollout of an environment with strategy kind
// runs in on the platform: kind, or rolling when firstDeploy (nothing runs
// yet: there is no stable version to shift traffic from or compare a
// canary with, so the first deploy rolls out at once, as Argo Rollouts
// does).
func (c *Capabilities) Mode(kind StrategyKind, firstDeploy bool) StrategyKind {
	if firstDeploy && c.Shifts(kind) {
		return StrategyRolling
	}
	return kind
}

// strategies names the strategies the platform supports, e.g. "rolling
// and blueGreen".
func (c *Capabilities) strategies() string {
	names := []string{StrategyRolling.String()}
	for _, k := range c.ShiftsTraffic {
		names = append(names, k.String())
	}
	if len(names) == 1 {
		return names[0] + " only"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// check returns why t cannot be deployed with kind on the platform, nil
// when it can.
func (c *Capabilities) check(t *Target, kind StrategyKind) error {
	if !c.Supports(kind) {
		return fmt.Errorf("is %s, which supports %s, not %s", c.Noun, c.strategies(), kind)
	}
	if c.Requires != nil {
		return c.Requires(t, kind)
	}
	return nil
}

// Platforms are the declarations of the platforms a Jibe can deploy to.
type Platforms []Capabilities

// Of returns the declaration of platform p, nil when none is.
func (ps Platforms) Of(p Platform) *Capabilities {
	for i := range ps {
		if ps[i].Platform == p {
			return &ps[i]
		}
	}
	return nil
}

// WithPlatforms declares the platforms this Jibe deploys to: every target
// must be of one of them, with a strategy its platform supports and what that strategy requires. The
// loaded App's renderings carry the declarations for planning. Without
// this option no target is checked against a platform: only tests of the
// spec alone leave it out.
func WithPlatforms(ps ...Capabilities) Option {
	return func(l *loader) { l.platforms, l.checked = slices.Clip(Platforms(ps)), true }
}
