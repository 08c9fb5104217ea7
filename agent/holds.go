package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// pausedRecheck is how often a paused environment is looked at again;
// resume re-queues it at once.
const pausedRecheck = 5 * time.Minute

// holdOf returns why environment env of app may not start or go on with
// a rollout now (a pause of the application or of its source, or an open
// freeze window) as a wait, nil when it may.
func (a *Agent) holdOf(app reconcile.AppID, env string) *reconcile.WaitingError {
	for _, key := range []string{reconcile.PauseKey(app), reconcile.PauseKey(reconcile.AppID{Source: app.Source})} {
		h, err := a.opts.Journal.Hold(key)
		if err != nil {
			return &reconcile.WaitingError{Reason: "reading the journal's pauses: " + err.Error(), RequeueAfter: pausedRecheck}
		}
		if h != nil {
			what := app.String()
			if key != reconcile.PauseKey(app) {
				what = "source " + app.Source
			}
			return &reconcile.WaitingError{Reason: pausedReason(what, h), RequeueAfter: pausedRecheck}
		}
	}
	cfg, now := a.config(), a.opts.Clock.Now()
	i, until := cfg.Frozen(app.Source, app.Name, env, now)
	if i < 0 {
		return nil
	}
	return &reconcile.WaitingError{Reason: frozenReason(&cfg.FreezeWindows[i], i, until), RequeueAfter: until.Sub(now)}
}

func pausedReason(what string, h *reconcile.Hold) string {
	s := fmt.Sprintf("paused: %s was paused by %s at %s", what, h.By, h.At.UTC().Format(time.RFC3339))
	if h.Reason != "" {
		s += " (" + h.Reason + ")"
	}
	return s + "; resume lifts the pause"
}

func frozenReason(w *config.FreezeWindow, i int, until time.Time) string {
	s := fmt.Sprintf("frozen until %s by freeze window %d (%s)", until.UTC().Format(time.RFC3339), i, w.Schedule)
	if w.Reason != "" {
		s += ": " + w.Reason
	}
	return s
}

// heldRollout is the executor's Hold: a rollout stops before its next
// step while its environment is held, but a rollback asked for through
// the API is never held.
func (a *Agent) heldRollout(r *reconcile.Rollout) *reconcile.WaitingError {
	if r.Action == reconcile.ActionRollback {
		return nil
	}
	w := a.holdOf(r.AppID(), r.Env)
	a.setHeld(r.AppID(), r.Env, w)
	return w
}

// setHeld records why an environment is held, for the views; w nil
// clears it. It reports whether the reason changed.
func (a *Agent) setHeld(app reconcile.AppID, env string, w *reconcile.WaitingError) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := driftKey(app, env)
	old := a.held[key]
	if w == nil {
		delete(a.held, key)
	} else {
		a.held[key] = w.Reason
	}
	changed := old != a.held[key]
	if st := a.byID[app]; st != nil && changed {
		st.touch()
	}
	return changed
}

// retryAsked returns the retry asked for an environment's rollout of
// revision and consumes it; nil for none.
func (a *Agent) retryAsked(app reconcile.AppID, env, revision string) *reconcile.Hold {
	key := retryKey(app, env)
	h, err := a.opts.Journal.Hold(key)
	if err != nil || h == nil {
		return nil
	}
	if err := a.opts.Journal.DeleteHold(key); err != nil || h.To != revision {
		return nil
	}
	return h
}

// heldAtRollback rolls env back to the revision a rollback action asked
// for and keeps it there while Git's revision of the application is the
// one it was when asked (commit): it reports whether the hold is in
// force, and then the outcome of the rollback's rollout. A newer commit
// ends the hold.
func (a *Agent) heldAtRollback(ctx context.Context, st *appState, l *loadedRevision, id reconcile.AppID, src *config.Source, env string, rev *sources.Revision) (bool, error) {
	key := reconcile.RollbackKey(id, env)
	h, err := a.opts.Journal.Hold(key)
	if err != nil || h == nil {
		return false, err
	}
	if h.From != rev.Commit {
		a.log.Info("a new commit ends the rollback hold", "source", id.Source, "app", id.Name, "env", env,
			"held_at", reconcile.ShortRevision(h.To), "commit", reconcile.ShortRevision(rev.Commit))
		a.setHeld(id, env, nil)
		return false, a.opts.Journal.DeleteHold(key)
	}
	a.setHeld(id, env, &reconcile.WaitingError{Reason: fmt.Sprintf("held at %s by a rollback (by %s) until a new commit of the application: revert in Git", reconcile.ShortRevision(h.To), h.By)})
	old := a.previousApp(st, l, id, env, h.To)
	if old == nil {
		return true, reconcile.Stalled(fmt.Errorf("rolling %s back: revision %s of %s cannot be read from the source any more", env, reconcile.ShortRevision(h.To), id))
	}
	r, err := old.Render(env)
	if err != nil {
		return true, reconcile.Stalled(err)
	}
	deps := deployments(a.config(), id.Source, old, r, h.To)
	a.setPrevious(st, l, id, env, h.To, deps)
	if err := checkTenancy(src, deps); err != nil {
		return true, err
	}
	if h.Rollout != "" {
		ro, err := a.opts.Journal.Get(h.Rollout)
		if err != nil {
			return true, err
		}
		_, err = a.continueRollout(ctx, ro, deps)
		return true, err
	}
	return true, a.startRollback(ctx, id, key, h, r, deps)
}

// startRollback starts the rollout of a rollback action, the current one
// superseded first.
func (a *Agent) startRollback(ctx context.Context, id reconcile.AppID, key string, h *reconcile.Hold, r *spec.Rendered, deps []*reconcile.Deployment) error {
	env := r.Environment.Name
	cur, err := a.opts.Journal.Current(id, env)
	switch {
	case err != nil && !errors.Is(err, reconcile.ErrNoRollout):
		return err
	case err == nil && !cur.State.Final():
		if _, err := a.executor.Supersede(ctx, cur, deps, h.To); err != nil {
			return err
		}
	}
	changes, err := a.diff(ctx, deps)
	if err != nil {
		return err
	}
	plan := reconcile.Build(id.Name, h.To, []reconcile.EnvInput{{Rendered: r, Changes: changes}})
	p := plan.Environments[0]
	p.Steps = withoutApprovals(p.Steps)
	ro, err := a.opts.Journal.StartAgain(id, h.To, p, reconcile.ActionRollback)
	if err != nil {
		return err
	}
	h.Rollout = ro.ID
	if err := a.opts.Journal.SetHold(key, *h); err != nil {
		return err
	}
	a.events.Emit(reconcile.RolloutEvent(reconcile.EventStarted, ro, nil,
		fmt.Sprintf("rolling back to %s (asked by %s): revert in Git; held there until a new commit", reconcile.ShortRevision(h.To), h.By)))
	_, err = a.continueRollout(ctx, ro, deps)
	return err
}
