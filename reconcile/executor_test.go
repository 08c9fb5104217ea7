package reconcile_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

type executorFixture struct {
	clock  *clocktesting.FakeClock
	path   string
	j      *reconcile.Journal
	x      *reconcile.Executor
	events []reconcile.Event
}

func newExecutor(t *testing.T) *executorFixture {
	t.Helper()
	f := &executorFixture{clock: clocktesting.NewFakeClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)), path: filepath.Join(t.TempDir(), "journal.db")}
	f.open(t)
	return f
}

func (f *executorFixture) open(t *testing.T) {
	t.Helper()
	j, err := reconcile.OpenJournal(f.path, reconcile.JournalOptions{Clock: f.clock, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	f.j = j
	f.x = &reconcile.Executor{Journal: j, Checks: &checks.HTTP{}, Clock: f.clock,
		Emit: func(e reconcile.Event) { f.events = append(f.events, e) }}
}

// verifyCheck returns a defaulted HTTP check of url measured every
// interval for duration.
func verifyCheck(url string, interval, duration time.Duration) *spec.Check {
	app := &spec.Application{Spec: spec.ApplicationSpec{Environments: []spec.Environment{{Verify: []spec.Check{{
		Name: "health", HTTP: &spec.HTTPCheck{URL: url},
		Interval: &spec.Duration{Duration: interval}, Duration: &spec.Duration{Duration: duration},
	}}}}}}
	spec.SetDefaults(app)
	return &app.Spec.Environments[0].Verify[0]
}

func start(t *testing.T, f *executorFixture, steps ...reconcile.Step) *reconcile.Rollout {
	t.Helper()
	r, err := f.j.Start(reconcile.AppID{Source: "shop", Name: "shop"}, "4f2c9a1b7e3d", reconcile.EnvPlan{Name: "staging", Strategy: "rolling",
		Changes: []reconcile.Change{{Target: "web", Resource: "x", Action: reconcile.ActionUpdate}}, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func waitingFor(t *testing.T, err error) time.Duration {
	t.Helper()
	var w *reconcile.WaitingError
	if !errors.As(err, &w) {
		t.Fatalf("want a WaitingError, got %v", err)
	}
	return w.RequeueAfter
}

// A pause does not block: the rollout waits, and continues once the
// clock has moved past the pause.
func TestExecutorPause(t *testing.T) {
	f := newExecutor(t)
	r := start(t, f, reconcile.Step{Kind: reconcile.StepPause, Duration: 5 * time.Minute})
	r, err := f.x.Advance(context.Background(), r, nil)
	if d := waitingFor(t, err); d != 5*time.Minute {
		t.Errorf("requeue after %v", d)
	}
	f.clock.Step(3 * time.Minute)
	r, err = f.x.Advance(context.Background(), r, nil)
	if d := waitingFor(t, err); d != 2*time.Minute {
		t.Errorf("requeue after %v", d)
	}
	f.clock.Step(2 * time.Minute)
	r, err = f.x.Advance(context.Background(), r, nil)
	if err != nil || r.State != reconcile.RolloutSucceeded {
		t.Fatalf("state %v, err %v", r.State, err)
	}
}

// A check is measured once per interval for its duration, each
// measurement journaled, and passes when every measurement passed.
func TestExecutorVerifyOverTime(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	f := newExecutor(t)
	r := start(t, f, reconcile.Step{Kind: reconcile.StepVerify, Check: verifyCheck(srv.URL, 10*time.Second, 30*time.Second)})
	var err error
	for i := 0; i < 3; i++ {
		r, err = f.x.Advance(context.Background(), r, nil)
		if d := waitingFor(t, err); d != 10*time.Second {
			t.Fatalf("measurement %d: requeue after %v", i+1, d)
		}
		f.clock.Step(10 * time.Second)
	}
	r, err = f.x.Advance(context.Background(), r, nil)
	if err != nil || r.State != reconcile.RolloutSucceeded {
		t.Fatalf("state %v, err %v", r.State, err)
	}
	if hits.Load() != 4 || len(r.Outcomes[0].Measurements) != 4 {
		t.Errorf("%d requests, %d measurements journaled; want 4", hits.Load(), len(r.Outcomes[0].Measurements))
	}
}

// A failed check fails the rollout with a reason quoting what was
// measured, and no later step runs.
func TestExecutorVerifyFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	f := newExecutor(t)
	r := start(t, f,
		reconcile.Step{Kind: reconcile.StepVerify, Check: verifyCheck(srv.URL, 10*time.Second, 0)},
		reconcile.Step{Kind: reconcile.StepPause, Duration: time.Hour})
	r, err := f.x.Advance(context.Background(), r, nil)
	if err != nil || r.State != reconcile.RolloutFailed || r.Reason != "check health failed: status 503, want 200" {
		t.Fatalf("state %v, reason %q, err %v", r.State, r.Reason, err)
	}
	if r.Next != 0 {
		t.Errorf("next = %d: no step may run after a failure", r.Next)
	}
	if last := f.events[len(f.events)-1]; last.Kind != reconcile.EventFailed || !strings.Contains(last.Message, "503") {
		t.Errorf("last event = %+v", last)
	}
}

// A restarted agent resumes a check where it was: the measurements taken
// before the restart count, and the pause's start is remembered.
func TestExecutorResumesAfterRestart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	f := newExecutor(t)
	r := start(t, f,
		reconcile.Step{Kind: reconcile.StepVerify, Check: verifyCheck(srv.URL, 10*time.Second, 10*time.Second)},
		reconcile.Step{Kind: reconcile.StepPause, Duration: time.Minute})
	_, err := f.x.Advance(context.Background(), r, nil)
	waitingFor(t, err)
	f.j.Close()

	f.open(t) // the agent restarts
	running, err := f.j.Running()
	if err != nil || len(running) != 1 || len(running[0].Current.Measurements) != 1 {
		t.Fatalf("running = %+v, %v", running, err)
	}
	f.clock.Step(10 * time.Second)
	r, err = f.x.Advance(context.Background(), running[0], nil)
	if d := waitingFor(t, err); d != time.Minute {
		t.Fatalf("after the check, the pause should wait 1m, got %v", d)
	}
	if len(r.Outcomes) != 1 || len(r.Outcomes[0].Measurements) != 2 {
		t.Errorf("outcomes = %+v", r.Outcomes)
	}
	f.clock.Step(time.Minute)
	if r, err = f.x.Advance(context.Background(), r, nil); err != nil || r.State != reconcile.RolloutSucceeded {
		t.Fatalf("state %v, err %v", r.State, err)
	}
}

// Without a GitHub gate, an approval step cannot be met: the rollout
// stops with a message saying what is missing instead of waiting forever.
func TestExecutorApprovalWithoutGate(t *testing.T) {
	f := newExecutor(t)
	r := start(t, f, reconcile.Step{Kind: reconcile.StepAwaitApproval, Approval: &spec.Approval{Reviews: 1}})
	r, err := f.x.Advance(context.Background(), r, nil)
	if err != nil || r.State != reconcile.RolloutFailed || !strings.Contains(r.Reason, "no GitHub configuration") {
		t.Fatalf("state %v, reason %q, err %v", r.State, r.Reason, err)
	}
}
