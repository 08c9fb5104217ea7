package dashboard

import (
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
)

// allStates are the states the matrix filters by, in the order offered.
var allStates = []State{StateRunning, StateWaiting, StatePending, StateFailed, StateRolledBack, StateDrift, StateSucceeded, StateSuperseded}

// Label is the state as people read it.
func (s State) Label() string {
	switch s {
	case StateWaiting:
		return "waiting"
	case StateRolledBack:
		return "rolled back"
	case StateRunning:
		return "rolling out"
	}
	return string(s)
}

// cell is one environment of one application in the matrix.
type cell struct {
	Present bool
	Env     string
	State   State
	// Revision is the short revision the environment's latest rollout is
	// of; Wanted the revision it should run, when it differs.
	Revision, Wanted string
	// Step is the step a rollout in progress is at.
	Step string
	// Note says what a waiting rollout waits for, or why one failed.
	Note    string
	Drift   bool
	Updated time.Time
}

// cellOf is the cell of an environment's view.
func cellOf(e *agent.EnvView) cell {
	c := cell{Present: true, Env: e.Name, State: stateOf(e), Revision: reconcile.ShortRevision(e.Revision),
		Step: e.Step, Drift: len(e.Drift) > 0, Updated: e.Updated}
	switch c.State {
	case StateWaiting:
		c.Note = e.Waiting
	case StateFailed, StateRolledBack, StateSuperseded:
		c.Note = e.Reason
	}
	return c
}

// stateOf is what a page says of an environment's view.
func stateOf(e *agent.EnvView) State {
	switch {
	case e.Revision == "":
		return StatePending
	case e.State == reconcile.RolloutRunning.String() && e.Waiting != "":
		return StateWaiting
	}
	switch e.State {
	case reconcile.RolloutRunning.String():
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
