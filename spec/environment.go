package spec

import (
	"fmt"
	"math"
)

// Environment is one stage of the promotion, such as staging or production.
type Environment struct {
	// Name identifies the environment in commit statuses and tags, e.g.
	// "staging".
	Name string `json:"name" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
	// AWS is where AWS targets deploy: required when the application has
	// ECS, Lambda or Auto Scaling group targets.
	AWS *AWSPlacement `json:"aws,omitempty"`
	// Kubernetes is where Kubernetes targets deploy: required when the
	// application has Kubernetes targets.
	Kubernetes *KubernetesPlacement `json:"kubernetes,omitempty"`
	// Targets limits the environment to some targets, by name. Default: all.
	Targets []string `json:"targets,omitempty"`
	// Variables set ${vars.<name>} placeholders for this environment,
	// overriding the application's variables.
	Variables map[string]string `json:"variables,omitempty"`
	// Strategy is how a new revision replaces the running one. Default
	// rolling.
	Strategy *Strategy `json:"strategy,omitempty"`
	// Verify are checks run after the rollout. A failure fails the rollout
	// and triggers the rollback policy; the next environment starts only
	// after they pass.
	Verify []Check `json:"verify,omitempty"`
	// Approval, when set, holds the rollout until the pull request that
	// brought the revision has enough approving reviews.
	Approval *Approval `json:"approval,omitempty"`
	// Rollback is automatic (default) or manual: what happens when the
	// rollout or its verification fails.
	Rollback RollbackPolicy `json:"rollback,omitempty" jsonschema:"enum=automatic,enum=manual"`
	// FirstDeployFailure is what an automatic rollback does with a target
	// that ran nothing before the failed rollout, so that there is no
	// earlier version to return to: remove (default) deletes what the
	// rollout created (the Kubernetes objects of its inventory; the ECS
	// service, its autoscaling and the task definition registered for it),
	// keep leaves it in place for inspection. Either way the rollout ends
	// failed and its commit status says what was done.
	FirstDeployFailure FirstDeployPolicy `json:"firstDeployFailure,omitempty" jsonschema:"enum=remove,enum=keep"`
	// RollbackTimeout is how long an automatic rollback waits for the
	// restored version to be healthy again (traffic is returned to it
	// first). Past it the rollout ends failed, saying which target is not
	// healthy. Default 10m.
	RollbackTimeout *Duration `json:"rollbackTimeout,omitempty"`
}

// AWSPlacement names the AWS account and region of an environment.
type AWSPlacement struct {
	// Account is the name of an account in the agent configuration.
	Account string `json:"account" jsonschema:"required"`
	// Region overrides the account's default region.
	Region string `json:"region,omitempty"`
}

// KubernetesPlacement names the cluster and namespace of an environment.
type KubernetesPlacement struct {
	// Cluster is the name of a cluster in the agent configuration.
	Cluster string `json:"cluster" jsonschema:"required"`
	// Namespace overrides the targets' default namespace.
	Namespace string `json:"namespace,omitempty"`
}

// RollbackPolicy says what happens when a rollout fails.
type RollbackPolicy string

// The rollback policies.
const (
	// RollbackAutomatic restores traffic and the previous revision at once.
	RollbackAutomatic RollbackPolicy = "automatic"
	// RollbackManual leaves traffic on the stable version and the failed
	// revision in place for inspection, and reports the failure.
	RollbackManual RollbackPolicy = "manual"
)

// FirstDeployPolicy says what an automatic rollback does with a target
// that has no earlier version to return to.
type FirstDeployPolicy string

// The first-deploy failure policies.
const (
	// FirstDeployRemove deletes what the failed rollout created.
	FirstDeployRemove FirstDeployPolicy = "remove"
	// FirstDeployKeep leaves the failed version in place for inspection.
	FirstDeployKeep FirstDeployPolicy = "keep"
)

// Strategy is how a new revision replaces the running one. At most one of
// its fields is set; none means rolling.
type Strategy struct {
	// Rolling replaces instances in place (ECS rolling update, Kubernetes
	// RollingUpdate, Auto Scaling instance refresh, Lambda all at once).
	Rolling *Rolling `json:"rolling,omitempty"`
	// BlueGreen starts the new version next to the old one, switches all
	// traffic once it is healthy, drains the old one and keeps it for a
	// rollback window.
	BlueGreen *BlueGreen `json:"blueGreen,omitempty"`
	// Canary shifts traffic to the new version in steps.
	Canary *Canary `json:"canary,omitempty"`
}

// StrategyKind names a strategy.
type StrategyKind int

// The strategies.
const (
	StrategyUnknown StrategyKind = iota
	StrategyRolling
	StrategyBlueGreen
	StrategyCanary
)

// String returns the strategy's field name in the spec.
func (k StrategyKind) String() string {
	switch k {
	case StrategyRolling:
		return "rolling"
	case StrategyBlueGreen:
		return "blueGreen"
	case StrategyCanary:
		return "canary"
	}
	return "unknown"
}

// MarshalText writes the strategy's name, as plans show a step's mode.
func (k StrategyKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a strategy's name.
func (k *StrategyKind) UnmarshalText(b []byte) error {
	for c := StrategyRolling; c <= StrategyCanary; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("unknown strategy %q; use rolling, blueGreen or canary", b)
}

// Kind returns the strategy in use: rolling when s is nil or empty, and
// StrategyUnknown when several are set.
func (s *Strategy) Kind() StrategyKind {
	if s == nil {
		return StrategyRolling
	}
	kinds := oneOf(s.Rolling != nil, s.BlueGreen != nil, s.Canary != nil)
	switch len(kinds) {
	case 0:
		return StrategyRolling
	case 1:
		return StrategyKind(kinds[0] + 1)
	}
	return StrategyUnknown
}

// Rolling is the platform's native rolling update; the target files tune
// it (e.g. ECS deploymentConfiguration, autoScalingGroup.instanceRefresh).
type Rolling struct {
	// Steps stop the update at checkpoints, on platforms whose rolling
	// update can (Auto Scaling groups: instance refresh checkpoints):
	// setWeight is the share of instances replaced at which the update
	// stops; the pause, analysis and approval steps after it run there,
	// before the update goes on to the next setWeight. After the last step
	// every instance is replaced. Weights must increase, up to 100. A first
	// deploy (nothing to replace) runs without steps.
	Steps []CanaryStep `json:"steps,omitempty"`
}

// Steps returns the steps of the strategy in use: the canary's, or the
// rolling update's checkpoints; none for blue/green or a nil s.
func (s *Strategy) Steps() []CanaryStep {
	switch {
	case s == nil:
		return nil
	case s.Canary != nil:
		return s.Canary.Steps
	case s.Rolling != nil:
		return s.Rolling.Steps
	}
	return nil
}

// StepsField is the spec field of Steps, relative to the environment, e.g.
// "strategy.canary.steps".
func (s *Strategy) StepsField() string {
	if s != nil && s.Canary == nil && s.Rolling != nil {
		return "strategy.rolling.steps"
	}
	return "strategy.canary.steps"
}

// BlueGreen configures a blue/green switch.
type BlueGreen struct {
	// DrainTime is how long to keep sending in-flight requests to the old
	// version after the switch before scaling it down. Default: the target
	// group's deregistration delay.
	DrainTime *Duration `json:"drainTime,omitempty"`
	// RollbackWindow is how long the old version is kept, scaled down but
	// ready, for an instant rollback. Default 10m.
	RollbackWindow *Duration `json:"rollbackWindow,omitempty"`
}

// Canary configures a canary rollout: steps, or the linear shorthand.
type Canary struct {
	// Steps run in order. After the last step the canary is promoted to
	// 100%. Set steps or linear.
	Steps []CanaryStep `json:"steps,omitempty"`
	// Linear shifts traffic by the same share at each interval: it stands
	// for the steps setWeight stepWeight, pause interval, setWeight
	// 2×stepWeight, pause interval... up to the last weight below 100, then
	// promotion. Not with steps.
	Linear *Linear `json:"linear,omitempty"`

	// expanded is set when Steps were expanded from Linear.
	expanded bool
}

// Linear is the shorthand of a canary that adds stepWeight percent of
// traffic every interval.
type Linear struct {
	// StepWeight is the share added at each step, from 1 to 99.
	StepWeight Percent `json:"stepWeight" jsonschema:"required"`
	// Interval is the pause after each step, above zero.
	Interval Duration `json:"interval" jsonschema:"required"`
}

// Steps returns the canary steps l stands for: setWeight k×stepWeight and
// a pause of interval, for every k whose weight is below 100; none when l
// is not valid (validation reports it).
func (l Linear) Steps() []CanaryStep {
	if l.StepWeight < 1 || l.StepWeight > 99 || l.Interval.Duration <= 0 {
		return nil
	}
	var steps []CanaryStep
	for k := 1; ; k++ {
		w := Percent(math.Round(float64(l.StepWeight)*float64(k)*100) / 100)
		if w >= 100 {
			return steps
		}
		steps = append(steps, CanaryStep{SetWeight: &w}, CanaryStep{Pause: &Pause{Duration: l.Interval}})
	}
}

// CanaryStep is one step of a canary. Exactly one field is set.
type CanaryStep struct {
	// SetWeight sends this share of traffic to the new version. Weights
	// must increase from step to step.
	SetWeight *Percent `json:"setWeight,omitempty"`
	// Pause waits before the next step.
	Pause *Pause `json:"pause,omitempty"`
	// Analysis runs checks against the canary; a failure aborts the canary.
	Analysis *Analysis `json:"analysis,omitempty"`
	// Approval waits for approving pull-request reviews.
	Approval *Approval `json:"approval,omitempty"`
}

// CanaryStepKind names a canary step.
type CanaryStepKind int

// The kinds of canary step.
const (
	CanaryStepUnknown CanaryStepKind = iota
	CanaryStepSetWeight
	CanaryStepPause
	CanaryStepAnalysis
	CanaryStepApproval
)

// String returns the step's field name in the spec.
func (k CanaryStepKind) String() string {
	switch k {
	case CanaryStepSetWeight:
		return "setWeight"
	case CanaryStepPause:
		return "pause"
	case CanaryStepAnalysis:
		return "analysis"
	case CanaryStepApproval:
		return "approval"
	}
	return "unknown"
}

// Kind returns the step's kind, or CanaryStepUnknown when none or several
// fields are set.
func (s *CanaryStep) Kind() CanaryStepKind {
	kinds := oneOf(s.SetWeight != nil, s.Pause != nil, s.Analysis != nil, s.Approval != nil)
	if len(kinds) != 1 {
		return CanaryStepUnknown
	}
	return CanaryStepKind(kinds[0] + 1)
}

// Pause waits for a while.
type Pause struct {
	// Duration is how long to wait.
	Duration Duration `json:"duration" jsonschema:"required"`
}

// Analysis runs checks during a canary.
type Analysis struct {
	// Checks must all pass for the canary to go on.
	Checks []Check `json:"checks" jsonschema:"required,minItems=1"`
}
