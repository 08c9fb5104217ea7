package reconcile

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The actions people take through the API (docs/api.md), as journaled in
// ActionRecord.Action.
const (
	ActionAbort    = "abort"
	ActionRetry    = "retry"
	ActionPromote  = "promote"
	ActionApprove  = "approve"
	ActionRollback = "rollback"
	ActionPause    = "pause"
	ActionResume   = "resume"
	ActionRefresh  = "refresh"
)

// ActionRecord is one action a person took: who (the API token's name),
// when, on what and why, and what Jibe does about it.
type ActionRecord struct {
	// Action is what was done: abort, retry, promote, approve, rollback,
	// pause, resume or refresh.
	Action string `json:"action"`
	// Source is the source acted on, or the application's source; App
	// the application ("" for a whole source); Env the environment (""
	// for a whole application).
	Source string `json:"source"`
	App    string `json:"app,omitempty"`
	Env    string `json:"env,omitempty"`
	// By is the name of the API token the action came with.
	By string    `json:"by"`
	At time.Time `json:"at"`
	// Reason is why, as given; Message what Jibe does now.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
	// Revision is the revision concerned (the one rolled back to, for a
	// rollback); Rollout the ID of the rollout acted on, if any.
	Revision string `json:"revision,omitempty"`
	Rollout  string `json:"rollout,omitempty"`
	// Force marks a promotion that skips verify steps and approval gates
	// (break-glass).
	Force bool `json:"force,omitempty"`
}

// Hold keeps an application (or a whole source) from rolling out: a
// pause (a deploy freeze asked through the API) or, for one environment,
// a rollback to an earlier revision that stays in force until Git's
// revision of the application changes.
type Hold struct {
	// Kind is "pause" or "rollback".
	Kind   string    `json:"kind"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
	// To is the revision a rollback holds the environment at; From the
	// revision Git wanted when the rollback was asked for: a newer one
	// ends the hold. Rollout is the ID of the rollback's rollout once it
	// has started.
	To      string `json:"to,omitempty"`
	From    string `json:"from,omitempty"`
	Rollout string `json:"rollout,omitempty"`
}

// The kinds of Hold.
const (
	HoldPause    = "pause"
	HoldRollback = "rollback"
)

// PauseKey is the key of the pause of app (a whole source when app.Name
// is "") in the journal's holds.
func PauseKey(app AppID) string {
	if app.Name == "" {
		return "pause/" + app.Source
	}
	return "pause/" + app.String()
}

// RollbackKey is the key of the rollback hold of app's environment env.
func RollbackKey(app AppID, env string) string { return "rollback/" + envKey(app, env) }

// The buckets of actions and holds (see store.go for their parts).
const (
	// bucketActions holds the actions journaled before parts: 8 bytes of
	// time, 8 of sequence → ActionRecord (JSON). Read, never written.
	bucketActions = "actions"
	// bucketAppActions: source/app/time-seq → ActionRecord (JSON), in the
	// application's part.
	bucketAppActions = "appactions"
	// bucketSourceActions: source/time-seq → ActionRecord (JSON) of the
	// actions on a whole source, in PartActions.
	bucketSourceActions = "sourceactions"
	// bucketHolds: PauseKey / RollbackKey (and the agent's holds keyed
	// kind/source/app/env) → Hold (JSON), in the application's part;
	// a whole source's pause in PartSources.
	bucketHolds = "holds"
)

// ErrNotApplicable is returned by the journal's actions on a rollout
// whose state they do not apply to; the message says the state.
var ErrNotApplicable = errors.New("the action does not apply")

// RecordAction appends a to the journal's actions: to its application's
// part, or to PartActions for an action on a whole source.
func (j *Journal) RecordAction(a ActionRecord) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	bucket, part, owner := bucketSourceActions, PartActions, a.Source
	if a.App != "" {
		owner = AppID{Source: a.Source, Name: a.App}.String()
		bucket, part = bucketAppActions, owner
	}
	stamp := fmt.Sprintf("%s/%016x-", owner, uint64(a.At.UnixNano()))
	return j.store.Update(part, func(tx Tx) error {
		seq := 0
		err := tx.ForEach(bucket, stamp, func(string, []byte) error { seq++; return nil })
		if err != nil {
			return err
		}
		return tx.Put(bucket, fmt.Sprintf("%s%04x", stamp, seq), data)
	})
}

// Actions returns the actions that concern app's environment env, oldest
// first: those on the environment, on the whole application and on its
// whole source.
func (j *Journal) Actions(app AppID, env string) ([]ActionRecord, error) {
	var out []ActionRecord
	collect := func(_ string, v []byte) error {
		var a ActionRecord
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("journaled action is corrupt: %w", err)
		}
		if a.Source == app.Source && (a.App == "" || a.App == app.Name) && (a.Env == "" || a.Env == env) {
			out = append(out, a)
		}
		return nil
	}
	err := j.store.View(func(tx Tx) error {
		return errors.Join(
			tx.ForEach(bucketActions, "", collect),
			tx.ForEach(bucketAppActions, app.String()+"/", collect),
			tx.ForEach(bucketSourceActions, app.Source+"/", collect))
	})
	slices.SortStableFunc(out, func(a, b ActionRecord) int { return cmp.Compare(a.At.UnixNano(), b.At.UnixNano()) })
	return out, err
}

// holdPart returns the part of the hold under key: the application's for
// kind/source/app[/env], PartSources for a whole source's kind/source.
func holdPart(key string) string {
	_, rest, _ := strings.Cut(key, "/")
	parts := strings.Split(rest, "/")
	if len(parts) < 2 {
		return PartSources
	}
	return parts[0] + "/" + parts[1]
}

// SetHold records h under key (see PauseKey, RollbackKey), replacing any.
func (j *Journal) SetHold(key string, h Hold) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return j.store.Update(holdPart(key), func(tx Tx) error { return tx.Put(bucketHolds, key, data) })
}

// Hold returns the hold recorded under key, nil for none.
func (j *Journal) Hold(key string) (*Hold, error) {
	var out *Hold
	err := j.store.View(func(tx Tx) error {
		data := tx.Get(bucketHolds, key)
		if data == nil {
			return nil
		}
		out = &Hold{}
		return json.Unmarshal(data, out)
	})
	return out, err
}

// DeleteHold removes the hold under key; removing none is nil.
func (j *Journal) DeleteHold(key string) error {
	return j.store.Update(holdPart(key), func(tx Tx) error { return tx.Delete(bucketHolds, key) })
}

// actionable checks that the running rollout r can still be acted on.
func actionable(r *Rollout) error {
	switch {
	case r.State.Final():
		return fmt.Errorf("%w: the rollout of %s in %s has ended (%s)", ErrNotApplicable, ShortRevision(r.Revision), r.Env, r.State)
	case r.RollingBack:
		return fmt.Errorf("%w: the rollout of %s in %s is rolling back (%s)", ErrNotApplicable, ShortRevision(r.Revision), r.Env, r.Reason)
	}
	return nil
}

// Abort starts rolling back the running rollout id, for the reason the
// action says, whatever the environment's rollback policy: the next
// Advance undoes what it changed.
func (j *Journal) Abort(id string, a ActionRecord) (*Rollout, error) {
	return j.update(id, func(r *Rollout) error {
		if err := actionable(r); err != nil {
			return err
		}
		reason := "aborted by " + a.By
		if a.Reason != "" {
			reason += ": " + a.Reason
		}
		r.RollingBack, r.Reason, r.Rollback.Started = true, reason, j.now()
		return nil
	})
}

// Promote marks the running rollout id promoted: its remaining pauses are
// skipped, and with a.Force its verify steps and approval gates too.
func (j *Journal) Promote(id string, a ActionRecord) (*Rollout, error) {
	return j.update(id, func(r *Rollout) error {
		if err := actionable(r); err != nil {
			return err
		}
		r.Promoted = &a
		return nil
	})
}

// BreakGlass records a break-glass approval of the running rollout id's
// approval gates.
func (j *Journal) BreakGlass(id string, a ActionRecord) (*Rollout, error) {
	return j.update(id, func(r *Rollout) error {
		if err := actionable(r); err != nil {
			return err
		}
		r.BreakGlass = &a
		return nil
	})
}

// StartAgain records a new running rollout of revision, started by an
// action ("retry", "rollback") although the journal holds one of that
// revision already, and makes it the current rollout of its environment.
func (j *Journal) StartAgain(app AppID, revision string, plan EnvPlan, action string) (*Rollout, error) {
	now := j.now()
	r := &Rollout{ID: fmt.Sprintf("%s#%s-%d", RolloutID(app, plan.Name, revision), action, now.UnixNano()),
		Source: app.Source, App: app.Name, Env: plan.Name, Revision: revision, Plan: plan, State: RolloutRunning,
		Action: action, Started: now, Updated: now}
	err := j.store.Update(app.String(), func(tx Tx) error {
		if err := put(tx, r); err != nil {
			return err
		}
		return tx.Put(bucketCurrent, envKey(app, plan.Name), []byte(r.ID))
	})
	return r, err
}
