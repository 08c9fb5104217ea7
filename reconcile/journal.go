package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// RolloutState is where a rollout stands.
type RolloutState int

// The rollout states. Every state but RolloutRunning is final.
const (
	RolloutRunning RolloutState = iota + 1
	RolloutSucceeded
	RolloutFailed
	RolloutRolledBack
	// RolloutSuperseded: a newer revision replaced it before it finished.
	RolloutSuperseded
)

// String names the state.
func (s RolloutState) String() string {
	switch s {
	case RolloutRunning:
		return "running"
	case RolloutSucceeded:
		return "succeeded"
	case RolloutFailed:
		return "failed"
	case RolloutRolledBack:
		return "rolled-back"
	case RolloutSuperseded:
		return "superseded"
	}
	return "unknown"
}

// Final reports whether the rollout has ended.
func (s RolloutState) Final() bool { return s != RolloutRunning }

// Rollout is the journaled progress of one environment's rollout of one
// revision.
type Rollout struct {
	// ID identifies the rollout: source/app/env/revision (app/env/revision
	// for a legacy record, see Journal.Migrate).
	ID string `json:"id"`
	// Source and App identify the application (see AppID); Env and
	// Revision say what is rolled out where. Source is empty only in
	// records written before application identity that could not be
	// assigned to a source.
	Source   string `json:"source,omitempty"`
	App      string `json:"app"`
	Env      string `json:"env"`
	Revision string `json:"revision"`
	// Plan is the environment's plan, as built when the rollout started.
	Plan EnvPlan `json:"plan"`
	// Next is the index in Plan.Steps of the next step to run.
	Next int `json:"next"`
	// State is where the rollout stands.
	State RolloutState `json:"state"`
	// Reason explains a final state other than success.
	Reason string `json:"reason,omitempty"`
	// Outcomes are the steps run so far, in order (a step retried after a
	// crash appears twice).
	Outcomes []StepOutcome `json:"outcomes,omitempty"`
	// Current is the progress of step Next while it waits (a pause, a check
	// measured over time, an approval), so that a restart resumes it.
	Current StepProgress `json:"current,omitzero"`
	// RollingBack is set once a failure has started a rollback; Reason says
	// why.
	RollingBack bool `json:"rollingBack,omitempty"`
	// Rollback is how far the rollback has come, once RollingBack is set.
	Rollback RollbackProgress `json:"rollback,omitzero"`
	// Correction marks a rollout that re-applies the revision an
	// environment already ran, because live state drifted from it.
	Correction bool `json:"correction,omitempty"`
	// Action names the action that started the rollout although the
	// revision had been rolled out there before: "retry" or "rollback".
	Action string `json:"action,omitempty"`
	// Promoted is set once someone promoted the rollout: its remaining
	// pauses are skipped, and with Force its verify steps and approval
	// gates too.
	Promoted *ActionRecord `json:"promoted,omitempty"`
	// BreakGlass is a break-glass approval of the rollout's approval
	// gates.
	BreakGlass *ActionRecord `json:"breakGlass,omitempty"`
	// Started and Updated are when the rollout started and last changed.
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
}

// StepOutcome records one run of a step.
type StepOutcome struct {
	// Step is the step's index in the plan.
	Step int `json:"step"`
	// Kind is the step's kind.
	Kind StepKind `json:"kind"`
	// Started and Finished bound the run.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Error is why the step failed; empty on success.
	Error string `json:"error,omitempty"`
	// Measurements are the datapoints a verify step measured.
	Measurements []Measurement `json:"measurements,omitempty"`
}

// StepProgress is how far a waiting step has come.
type StepProgress struct {
	// Started is when the step first ran.
	Started time.Time `json:"started,omitzero"`
	// Measurements are a verify step's datapoints so far.
	Measurements []Measurement `json:"measurements,omitempty"`
}

// Measurement is one datapoint of a check.
type Measurement struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
	// NoData is set when the measurement found no data (Value is then 0).
	NoData bool `json:"noData,omitempty"`
	// Passed says whether the value was within the check's threshold.
	Passed bool `json:"passed"`
	// Detail says what was measured, e.g. "status 503, want 200".
	Detail string `json:"detail,omitempty"`
	// Datapoints are the values a metric query returned, oldest first,
	// when the measurement is a query over a window.
	Datapoints []Datapoint `json:"datapoints,omitempty"`
}

// Datapoint is one value of a metric at a time.
type Datapoint struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// AppID returns the identity of the rollout's application.
func (r *Rollout) AppID() AppID { return AppID{Source: r.Source, Name: r.App} }

// RolloutID returns the ID of app's rollout of revision to env:
// source/app/env/revision.
func RolloutID(app AppID, env, revision string) string {
	return envKey(app, env) + "/" + revision
}

// envKey is the key of app's environment env in the current and stable
// buckets: source/app/env (app/env for legacy identities).
func envKey(app AppID, env string) string { return app.String() + "/" + env }

// The buckets of rollouts and their pointers, all in the part of the
// rollout's application (see store.go).
const (
	bucketRollouts = "rollouts" // ID → Rollout (JSON)
	bucketCurrent  = "current"  // source/app/env → ID of the latest rollout
	bucketStable   = "stable"   // source/app/env → ID of the latest succeeded rollout
)

// errRollingBack is returned for a step recorded once the rollout was
// aborted.
var errRollingBack = errors.New("the rollout is rolling back")

// ErrNoRollout is returned for a rollout the journal does not hold.
var ErrNoRollout = errors.New("no such rollout")

// Journal keeps rollouts in a Store: by default a bbolt file under the
// state directory (OpenJournal), or Kubernetes objects shared by several
// agents (NewJournal), so that a restarted agent, or the one that takes
// over, resumes each rollout from its last completed step. Every write is
// a committed transaction of one application's part: what a method has
// returned from survives a crash. A Journal is safe for concurrent use.
type Journal struct {
	store Store
	now   func() time.Time
	path  string
	bolt  *boltStore // the embedded store, for the legacy migration; nil otherwise
}

// Path returns the journal file's path; "" for a journal not kept in a
// file.
func (j *Journal) Path() string { return j.path }

// JournalOptions configures OpenJournal and NewJournal.
type JournalOptions struct {
	// Clock dates rollouts and steps; default the wall clock.
	Clock clock.PassiveClock
	// LockTimeout is how long OpenJournal waits for another process to
	// release the file; default 5s.
	LockTimeout time.Duration
}

// OpenJournal opens (creating if needed) the journal file at path. It
// fails if another process holds the file for longer than the lock timeout.
func OpenJournal(path string, opts JournalOptions) (*Journal, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 5 * time.Second
	}
	s, err := openBoltStore(path, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	err = s.Update("", func(tx Tx) error {
		for _, b := range []string{bucketRollouts, bucketCurrent, bucketStable, bucketActions, bucketHolds} {
			if _, err := tx.(boltTx).tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("initialising the rollout journal %s: %w", path, err)
	}
	j := NewJournal(s, opts)
	j.path, j.bolt = path, &s
	return j, nil
}

// NewJournal returns a journal keeping its records in s (opts.LockTimeout
// does not apply). Closing the journal closes s.
func NewJournal(s Store, opts JournalOptions) *Journal {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Journal{store: s, now: opts.Clock.Now}
}

// OnChange has fn called with a part's name (an application's identity,
// PartActions, PartSources) after each change of its records that
// another process wrote, when the store reports them (a Notifier: the
// journal in the cluster), and reports whether it does. fn must not
// block.
func (j *Journal) OnChange(fn func(part string)) bool {
	n, ok := j.store.(Notifier)
	if ok {
		n.OnPartChange(fn)
	}
	return ok
}

// Claim makes this agent the writer of app's records, when the store can
// change writer (a Claimer): an agent that gains an application claims it
// before acting on it, after which the former writer's updates of it fail
// with ErrFenced. It is nil for a store that cannot (the embedded file).
func (j *Journal) Claim(app AppID) error {
	c, ok := j.store.(Claimer)
	if !ok {
		return nil
	}
	if err := c.Claim(app.String()); err != nil {
		return fmt.Errorf("claiming the journal records of %s: %w", app, err)
	}
	return nil
}

// Close closes the journal's store.
func (j *Journal) Close() error { return j.store.Close() }

// Start records a new running rollout of plan and makes it the current
// rollout of its application and environment. Starting a rollout that
// already exists returns it unchanged, so a restart cannot start it twice.
func (j *Journal) Start(app AppID, revision string, plan EnvPlan) (*Rollout, error) {
	id := RolloutID(app, plan.Name, revision)
	var out *Rollout
	err := j.store.Update(app.String(), func(tx Tx) error {
		if existing, err := get(tx, id); err == nil {
			out = existing
			return nil
		}
		now := j.now()
		out = &Rollout{ID: id, Source: app.Source, App: app.Name, Env: plan.Name, Revision: revision, Plan: plan,
			State: RolloutRunning, Started: now, Updated: now}
		if err := put(tx, out); err != nil {
			return err
		}
		return tx.Put(bucketCurrent, envKey(app, plan.Name), []byte(id))
	})
	return out, err
}

// StartCorrection records a rollout that re-applies revision to correct
// drift, and makes it the current rollout of its environment.
func (j *Journal) StartCorrection(app AppID, revision string, plan EnvPlan) (*Rollout, error) {
	now := j.now()
	r := &Rollout{ID: fmt.Sprintf("%s#correction-%d", RolloutID(app, plan.Name, revision), now.UnixNano()),
		Source: app.Source, App: app.Name, Env: plan.Name, Revision: revision, Plan: plan, State: RolloutRunning,
		Correction: true, Started: now, Updated: now}
	err := j.store.Update(app.String(), func(tx Tx) error {
		if err := put(tx, r); err != nil {
			return err
		}
		return tx.Put(bucketCurrent, envKey(app, plan.Name), []byte(r.ID))
	})
	return r, err
}

// Record appends a step outcome. A successful outcome moves the rollout on
// to the next step.
func (j *Journal) Record(id string, o StepOutcome) (*Rollout, error) {
	return j.update(id, func(r *Rollout) error {
		if r.State.Final() {
			return fmt.Errorf("rollout %s is %s; no more steps can be recorded", id, r.State)
		}
		if r.RollingBack { // aborted while the step ran: the rollback comes next
			return fmt.Errorf("rollout %s: %w (%s); its steps stop", id, errRollingBack, r.Reason)
		}
		r.Outcomes = append(r.Outcomes, o)
		if o.Error == "" && o.Step == r.Next {
			r.Next++
			r.Current = StepProgress{}
		}
		return nil
	})
}

// Progress records the progress of the rollout's current step.
func (j *Journal) Progress(id string, p StepProgress) (*Rollout, error) {
	return j.update(id, func(r *Rollout) error {
		r.Current = p
		return nil
	})
}

// StartRollback records that a failure started a rollback, and when, so
// that a restart finishes the rollback instead of resuming the rollout.
// The reason of a rollback already started is replaced; its start is kept.
func (j *Journal) StartRollback(id, reason string) (*Rollout, error) {
	return j.update(id, func(r *Rollout) error {
		if r.Rollback.Started.IsZero() {
			r.Rollback.Started = j.now()
		}
		r.RollingBack, r.Reason = true, reason
		return nil
	})
}

// Finish ends a rollout in state, with reason for failures. A succeeded
// rollout becomes its environment's stable one, which rollbacks restore.
func (j *Journal) Finish(id string, state RolloutState, reason string) (*Rollout, error) {
	var out *Rollout
	err := j.store.Update(rolloutPart(id), func(tx Tx) error {
		r, err := get(tx, id)
		if err != nil {
			return err
		}
		if !state.Final() {
			return fmt.Errorf("cannot finish rollout %s as %s", id, state)
		}
		if state == RolloutSucceeded && r.RollingBack { // aborted while its last step ran
			return fmt.Errorf("rollout %s: %w (%s)", id, errRollingBack, r.Reason)
		}
		r.State, r.Reason, r.Updated = state, reason, j.now()
		out = r
		if state == RolloutSucceeded {
			if err := tx.Put(bucketStable, envKey(r.AppID(), r.Env), []byte(id)); err != nil {
				return err
			}
		}
		return put(tx, r)
	})
	return out, err
}

// Stable returns the latest rollout of app to env that succeeded, or
// ErrNoRollout.
func (j *Journal) Stable(app AppID, env string) (*Rollout, error) {
	var out *Rollout
	err := j.store.View(func(tx Tx) (err error) {
		id := tx.Get(bucketStable, envKey(app, env))
		if id == nil {
			return fmt.Errorf("%w that succeeded for %s in %s", ErrNoRollout, app, env)
		}
		out, err = get(tx, string(id))
		return err
	})
	return out, err
}

func (j *Journal) update(id string, change func(*Rollout) error) (*Rollout, error) {
	var out *Rollout
	err := j.store.Update(rolloutPart(id), func(tx Tx) error {
		r, err := get(tx, id)
		if err != nil {
			return err
		}
		if err := change(r); err != nil {
			return err
		}
		r.Updated = j.now()
		out = r
		return put(tx, r)
	})
	return out, err
}

// Get returns the rollout with id, or ErrNoRollout.
func (j *Journal) Get(id string) (*Rollout, error) {
	var out *Rollout
	err := j.store.View(func(tx Tx) (err error) {
		out, err = get(tx, id)
		return err
	})
	return out, err
}

// Current returns the latest rollout of app to env, or ErrNoRollout.
func (j *Journal) Current(app AppID, env string) (*Rollout, error) {
	var out *Rollout
	err := j.store.View(func(tx Tx) (err error) {
		id := tx.Get(bucketCurrent, envKey(app, env))
		if id == nil {
			return fmt.Errorf("%w for %s in %s", ErrNoRollout, app, env)
		}
		out, err = get(tx, string(id))
		return err
	})
	return out, err
}

// Running returns the rollouts that have not ended, for the agent to
// resume after a restart.
func (j *Journal) Running() ([]*Rollout, error) {
	var out []*Rollout
	err := j.store.View(func(tx Tx) error {
		return tx.ForEach(bucketCurrent, "", func(_ string, id []byte) error {
			r, err := get(tx, string(id))
			if err != nil {
				return err
			}
			if !r.State.Final() {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

func get(tx Tx, id string) (*Rollout, error) {
	data := tx.Get(bucketRollouts, id)
	if data == nil {
		return nil, fmt.Errorf("%w %s", ErrNoRollout, id)
	}
	var r Rollout
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("journal entry %s is corrupt: %w", id, err)
	}
	return &r, nil
}

func put(tx Tx, r *Rollout) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Put(bucketRollouts, r.ID, data)
}

// rolloutPart returns the part of the rollout with id: its application's,
// source/app for an ID source/app/env/revision[#...], app for a legacy
// app/env/revision.
func rolloutPart(id string) string {
	base, _, _ := strings.Cut(id, "#")
	parts := strings.Split(base, "/")
	if len(parts) <= 3 {
		return parts[0]
	}
	return parts[0] + "/" + parts[1]
}
