// Package reconcile turns a revision of an application into a plan and
// carries it out, environment by environment.
//
// The work is split into steps that can each be tested alone: providers
// observe live state and diff it against the rendered spec (a pure function
// of the two), Build turns the diffs into a Plan (a value: environments in
// order, each a list of typed steps and the mode they run in), and the
// executor runs the plan, journaling every step so that a restarted agent
// resumes where it stopped. An environment's plan is built when its turn
// comes and journaled; that value is what runs, what the API shows and
// what statuses report, and nothing downstream re-derives it (providers
// receive the mode). `jibe plan` and pull-request previews print the same
// kind of value, built against live state at that moment.
package reconcile

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/spec"
)

// Plan is what a revision of an application changes, environment by
// environment, and the steps that make the change.
type Plan struct {
	// App is the application's name.
	App string `json:"app"`
	// Revision is the Git commit the plan deploys.
	Revision string `json:"revision"`
	// Environments are in promotion order.
	Environments []EnvPlan `json:"environments"`
}

// EnvPlan is the plan of one environment.
type EnvPlan struct {
	// Name is the environment's name.
	Name string `json:"name"`
	// Strategy is the environment's strategy, as its spec names it.
	Strategy string `json:"strategy"`
	// Mode is the mode every step of the plan runs in, which the executor
	// gives the platforms (Deployment.Mode): the strategy, or rolling for
	// a first deploy of a strategy that shifts traffic. Plans journaled
	// before plans carried it get it from Strategy and FirstDeploy when
	// read.
	Mode spec.StrategyKind `json:"mode,omitzero"`
	// FirstDeploy is set when nothing of the environment runs yet and the
	// mode differs from the strategy: a canary or blue/green environment
	// then rolls out at once, as there is no stable version to shift
	// traffic from or compare with.
	FirstDeploy bool `json:"firstDeploy,omitempty"`
	// Changes are the resources the revision creates, updates, replaces or
	// deletes, per target. Empty when the environment is in sync.
	Changes []Change `json:"changes,omitempty"`
	// Steps carry the changes out, in order. Empty when there is nothing to
	// do: an in-sync environment makes no write call.
	Steps []Step `json:"steps,omitempty"`
}

// UnmarshalJSON reads an environment's plan. A plan journaled before plans
// carried their mode gets the mode it ran in: rolling for a first deploy,
// its strategy otherwise.
func (e *EnvPlan) UnmarshalJSON(b []byte) error {
	type plain EnvPlan
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	if e.Mode == spec.StrategyUnknown {
		e.Mode = legacyMode(e)
	}
	return nil
}

// legacyMode is the mode a plan without one ran in, StrategyUnknown when
// its strategy is unknown.
func legacyMode(e *EnvPlan) spec.StrategyKind {
	if e.FirstDeploy {
		return spec.StrategyRolling
	}
	var k spec.StrategyKind
	if k.UnmarshalText([]byte(e.Strategy)) != nil {
		return spec.StrategyUnknown
	}
	return k
}

// InSync reports whether the environment already runs the revision.
func (e *EnvPlan) InSync() bool { return len(e.Changes) == 0 }

// Action is what a change does to a resource.
type Action int

// The actions, in the order a plan lists them.
const (
	ActionCreate Action = iota + 1
	ActionUpdate
	// ActionReplace deletes and recreates a resource because a field that
	// cannot be updated in place changed (Change.Reason says which).
	ActionReplace
	ActionDelete
)

// String returns the action's name as plans show it.
func (a Action) String() string {
	switch a {
	case ActionCreate:
		return "create"
	case ActionUpdate:
		return "update"
	case ActionReplace:
		return "replace"
	case ActionDelete:
		return "delete"
	}
	return "unknown"
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	for c := Action(0); c <= ActionDelete; c++ {
		if c.String() == string(b) {
			*a = c
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}

// Change is one resource that differs from Git.
type Change struct {
	// Target is the spec target the resource belongs to.
	Target string `json:"target"`
	// Resource identifies the resource, e.g. "ECS service checkout" or
	// "apps/v1 Deployment guestbook/frontend".
	Resource string `json:"resource"`
	// Action is what the rollout does to it.
	Action Action `json:"action"`
	// Fields are the fields that differ (for updates and replacements).
	Fields []FieldChange `json:"fields,omitempty"`
	// Reason explains a replacement or a deletion.
	Reason string `json:"reason,omitempty"`
}

// FieldChange is one field that differs between live state and Git.
type FieldChange struct {
	// Path is the field's path, e.g. containerDefinitions[0].image.
	Path string `json:"path"`
	// Live is the running value, empty when the field is added.
	Live string `json:"live,omitempty"`
	// Desired is Git's value, empty when the field is removed.
	Desired string `json:"desired,omitempty"`
}

// StepKind is the kind of a plan step.
type StepKind int

// The kinds of step.
const (
	// StepAwaitApproval holds the rollout until the approval rule is met.
	StepAwaitApproval StepKind = iota + 1
	// StepApply writes the new version of a target's resources (for canary
	// and blue/green, beside the stable version).
	StepApply
	// StepWaitHealthy waits until the new version is healthy.
	StepWaitHealthy
	// StepShiftTraffic sends Weight percent of traffic to the new version
	// or, for a Checkpoint, replaces Weight percent of the instances.
	StepShiftTraffic
	// StepPause waits for Duration.
	StepPause
	// StepVerify runs a check against the new version.
	StepVerify
	// StepPromote makes the new version the stable one and prunes what the
	// revision no longer has (for every strategy, rolling included).
	StepPromote
	// StepCleanup removes what the previous version left, after Duration
	// (a blue/green rollback window).
	StepCleanup
	// StepRollback returns traffic and resources to the previous revision.
	// It is not planned up front: the executor runs it when a step fails and
	// the environment's rollback policy is automatic.
	StepRollback
)

// String returns the step kind's name as plans show it.
func (k StepKind) String() string {
	switch k {
	case StepAwaitApproval:
		return "await-approval"
	case StepApply:
		return "apply"
	case StepWaitHealthy:
		return "wait-healthy"
	case StepShiftTraffic:
		return "shift-traffic"
	case StepPause:
		return "pause"
	case StepVerify:
		return "verify"
	case StepPromote:
		return "promote"
	case StepCleanup:
		return "cleanup"
	case StepRollback:
		return "rollback"
	}
	return "unknown"
}

// MarshalText writes the step kind's name.
func (k StepKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a step kind's name.
func (k *StepKind) UnmarshalText(b []byte) error {
	for c := StepKind(0); c <= StepRollback; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("unknown step kind %q", b)
}

// Step is one step of an environment's plan. Which fields are set depends
// on Kind.
type Step struct {
	// Kind is what the step does.
	Kind StepKind `json:"kind"`
	// Target is the target the step acts on; empty for steps about the
	// whole environment (approval, pause, verify).
	Target string `json:"target,omitempty"`
	// Weight is the new version's share of traffic (StepShiftTraffic).
	Weight spec.Percent `json:"weight,omitempty"`
	// Checkpoint says Weight is a checkpoint of a rolling update: the
	// share of instances replaced at which it stops while the next steps
	// run (strategy.rolling.steps).
	Checkpoint bool `json:"checkpoint,omitempty"`
	// Duration is how long a StepPause waits, or how long a StepCleanup
	// waits first.
	Duration time.Duration `json:"duration,omitempty"`
	// Check is what a StepVerify measures.
	Check *spec.Check `json:"check,omitempty"`
	// Approval is the rule a StepAwaitApproval waits for.
	Approval *spec.Approval `json:"approval,omitempty"`
}
