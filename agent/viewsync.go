package agent

import (
	"github.com/jibe-dev/jibe/reconcile"
)

// maxApprovals bounds the approvals kept for the history.
const maxApprovals = 10000

// noteForViews keeps the views in step with an event: the environment's
// journal record is read again, an approval's outcome is kept for the
// history, and the event goes to the live stream.
func (a *Agent) noteForViews(e reconcile.Event) {
	a.touchID(e.App)
	if e.Rollout != nil {
		a.rollouts.forget(e.App, e.Env)
		if e.Kind == reconcile.EventStepDone && e.Step != nil && e.Step.Kind == reconcile.StepAwaitApproval {
			a.mu.Lock()
			if len(a.approvals) >= maxApprovals {
				clear(a.approvals)
			}
			a.approvals[e.Rollout.ID] = e.Message
			a.mu.Unlock()
		}
	}
	a.feed.publish(eventView(e, a.opts.Clock.Now()))
}

// reconciled reads the journal records of the application of key again
// at the next view: every journal write happens during a reconcile.
func (a *Agent) reconciled(key string) {
	a.mu.Lock()
	st := a.apps[key]
	var id reconcile.AppID
	var envs []string
	if st != nil {
		id = st.id()
		envs = a.envs[id]
		st.touch()
	}
	a.mu.Unlock()
	if st != nil {
		a.rollouts.forget(id, envs...)
	}
}
