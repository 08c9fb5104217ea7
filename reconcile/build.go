package reconcile

import (
	"github.com/jibe-dev/jibe/spec"
)

// EnvInput is what Build needs of one environment: what it deploys and
// what differs from it live.
type EnvInput struct {
	// Rendered is the environment's rendering of the revision.
	Rendered *spec.Rendered
	// Changes are the differences the providers found, in target order.
	Changes []Change
}

// Build returns the plan that deploys revision of app to envs, given in
// promotion order. It is a pure function: the same inputs always give the
// same plan. An environment without changes gets no steps.
func Build(app, revision string, envs []EnvInput) *Plan {
	p := &Plan{App: app, Revision: revision}
	for _, in := range envs {
		p.Environments = append(p.Environments, envPlan(in))
	}
	return p
}

// envPlan returns the plan of one environment, with the mode its steps run
// in: the environment's strategy, or what the platforms of the changed
// targets declare a first deploy of it runs as (see spec.Capabilities).
func envPlan(in EnvInput) EnvPlan {
	env := in.Rendered.Environment
	kind := env.Strategy.Kind()
	ep := EnvPlan{Name: env.Name, Strategy: kind.String(), Mode: kind, Changes: in.Changes}
	if len(in.Changes) == 0 {
		return ep
	}
	targets := changedTargets(in.Changes)
	ep.Mode = mode(in.Rendered, kind, firstDeploy(in.Changes), targets)
	ep.FirstDeploy = ep.Mode != kind
	ep.Steps = envSteps(env, ep.Mode, targets, shiftingTargets(in.Rendered, ep.Mode, targets), firstDeploy(in.Changes))
	return ep
}

// mode returns the mode targets of r run in with strategy kind: kind,
// unless the platform of a changed target runs a first deploy of it
// otherwise (nothing runs yet: there is no stable version to shift traffic
// from or to compare a canary with, so the first deploy rolls out at once,
// as Argo Rollouts does, verified all the same).
func mode(r *spec.Rendered, kind spec.StrategyKind, first bool, targets []string) spec.StrategyKind {
	for _, t := range targets {
		if m := r.Capabilities(t).Mode(kind, first); m != kind {
			return m
		}
	}
	return kind
}

// shiftingTargets returns the targets whose platform shifts traffic in mode:
// those that keep a previous version for cleanup steps to remove.
func shiftingTargets(r *spec.Rendered, mode spec.StrategyKind, targets []string) []string {
	var out []string
	for _, t := range targets {
		if r.Capabilities(t).Shifts(mode) {
			out = append(out, t)
		}
	}
	return out
}

// firstDeploy reports whether changes only create resources: nothing of
// the environment runs yet.
func firstDeploy(changes []Change) bool {
	for _, c := range changes {
		if c.Action != ActionCreate {
			return false
		}
	}
	return true
}

// changedTargets returns the targets that have changes, in order, once each.
func changedTargets(changes []Change) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range changes {
		if !seen[c.Target] {
			seen[c.Target] = true
			out = append(out, c.Target)
		}
	}
	return out
}

// envSteps returns the steps that roll targets out in env, in mode;
// cleanup steps remove what the previous version of the shifting targets
// left. A rolling update stops at its checkpoints unless it is the first
// deploy (nothing to replace).
func envSteps(env *spec.Environment, mode spec.StrategyKind, targets, shifting []string, first bool) []Step {
	var steps []Step
	if env.Approval != nil {
		steps = append(steps, Step{Kind: StepAwaitApproval, Approval: env.Approval})
	}
	s := env.Strategy
	switch mode {
	case spec.StrategyBlueGreen:
		steps = append(steps, blueGreenSteps(s.BlueGreen, targets)...)
	case spec.StrategyCanary:
		steps = append(steps, canarySteps(s.Canary, targets)...)
	case spec.StrategyRolling:
		if !first && s != nil && s.Rolling != nil && len(s.Rolling.Steps) > 0 {
			steps = append(steps, checkpointSteps(s.Rolling, targets)...)
			break
		}
		fallthrough
	default:
		steps = append(steps, perTarget(StepApply, targets)...)
		steps = append(steps, perTarget(StepWaitHealthy, targets)...)
		steps = append(steps, perTarget(StepPromote, targets)...)
	}
	steps = append(steps, verifySteps(env.Verify)...)
	return append(steps, cleanupSteps(s, shifting)...)
}

func perTarget(kind StepKind, targets []string) []Step {
	steps := make([]Step, len(targets))
	for i, t := range targets {
		steps[i] = Step{Kind: kind, Target: t}
	}
	return steps
}

func shiftSteps(weight spec.Percent, targets []string) []Step {
	steps := perTarget(StepShiftTraffic, targets)
	for i := range steps {
		steps[i].Weight = weight
	}
	return steps
}

func verifySteps(checks []spec.Check) []Step {
	steps := make([]Step, len(checks))
	for i := range checks {
		steps[i] = Step{Kind: StepVerify, Check: &checks[i]}
	}
	return steps
}

// blueGreenSteps start the new version beside the old, switch all traffic
// once it is healthy, then make it the stable version.
func blueGreenSteps(bg *spec.BlueGreen, targets []string) []Step {
	steps := perTarget(StepApply, targets)
	steps = append(steps, perTarget(StepWaitHealthy, targets)...)
	steps = append(steps, shiftSteps(100, targets)...)
	return append(steps, perTarget(StepPromote, targets)...)
}

// canarySteps start a canary, follow the spec's steps, then promote it.
func canarySteps(c *spec.Canary, targets []string) []Step {
	steps := perTarget(StepApply, targets)
	steps = append(steps, perTarget(StepWaitHealthy, targets)...)
	for i := range c.Steps {
		steps = append(steps, canaryStep(&c.Steps[i], targets)...)
	}
	steps = append(steps, shiftSteps(100, targets)...)
	return append(steps, perTarget(StepPromote, targets)...)
}

// checkpointSteps start a rolling update that stops at the first
// checkpoint (setWeight: the share of instances replaced), run the steps
// at each checkpoint, go on to the next, and once every instance is
// replaced (a last checkpoint at 100) wait for the targets to be healthy.
func checkpointSteps(r *spec.Rolling, targets []string) []Step {
	steps := perTarget(StepApply, targets)
	for i := range r.Steps {
		steps = append(steps, canaryStep(&r.Steps[i], targets)...)
	}
	if w := r.Steps[len(r.Steps)-1].SetWeight; w == nil || *w < 100 {
		steps = append(steps, shiftSteps(100, targets)...)
	}
	for i := range steps {
		if steps[i].Kind == StepShiftTraffic {
			steps[i].Checkpoint = true
		}
	}
	steps = append(steps, perTarget(StepWaitHealthy, targets)...)
	return append(steps, perTarget(StepPromote, targets)...)
}

func canaryStep(s *spec.CanaryStep, targets []string) []Step {
	switch s.Kind() {
	case spec.CanaryStepSetWeight:
		return shiftSteps(*s.SetWeight, targets)
	case spec.CanaryStepPause:
		return []Step{{Kind: StepPause, Duration: s.Pause.Duration.Duration}}
	case spec.CanaryStepAnalysis:
		return verifySteps(s.Analysis.Checks)
	case spec.CanaryStepApproval:
		return []Step{{Kind: StepAwaitApproval, Approval: s.Approval}}
	}
	return nil
}

// cleanupSteps remove the previous version once the new one is verified:
// after the rollback window for blue/green, at once for a canary.
func cleanupSteps(s *spec.Strategy, targets []string) []Step {
	steps := perTarget(StepCleanup, targets)
	if s != nil && s.BlueGreen != nil && s.BlueGreen.RollbackWindow != nil {
		for i := range steps {
			steps[i].Duration = s.BlueGreen.RollbackWindow.Duration
		}
	}
	return steps
}
