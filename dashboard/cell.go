package dashboard

import (
	"strconv"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

// State is what a page says of an environment, one word that its colour
// follows.
type State string

// The states a page shows. Every cell has one; drift is shown beside it.
const (
	StatePending    State = "pending"
	StateRunning    State = "running"
	StateWaiting    State = "waiting"
	StateSucceeded  State = "succeeded"
	StateFailed     State = "failed"
	StateRolledBack State = "rolled-back"
	StateSuperseded State = "superseded"
	StateDrift      State = "drift"
	StateError      State = "error"
)

// allStates are the states the matrix filters by, in the order offered.
var allStates = []State{StateRunning, StateWaiting, StatePending, StateFailed, StateRolledBack, StateDrift, StateError, StateSucceeded, StateSuperseded}

// Label is the state as people read it.
func (s State) Label() string {
	switch s {
	case StateWaiting:
		return "waiting for approval"
	case StateRolledBack:
		return "rolled back"
	case StateRunning:
		return "rolling out"
	case StateSucceeded:
		return "in sync"
	case StateError:
		return "not reconciled"
	}
	return string(s)
}

// cell is one environment of one application in the matrix.
type cell struct {
	Present bool
	Env     string
	State   State
	// Label is State's label.
	Label string
	// Running is the version that runs ("" when nothing ever succeeded
	// there); Wanted the one Git wants, when it differs.
	Running, Wanted version
	// Progress says where a rollout stands: "step 3/6 · verify · 20%".
	Progress string
	// Note says what a waiting rollout waits for, why one failed, or
	// which environment a pending one waits for.
	Note      string
	Instances string
	// Unhealthy is set when an observed instance is unhealthy.
	Unhealthy bool
	Drift     bool
	Updated   time.Time
}

// version is a revision as pages show it: the artifacts' versions (image
// tags...) first, the short commit after.
type version struct {
	Revision, Short string
	Artifacts       string
	PullRequest     int
}

// versionOf is how a page shows v; zero for nil.
func versionOf(v *agent.VersionView) version {
	if v == nil || v.Revision == "" {
		return version{}
	}
	out := version{Revision: v.Revision, Short: reconcile.ShortRevision(v.Revision), PullRequest: v.PullRequest}
	var parts []string
	for _, a := range v.Artifacts {
		if a.Version != "" {
			parts = append(parts, a.Version)
		}
	}
	out.Artifacts = strings.Join(uniqStrings(parts), ", ")
	return out
}

// cellOf is the cell of an environment's view.
func cellOf(e *agent.EnvView) cell {
	c := cell{Present: true, Env: e.Name, State: stateOf(e), Running: versionOf(e.Running), Drift: len(e.Drift) > 0, Updated: e.Updated}
	c.Label = c.State.Label()
	if e.Running == nil && e.Revision != "" {
		c.Running = version{Revision: e.Revision, Short: reconcile.ShortRevision(e.Revision)}
	}
	if c.Running.Short == "" {
		c.Running.Short = "—"
	}
	if w := versionOf(e.Wanted); w.Revision != "" && w.Revision != c.Running.Revision {
		c.Wanted = w
	}
	c.Progress = progress(e)
	c.Note = note(e, c.State)
	c.Instances, c.Unhealthy = instances(e.Targets)
	return c
}

// progress says where an environment's rollout in progress stands.
func progress(e *agent.EnvView) string {
	r := e.Rollout
	if r == nil || r.State != reconcile.RolloutRunning.String() || r.Step < 0 {
		return e.Step
	}
	s := "step " + strconv.Itoa(r.Step+1) + "/" + strconv.Itoa(r.Steps)
	if e.Step != "" {
		s += " · " + e.Step
	}
	if r.Weight != nil {
		s += " · " + percent(*r.Weight)
	}
	return s
}

// note is the one line a cell says besides its state.
func note(e *agent.EnvView, s State) string {
	switch s {
	case StateWaiting, StateRunning:
		return e.Waiting
	case StatePending:
		if e.PendingOn != "" {
			return "after " + e.PendingOn
		}
	case StateFailed, StateRolledBack, StateSuperseded:
		return e.Reason
	}
	return ""
}

// instances sums the targets' instances: "3/3" (running of desired),
// and whether any is unhealthy; "" when no platform counted any.
func instances(targets []agent.TargetView) (string, bool) {
	var running, desired, unhealthy int
	counted := false
	for _, t := range targets {
		if t.Instances == nil {
			continue
		}
		counted = true
		running, desired, unhealthy = running+t.Instances.Running, desired+t.Instances.Desired, unhealthy+t.Instances.Unhealthy
	}
	if !counted {
		return "", false
	}
	return strconv.Itoa(running) + "/" + strconv.Itoa(desired), unhealthy > 0
}

// stateOf is what a page says of an environment's view.
func stateOf(e *agent.EnvView) State {
	switch e.State {
	case reconcile.RolloutRunning.String():
		// Waiting is for people: an approval. A pause or an analysis
		// between its readings is a rollout running.
		if e.Step == reconcile.StepAwaitApproval.String() {
			return StateWaiting
		}
		return StateRunning
	case reconcile.RolloutSucceeded.String():
		return StateSucceeded
	case reconcile.RolloutFailed.String():
		return StateFailed
	case reconcile.RolloutRolledBack.String():
		return StateRolledBack
	case reconcile.RolloutSuperseded.String():
		return StateSuperseded
	}
	return StatePending
}

// percent writes a weight: "20%", "12.5%".
func percent(w float64) string {
	return strconv.FormatFloat(w, 'f', -1, 64) + "%"
}

// uniqStrings drops repeated strings, keeping the first of each.
func uniqStrings(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
