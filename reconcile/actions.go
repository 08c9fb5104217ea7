package reconcile

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
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

var (
	bucketActions = []byte("actions") // time + sequence → ActionRecord (JSON)
	bucketHolds   = []byte("holds")   // PauseKey / RollbackKey → Hold (JSON)
)

// ErrNotApplicable is returned by the journal's actions on a rollout
// whose state they do not apply to; the message says the state.
var ErrNotApplicable = errors.New("the action does not apply")

// RecordAction appends a to the journal's actions.
func (j *Journal) RecordAction(a ActionRecord) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return j.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketActions)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, uint64(a.At.UnixNano()))
		return b.Put(binary.BigEndian.AppendUint64(key, seq), data)
	})
}

// Actions returns the actions that concern app's environment env, oldest
// first: those on the environment, on the whole application and on its
// whole source.
func (j *Journal) Actions(app AppID, env string) ([]ActionRecord, error) {
	var out []ActionRecord
	err := j.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketActions).ForEach(func(_, v []byte) error {
			var a ActionRecord
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("journaled action is corrupt: %w", err)
			}
			if a.Source == app.Source && (a.App == "" || a.App == app.Name) && (a.Env == "" || a.Env == env) {
				out = append(out, a)
			}
			return nil
		})
	})
	return out, err
}

// SetHold records h under key (see PauseKey, RollbackKey), replacing any.
func (j *Journal) SetHold(key string, h Hold) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return j.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketHolds).Put([]byte(key), data) })
}

// Hold returns the hold recorded under key, nil for none.
func (j *Journal) Hold(key string) (*Hold, error) {
	var out *Hold
	err := j.db.View(func(tx *bbolt.Tx) error {
		data := tx.Bucket(bucketHolds).Get([]byte(key))
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
	return j.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketHolds).Delete([]byte(key)) })
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
	err := j.db.Update(func(tx *bbolt.Tx) error {
		if err := put(tx, r); err != nil {
			return err
		}
		return tx.Bucket(bucketCurrent).Put([]byte(envKey(app, plan.Name)), []byte(r.ID))
	})
	return r, err
}
