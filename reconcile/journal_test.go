package reconcile_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func canaryPlan() reconcile.EnvPlan {
	check := spec.Check{Name: "5xx", CloudWatch: &spec.CloudWatchCheck{Threshold: spec.Threshold{Max: new(1.0)}}}
	return reconcile.EnvPlan{Name: "production", Strategy: "canary",
		Changes: []reconcile.Change{{Target: "web", Resource: "ECS service web", Action: reconcile.ActionUpdate}},
		Steps: []reconcile.Step{
			{Kind: reconcile.StepApply, Target: "web"},
			{Kind: reconcile.StepShiftTraffic, Target: "web", Weight: 10},
			{Kind: reconcile.StepVerify, Check: &check},
			{Kind: reconcile.StepPause, Duration: 5 * time.Minute},
			{Kind: reconcile.StepPromote, Target: "web"},
		}}
}

// checkout is the application most tests journal: checkout of source shop.
var checkout = reconcile.AppID{Source: "shop", Name: "checkout"}

func openJournal(t *testing.T, path string) *reconcile.Journal {
	t.Helper()
	// Every reading of the clock is a second later than the last.
	clock := &clocktesting.IntervalClock{Time: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Duration: time.Second}
	j, err := reconcile.OpenJournal(path, reconcile.JournalOptions{Clock: clock, LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A rollout journaled before a crash is found again, at its next step,
// with its plan intact, when the agent reopens the journal.
func TestJournalSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openJournal(t, path)
	r, err := j.Start(checkout, "abc123", canaryPlan())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	if _, err := j.Record(r.ID, reconcile.StepOutcome{Step: 0, Kind: reconcile.StepApply, Started: t0, Finished: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(r.ID, reconcile.StepOutcome{Step: 1, Kind: reconcile.StepShiftTraffic, Error: "throttled"}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(r.ID, reconcile.StepOutcome{Step: 1, Kind: reconcile.StepShiftTraffic}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = openJournal(t, path)
	defer j.Close()
	running, err := j.Running()
	if err != nil || len(running) != 1 {
		t.Fatalf("running = %v, %v", running, err)
	}
	got := running[0]
	if got.ID != "shop/checkout/production/abc123" || got.Next != 2 || got.State != reconcile.RolloutRunning || len(got.Outcomes) != 3 {
		t.Fatalf("resumed rollout = %+v", got)
	}
	if s := got.Plan.Steps[2]; s.Kind != reconcile.StepVerify || *s.Check.CloudWatch.Threshold.Max != 1 {
		t.Errorf("plan did not round-trip: %+v", s)
	}
	if got.Plan.Steps[1].Weight != 10 || got.Plan.Steps[3].Duration != 5*time.Minute || got.Plan.Changes[0].Action != reconcile.ActionUpdate {
		t.Errorf("plan did not round-trip: %+v", got.Plan)
	}
}

// Starting the same rollout twice (e.g. after a restart) returns the
// journaled one instead of starting over.
func TestJournalStartIsIdempotent(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "journal.db"))
	defer j.Close()
	r, _ := j.Start(checkout, "abc", canaryPlan())
	if _, err := j.Record(r.ID, reconcile.StepOutcome{Step: 0, Kind: reconcile.StepApply}); err != nil {
		t.Fatal(err)
	}
	again, err := j.Start(checkout, "abc", canaryPlan())
	if err != nil || again.Next != 1 {
		t.Fatalf("restart = %+v, %v", again, err)
	}
}

func TestJournalFinishAndCurrent(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "journal.db"))
	defer j.Close()
	old, _ := j.Start(checkout, "old", canaryPlan())
	if _, err := j.Finish(old.ID, reconcile.RolloutSuperseded, "superseded by new"); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(old.ID, reconcile.StepOutcome{Step: 0}); err == nil {
		t.Error("recording a step of a finished rollout must fail")
	}
	if _, err := j.Finish(old.ID, reconcile.RolloutRunning, ""); err == nil {
		t.Error("running is not a final state")
	}
	if _, err := j.Stable(checkout, "production"); !errors.Is(err, reconcile.ErrNoRollout) {
		t.Errorf("a superseded rollout is not stable: %v", err)
	}
	cur, _ := j.Start(checkout, "new", canaryPlan())
	got, err := j.Current(checkout, "production")
	if err != nil || got.ID != cur.ID {
		t.Errorf("current = %v, %v", got, err)
	}
	running, _ := j.Running()
	if len(running) != 1 || running[0].Revision != "new" {
		t.Errorf("running = %v", running)
	}
	if _, err := j.Finish(cur.ID, reconcile.RolloutSucceeded, ""); err != nil {
		t.Fatal(err)
	}
	j.Start(checkout, "newer", canaryPlan())
	if stable, err := j.Stable(checkout, "production"); err != nil || stable.Revision != "new" {
		t.Errorf("stable = %v, %v; want the succeeded rollout of new", stable, err)
	}
	if _, err := j.Current(checkout, "staging"); !errors.Is(err, reconcile.ErrNoRollout) {
		t.Errorf("err = %v", err)
	}
	if _, err := j.Get("nope"); !errors.Is(err, reconcile.ErrNoRollout) {
		t.Errorf("err = %v", err)
	}
}

// A second agent on the same state directory is refused with a clear error.
func TestJournalIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := openJournal(t, path)
	defer j.Close()
	_, err := reconcile.OpenJournal(path, reconcile.JournalOptions{LockTimeout: 20 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "is another agent using this state directory?") {
		t.Fatalf("a second open of a held journal must fail clearly, got %v", err)
	}
}

func TestJournalConcurrentRecords(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "journal.db"))
	defer j.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			plan := canaryPlan()
			plan.Name = string(rune('a' + i))
			r, err := j.Start(reconcile.AppID{Source: "shop", Name: "app"}, "rev", plan)
			if err != nil {
				t.Error(err)
				return
			}
			for s := range plan.Steps {
				if _, err := j.Record(r.ID, reconcile.StepOutcome{Step: s, Kind: plan.Steps[s].Kind}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	running, _ := j.Running()
	for _, r := range running {
		if r.Next != 5 {
			t.Errorf("%s: next = %d", r.ID, r.Next)
		}
	}
	if len(running) != 8 {
		t.Errorf("running = %d", len(running))
	}
}
