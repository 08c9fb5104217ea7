package reconcile

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// An abort journaled while a step runs stops the rollout's steps: the
// step's outcome and a success are refused, so that the next Advance
// rolls back. Actions on an ended rollout do not apply.
func TestJournalAbortStopsTheSteps(t *testing.T) {
	j, err := OpenJournal(filepath.Join(t.TempDir(), "journal.db"), JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	app := AppID{Source: "shop", Name: "web"}
	r, err := j.Start(app, "abc1234", EnvPlan{Name: "production", Steps: []Step{{Kind: StepApply, Target: "web"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Abort(r.ID, ActionRecord{By: "ci", Reason: "errors"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(r.ID, StepOutcome{Step: 0}); !errors.Is(err, errRollingBack) {
		t.Errorf("a step recorded after an abort: %v", err)
	}
	if _, err := j.Finish(r.ID, RolloutSucceeded, ""); !errors.Is(err, errRollingBack) {
		t.Errorf("an aborted rollout finished as succeeded: %v", err)
	}
	got, _ := j.Get(r.ID)
	if !got.RollingBack || got.Reason != "aborted by ci: errors" || got.Rollback.Started.IsZero() {
		t.Errorf("aborted rollout = %+v", got)
	}
	if _, err := j.Promote(r.ID, ActionRecord{By: "ci"}); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("promoting a rollout that rolls back: %v", err)
	}
	if _, err := j.Finish(r.ID, RolloutRolledBack, got.Reason); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Abort(r.ID, ActionRecord{By: "ci"}); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("aborting an ended rollout: %v", err)
	}
}

// Actions are listed for the environment they concern, their
// application's and their source's; holds are kept until deleted.
func TestJournalActionsAndHolds(t *testing.T) {
	j, err := OpenJournal(filepath.Join(t.TempDir(), "journal.db"), JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for i, a := range []ActionRecord{
		{Action: ActionPause, Source: "shop"},
		{Action: ActionPause, Source: "shop", App: "web"},
		{Action: ActionAbort, Source: "shop", App: "web", Env: "production"},
		{Action: ActionAbort, Source: "shop", App: "web", Env: "staging"},
		{Action: ActionPause, Source: "shop", App: "api"},
		{Action: ActionPause, Source: "ops"},
	} {
		a.At = at.Add(time.Duration(i) * time.Second)
		if err := j.RecordAction(a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Actions(AppID{Source: "shop", Name: "web"}, "production")
	if err != nil || len(got) != 3 || got[0].App != "" || got[1].App != "web" || got[2].Env != "production" {
		t.Errorf("actions of shop/web production = %+v, %v", got, err)
	}
	key := PauseKey(AppID{Source: "shop"})
	if err := j.SetHold(key, Hold{Kind: HoldPause, By: "ci"}); err != nil {
		t.Fatal(err)
	}
	if h, err := j.Hold(key); err != nil || h == nil || h.By != "ci" {
		t.Errorf("hold = %+v, %v", h, err)
	}
	if err := j.DeleteHold(key); err != nil {
		t.Fatal(err)
	}
	if h, err := j.Hold(key); err != nil || h != nil {
		t.Errorf("hold after delete = %+v, %v", h, err)
	}
}
