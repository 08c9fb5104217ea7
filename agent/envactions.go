package agent

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jibe-dev/jibe/reconcile"
)

// actOnEnv carries out an action on one environment's rollout: abort,
// retry, promote, approve (break-glass) or rollback.
func (a *Agent) actOnEnv(req ActionRequest) (*reconcile.ActionRecord, error) {
	st, _, err := a.actionTarget(req.App, req.Env)
	if err != nil {
		return nil, err
	}
	rec := a.record(req)
	cur, err := a.opts.Journal.Current(req.App, req.Env)
	if err != nil && !errors.Is(err, reconcile.ErrNoRollout) {
		return nil, err
	}
	if cur != nil {
		rec.Rollout, rec.Revision = cur.ID, cur.Revision
	}
	switch req.Action {
	case reconcile.ActionAbort:
		err = a.abort(rec, cur)
	case reconcile.ActionRetry:
		err = a.retry(st, rec, cur)
	case reconcile.ActionPromote:
		err = a.promote(rec, cur)
	case reconcile.ActionApprove:
		err = a.approve(rec, cur)
	case reconcile.ActionRollback:
		err = a.rollbackTo(st, rec, req.To, cur)
	}
	if err != nil {
		return nil, err
	}
	a.queue.Add(st.key)
	return rec, nil
}

// notRunning refuses an action that needs a running rollout, saying what
// the environment's rollout does and which action would apply.
func notRunning(action, env string, cur *reconcile.Rollout) error {
	if cur == nil {
		return actionErr(http.StatusConflict, "%s has no rollout yet: nothing to %s", env, action)
	}
	rev := reconcile.ShortRevision(cur.Revision)
	switch {
	case cur.RollingBack && !cur.State.Final():
		return actionErr(http.StatusConflict, "the rollout of %s in %s is rolling back already (%s): nothing to %s", rev, env, cur.Reason, action)
	case cur.State == reconcile.RolloutSucceeded:
		return actionErr(http.StatusConflict, "the rollout of %s in %s has succeeded: nothing to %s; rollback --to an earlier revision applies", rev, env, action)
	case cur.State == reconcile.RolloutFailed || cur.State == reconcile.RolloutRolledBack:
		return actionErr(http.StatusConflict, "the rollout of %s in %s has ended %s (%s): nothing to %s; retry or rollback applies", rev, env, cur.State, cur.Reason, action)
	case cur.State.Final():
		return actionErr(http.StatusConflict, "the rollout of %s in %s has ended %s: nothing to %s", rev, env, cur.State, action)
	}
	return nil
}

// conflict turns the journal's refusal of an action into a 409.
func conflict(err error) error {
	if errors.Is(err, reconcile.ErrNotApplicable) {
		return actionErr(http.StatusConflict, "%s", strings.TrimPrefix(err.Error(), reconcile.ErrNotApplicable.Error()+": "))
	}
	return err
}

// abort starts rolling the running rollout back now, whatever the
// environment's rollback policy.
func (a *Agent) abort(rec *reconcile.ActionRecord, cur *reconcile.Rollout) error {
	if err := notRunning("abort", rec.Env, cur); err != nil {
		return err
	}
	if _, err := a.opts.Journal.Abort(cur.ID, *rec); err != nil {
		return conflict(err)
	}
	back := "the targets it changed return to the last good revision"
	if stable, err := a.opts.Journal.Stable(cur.AppID(), cur.Env); err == nil {
		back = "the targets it changed return to " + reconcile.ShortRevision(stable.Revision) + ", the last good revision"
	}
	rec.Message = fmt.Sprintf("aborting the rollout of %s in %s: it stops and %s (traffic first); %s is not rolled out there again until you retry it or push a new commit",
		reconcile.ShortRevision(cur.Revision), rec.Env, back, reconcile.ShortRevision(cur.Revision))
	return nil
}

// retry asks for the failed or rolled-back rollout of Git's revision to
// start again, from its first step, at the environment's next reconcile.
func (a *Agent) retry(st *appState, rec *reconcile.ActionRecord, cur *reconcile.Rollout) error {
	if cur == nil || (cur.State != reconcile.RolloutFailed && cur.State != reconcile.RolloutRolledBack) {
		what := "it has no rollout yet"
		if cur != nil {
			what = fmt.Sprintf("its rollout of %s is %s", reconcile.ShortRevision(cur.Revision), cur.State)
		}
		return actionErr(http.StatusConflict, "%s cannot be retried: %s; retry applies to a failed or rolled-back rollout", rec.Env, what)
	}
	a.mu.Lock()
	wanted := ""
	if st.revision != nil {
		wanted = st.revision.Commit
	}
	a.mu.Unlock()
	if wanted != cur.Revision {
		return actionErr(http.StatusConflict, "the failed rollout in %s is of %s, but Git now wants %s, which rolls out on its own: nothing to retry",
			rec.Env, reconcile.ShortRevision(cur.Revision), reconcile.ShortRevision(wanted))
	}
	h := reconcile.Hold{Kind: reconcile.ActionRetry, By: rec.By, At: rec.At, Reason: rec.Reason, To: cur.Revision}
	if err := a.opts.Journal.SetHold(retryKey(cur.AppID(), rec.Env), h); err != nil {
		return err
	}
	rec.Message = fmt.Sprintf("retrying %s in %s: a new rollout of it starts now, from its first step, against live state", reconcile.ShortRevision(cur.Revision), rec.Env)
	return nil
}

// retryKey is the key of a retry asked for app's environment env, in the
// journal's holds, until it starts.
func retryKey(app reconcile.AppID, env string) string {
	return "retry/" + strings.TrimPrefix(reconcile.RollbackKey(app, env), "rollback/")
}

// promote skips the running rollout's remaining pauses, and with force
// (break-glass) its verify steps and approval gates too.
func (a *Agent) promote(rec *reconcile.ActionRecord, cur *reconcile.Rollout) error {
	if err := notRunning("promote", rec.Env, cur); err != nil {
		return err
	}
	if rec.Force {
		if err := a.breakGlass(rec, cur); err != nil {
			return err
		}
	}
	pauses, gates := remaining(cur)
	if pauses == 0 && (!rec.Force || gates == 0) {
		return actionErr(http.StatusConflict, "the rollout of %s in %s has no pause left to skip (it is at step %d, %s); %s",
			reconcile.ShortRevision(cur.Revision), rec.Env, cur.Next+1, stepKind(cur), forceHint(gates))
	}
	if _, err := a.opts.Journal.Promote(cur.ID, *rec); err != nil {
		return conflict(err)
	}
	rec.Message = fmt.Sprintf("promoting the rollout of %s in %s: %d pause(s) skipped", reconcile.ShortRevision(cur.Revision), rec.Env, pauses)
	if rec.Force {
		rec.Message += fmt.Sprintf(", and %d verify step(s) and approval gate(s) skipped by break-glass", gates)
	} else {
		rec.Message += "; its verify steps and approval gates still run"
	}
	return nil
}

func forceHint(gates int) string {
	if gates == 0 {
		return "nothing to promote"
	}
	return fmt.Sprintf("%d verify step(s) and approval gate(s) remain: promote with force (break-glass) skips them", gates)
}

// remaining counts the rollout's pauses and its verify steps and
// approval gates from its current step on.
func remaining(r *reconcile.Rollout) (pauses, gates int) {
	for _, s := range r.Plan.Steps[min(r.Next, len(r.Plan.Steps)):] {
		switch s.Kind {
		case reconcile.StepPause:
			pauses++
		case reconcile.StepVerify, reconcile.StepAwaitApproval:
			gates++
		}
	}
	return pauses, gates
}

func stepKind(r *reconcile.Rollout) string {
	if r.Next < len(r.Plan.Steps) {
		return r.Plan.Steps[r.Next].Kind.String()
	}
	return "its end"
}

// approve opens the running rollout's approval gates by break-glass.
func (a *Agent) approve(rec *reconcile.ActionRecord, cur *reconcile.Rollout) error {
	if err := a.breakGlass(rec, cur); err != nil {
		return err
	}
	if err := notRunning("approve", rec.Env, cur); err != nil {
		return err
	}
	gate := false
	for _, s := range cur.Plan.Steps[min(cur.Next, len(cur.Plan.Steps)):] {
		gate = gate || s.Kind == reconcile.StepAwaitApproval
	}
	if !gate {
		return actionErr(http.StatusConflict, "the rollout of %s in %s has no approval gate left (it is at step %d, %s): nothing to approve",
			reconcile.ShortRevision(cur.Revision), rec.Env, cur.Next+1, stepKind(cur))
	}
	if _, err := a.opts.Journal.BreakGlass(cur.ID, *rec); err != nil {
		return conflict(err)
	}
	rec.Message = fmt.Sprintf("break-glass approval of %s in %s by %s: %s; the rollout goes on past its approval gate now",
		reconcile.ShortRevision(cur.Revision), rec.Env, rec.By, rec.Reason)
	return nil
}

// breakGlass checks that the configuration lets rec's token use
// break-glass in its environment, and that it gives a reason.
func (a *Agent) breakGlass(rec *reconcile.ActionRecord, cur *reconcile.Rollout) error {
	src := a.config().Source(rec.Source)
	if src == nil {
		return actionErr(http.StatusNotFound, "source %s is no longer configured", rec.Source)
	}
	if err := src.BreakGlassAllows(rec.Env, rec.By); err != nil {
		how := "get an approval the usual way: an approving review of a pull request that brings the revision"
		if cur != nil {
			how = fmt.Sprintf("get an approval the usual way: open a pull request with commit %s into the source's branch and have it reviewed as the approval rule says (GET .../rollout shows who counts)", reconcile.ShortRevision(cur.Revision))
		}
		return actionErr(http.StatusForbidden, "%v; or %s", err, how)
	}
	if rec.Reason == "" {
		return actionErr(http.StatusBadRequest, "break-glass needs a reason: send {\"reason\": \"...\"}")
	}
	return nil
}

// rollbackTo holds the environment at an earlier revision that succeeded
// there, until Git's revision of the application changes.
func (a *Agent) rollbackTo(st *appState, rec *reconcile.ActionRecord, to string, cur *reconcile.Rollout) error {
	if to == "" {
		return actionErr(http.StatusBadRequest, "rollback needs the revision to go back to: send {\"to\": \"<commit>\"}; GET .../history lists the environment's rollouts")
	}
	id := reconcile.AppID{Source: rec.Source, Name: rec.App}
	good, err := a.goodRevision(id, rec.Env, to)
	if err != nil {
		return err
	}
	if cur != nil && cur.Revision == good && !cur.State.Final() {
		return actionErr(http.StatusConflict, "%s is rolling out %s already", rec.Env, reconcile.ShortRevision(good))
	}
	a.mu.Lock()
	wanted := ""
	if st.revision != nil {
		wanted = st.revision.Commit
	}
	a.mu.Unlock()
	h := reconcile.Hold{Kind: reconcile.HoldRollback, By: rec.By, At: rec.At, Reason: rec.Reason, To: good, From: wanted}
	if err := a.opts.Journal.SetHold(reconcile.RollbackKey(id, rec.Env), h); err != nil {
		return err
	}
	rec.Revision, rec.Rollout = good, ""
	rec.Message = fmt.Sprintf("rolling %s back to %s now. Revert the change in Git too (e.g. git revert %s..%s): until the application's folder changes in Git, Jibe keeps %s at %s and does not roll forward to %s, and later environments wait; the next commit of the application rolls out as usual",
		rec.Env, reconcile.ShortRevision(good), reconcile.ShortRevision(good), reconcile.ShortRevision(wanted), rec.Env, reconcile.ShortRevision(good), reconcile.ShortRevision(wanted))
	return nil
}

// goodRevision returns the full revision of the rollout of app to env
// that succeeded whose revision starts with to; 404 for none, 400 when
// several match.
func (a *Agent) goodRevision(app reconcile.AppID, env, to string) (string, error) {
	rs, err := a.opts.Journal.History(app, env)
	if err != nil {
		return "", err
	}
	found := map[string]bool{}
	for _, r := range rs {
		if r.State == reconcile.RolloutSucceeded && strings.HasPrefix(r.Revision, to) {
			found[r.Revision] = true
		}
	}
	switch len(found) {
	case 0:
		return "", actionErr(http.StatusNotFound, "no rollout of %s to %s succeeded in %s: rollback goes back to a revision that ran there; GET .../environments/%s/history lists them", app, to, env, env)
	case 1:
		for r := range found {
			return r, nil
		}
	}
	return "", actionErr(http.StatusBadRequest, "%d revisions that ran in %s start with %s: give more of the commit", len(found), env, to)
}
