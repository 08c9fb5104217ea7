package ecs

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// engine is the real executor and journal over the rig's platform, on the
// emulator's clock.
type engine struct {
	r      *rig
	path   string
	j      *reconcile.Journal
	x      *reconcile.Executor
	events []reconcile.Event
}

func newEngine(r *rig) *engine {
	e := &engine{r: r, path: filepath.Join(r.t.TempDir(), "journal.db")}
	e.open()
	return e
}

// open opens the journal and builds the executor, as an agent starting does.
func (e *engine) open() {
	j, err := reconcile.OpenJournal(e.path, reconcile.JournalOptions{Clock: e.r.env.Emu, LockTimeout: time.Second})
	if err != nil {
		e.r.t.Fatal(err)
	}
	e.r.t.Cleanup(func() { j.Close() })
	e.j = j
	e.x = &reconcile.Executor{Journal: j, Checks: &checks.HTTP{}, Clock: e.r.env.Emu,
		Platforms: map[spec.Platform]reconcile.Platform{spec.PlatformECS: e.r.p},
		Emit:      func(ev reconcile.Event) { e.events = append(e.events, ev) }}
}

// failing makes d's environment verify an endpoint that answers 503, and
// roll back automatically.
func failing(t *testing.T, d *reconcile.Deployment) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(srv.Close)
	app := &spec.Application{Spec: spec.ApplicationSpec{Environments: []spec.Environment{*d.Environment}}}
	app.Spec.Environments[0].Verify = []spec.Check{{Name: "smoke", HTTP: &spec.HTTPCheck{URL: srv.URL}}}
	app.Spec.Environments[0].Rollback = spec.RollbackAutomatic
	spec.SetDefaults(app)
	d.Environment = &app.Spec.Environments[0]
}

// start plans d against live state, as the agent does, and starts its
// rollout.
func (e *engine) start(d *reconcile.Deployment) *reconcile.Rollout {
	e.r.t.Helper()
	changes, err := e.r.p.Diff(e.r.ctx, d)
	if err != nil {
		e.r.t.Fatal(err)
	}
	r := &spec.Rendered{Environment: d.Environment, Targets: []*spec.RenderedTarget{d.Target}, Platforms: spec.Platforms{Capabilities}}
	plan := reconcile.Build(d.App, d.Revision, []reconcile.EnvInput{{Rendered: r, Changes: changes}})
	ro, err := e.j.Start(d.AppID(), d.Revision, plan.Environments[0])
	if err != nil {
		e.r.t.Fatal(err)
	}
	return ro
}

// run advances ro until stop says so or it ends, moving emulated time 5s
// whenever it waits, for at most an hour of emulated time.
func (e *engine) run(ro *reconcile.Rollout, d *reconcile.Deployment, stop func(*reconcile.Rollout) bool) *reconcile.Rollout {
	e.r.t.Helper()
	for range 720 {
		next, err := e.x.Advance(e.r.ctx, ro, []*reconcile.Deployment{d})
		var w *reconcile.WaitingError
		switch {
		case err != nil && !errors.As(err, &w):
			e.r.t.Fatalf("advance: %v", err)
		case next.State.Final() || stop(next):
			return next
		}
		ro = next
		e.r.advance(5 * time.Second)
	}
	e.r.t.Fatalf("rollout of %s still %s after an hour: %s", ro.Revision, ro.State, ro.Reason)
	return nil
}

func ended(*reconcile.Rollout) bool { return false }

// primary returns the PRIMARY deployment of service web.
func (r *rig) primary() ecstypes.Deployment {
	r.t.Helper()
	s := r.live("web")
	if s == nil {
		r.t.Fatal("service web is not active")
	}
	return *primaryDeployment(s)
}

// A rolling rollout whose verification fails is rolled back: traffic and
// the previous task definition are restored, and the rollout is reported
// rolled back only once the previous version's tasks all run healthy
// (its ECS deployment COMPLETED), not as soon as the service is updated.
func TestRollbackEndsOnlyOnceThePreviousVersionIsHealthy(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	r.rollout(v1)
	e := newEngine(r)
	v2 := r.next(v1, "rev2", "shop/web:v2")
	failing(t, v2)

	ro := e.run(e.start(v2), v2, ended)

	if ro.State != reconcile.RolloutRolledBack || !strings.Contains(ro.Reason, "status 503") {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	dep := r.primary()
	if dep.RolloutState != ecstypes.DeploymentRolloutStateCompleted || dep.RunningCount != 2 {
		t.Errorf("reported rolled back while the previous version's deployment is %s with %d of 2 tasks running", dep.RolloutState, dep.RunningCount)
	}
	if got := r.image(r.live("web")); got != "shop/web:v1" {
		t.Errorf("service runs %s after the rollback", got)
	}
	if last := e.events[len(e.events)-1]; last.Kind != reconcile.EventRolledBack {
		t.Errorf("last event = %s %q", last.Kind, last.Message)
	}
}

// The rollback is journaled step by step: an agent restarted while the
// previous version comes back resumes waiting for its health, without
// undoing again, and reports the waits on the way.
func TestRollbackWaitResumesAfterRestart(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	r.rollout(v1)
	e := newEngine(r)
	v2 := r.next(v1, "rev2", "shop/web:v2")
	failing(t, v2)

	ro := e.run(e.start(v2), v2, func(ro *reconcile.Rollout) bool { return ro.Rollback.Undone })
	if ro.State != reconcile.RolloutRunning || !ro.RollingBack {
		t.Fatalf("rollout = %s (rolling back %v): %s", ro.State, ro.RollingBack, ro.Reason)
	}
	last := e.events[len(e.events)-1]
	if last.Kind != reconcile.EventWaiting || !strings.Contains(last.Message, "rolling back to rev1: waiting for web to be healthy again") {
		t.Errorf("last event = %s %q", last.Kind, last.Message)
	}
	e.j.Close()

	e.open() // the agent restarts
	running, err := e.j.Running()
	if err != nil || len(running) != 1 || !running[0].Rollback.Undone {
		t.Fatalf("running = %+v, %v", running, err)
	}
	r.env.Emu.ResetRequests()
	ro = e.run(running[0], v2, ended)
	if ro.State != reconcile.RolloutRolledBack {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	for _, w := range r.writes() {
		if w.Operation == "UpdateService" {
			t.Errorf("the service was updated again after the restart: %+v", w)
		}
	}
}

// A previous version that cannot become healthy again (its image no longer
// starts, and no circuit breaker ends the deployment) fails the rollout at
// the environment's rollbackTimeout, saying which target and why.
func TestRollbackThatCannotGetHealthyFailsAtItsTimeout(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	v1.Target.Service.DeploymentConfiguration = nil
	r.rollout(v1)
	e := newEngine(r)
	v2 := r.next(v1, "rev2", "shop/web:v2")
	v2.Target.Service.DeploymentConfiguration = nil
	failing(t, v2)
	v2.Environment.RollbackTimeout = &spec.Duration{Duration: 3 * time.Minute}
	r.env.Emu.MarkImageBroken("shop/web:v1")

	ro := e.run(e.start(v2), v2, ended)

	if ro.State != reconcile.RolloutFailed {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	for _, want := range []string{"rollback to rev1 failed (not over after 3m0s: waiting for web to be healthy again: service web:", "check smoke failed: status 503"} {
		if !strings.Contains(ro.Reason, want) {
			t.Errorf("reason %q does not say %q", ro.Reason, want)
		}
	}
	if took := ro.Updated.Sub(ro.Rollback.Started); took < 3*time.Minute || took > 4*time.Minute {
		t.Errorf("the rollback ended after %s, want its 3m timeout", took)
	}
	if last := e.events[len(e.events)-1]; last.Kind != reconcile.EventFailed || last.Message != ro.Reason {
		t.Errorf("last event = %s %q", last.Kind, last.Message)
	}
}

// A first deploy whose verification fails has nothing to roll back to: by
// default its service is deleted and the task definition registered for
// it deregistered, and the rollout ends failed, saying so.
func TestFailedFirstDeployIsRemoved(t *testing.T) {
	r := newRig(t)
	e := newEngine(r)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	failing(t, v1)

	ro := e.run(e.start(v1), v1, ended)

	if ro.State != reconcile.RolloutFailed {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	if want := "first deploy removed (nothing to roll back to): check smoke failed: status 503, want 200; push a fix"; ro.Reason != want {
		t.Errorf("reason = %q, want %q", ro.Reason, want)
	}
	if s := r.live("web"); s != nil {
		t.Errorf("service web is still %s", aws.ToString(s.Status))
	}
	out, err := r.ecs.ListTaskDefinitions(r.ctx, &awsecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil || len(out.TaskDefinitionArns) != 0 {
		t.Errorf("active task definitions after the removal: %v, %v", out.TaskDefinitionArns, err)
	}
	var failures int
	for _, ev := range e.events {
		if ev.Kind == reconcile.EventFailed {
			failures++
		}
	}
	if last := e.events[len(e.events)-1]; failures != 1 || last.Kind != reconcile.EventFailed || last.Rollout.State != reconcile.RolloutFailed {
		t.Errorf("%d failure events, the last %s %q; want one, final", failures, last.Kind, last.Message)
	}
}

// With firstDeployFailure: keep, a failed first deploy is left running for
// inspection, and the rollout ends failed, saying so.
func TestFailedFirstDeployIsKeptWhenTheSpecSaysSo(t *testing.T) {
	r := newRig(t)
	e := newEngine(r)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	failing(t, v1)
	v1.Environment.FirstDeployFailure = spec.FirstDeployKeep

	ro := e.run(e.start(v1), v1, ended)

	if ro.State != reconcile.RolloutFailed || !strings.HasPrefix(ro.Reason, "first deploy kept in place (firstDeployFailure: keep): check smoke failed") {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	if s := r.live("web"); s == nil || r.image(s) != "shop/web:v1" {
		t.Errorf("the failed first deploy was not kept: %+v", s)
	}
}

// Remove never deletes a service that Jibe did not create for the
// environment, even under the target's name.
func TestRemoveLeavesOthersServicesAlone(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", nil)
	r.rollout(v1)
	other := r.deployment("rev1", "shop/web:v1", nil)
	other.Env = "staging"
	if err := r.p.Remove(r.ctx, other); err != nil {
		t.Fatal(err)
	}
	if r.live("web") == nil {
		t.Fatal("Remove deleted another environment's service")
	}
	if err := r.p.Remove(r.ctx, v1); err != nil {
		t.Fatal(err)
	}
	if r.live("web") != nil {
		t.Error("Remove left the environment's own service")
	}
	if err := r.p.Remove(r.ctx, v1); err != nil {
		t.Errorf("removing again: %v", err)
	}
}

// failingAt makes d's environment a canary that sets the canary's share of
// traffic to weight, then analyses an endpoint that answers 503, and rolls
// back automatically.
func failingAt(t *testing.T, d *reconcile.Deployment, weight spec.Percent) {
	t.Helper()
	failing(t, d)
	d.Environment.Strategy = &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{{SetWeight: &weight},
		{Analysis: &spec.Analysis{Checks: d.Environment.Verify}}}}}
	d.Mode = spec.StrategyCanary
	d.Environment.Verify = nil
}

// A canary whose analysis fails after a setWeight step, on a target that
// ran a version before whose revision is unknown (history unreadable,
// services that predate Jibe), returns all traffic to the version that
// ran before and removes the canary service, and says so: the failing
// canary keeps no share of traffic.
func TestFailedCanaryWithoutKnownPreviousReturnsTraffic(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", canary())
	r.rollout(v1)
	e := newEngine(r)
	v2 := r.deployment("rev2", "shop/web:v2", nil) // no Previous
	failingAt(t, v2, 20)

	ro := e.run(e.start(v2), v2, ended)

	want := "canary removed, traffic back on the version that ran before (no earlier revision is known to roll back to): check smoke failed: status 503, want 200; push a fix"
	if ro.State != reconcile.RolloutFailed || ro.Reason != want {
		t.Errorf("rollout = %s: %q, want failed: %q", ro.State, ro.Reason, want)
	}
	assertOnlyStable(t, r, "shop/web:v1")
	var failures int
	for _, ev := range e.events {
		if ev.Kind == reconcile.EventFailed {
			failures++
		}
	}
	if last := e.events[len(e.events)-1]; failures != 1 || last.Kind != reconcile.EventFailed || last.Message != ro.Reason {
		t.Errorf("%d failure events, the last %s %q; want one, final", failures, last.Kind, last.Message)
	}
}

// The same holds for blue/green: a failed verification after the switch
// brings the slot that ran before back up, returns all traffic to it and
// deletes the new slot, without knowing the earlier revision.
func TestFailedBlueGreenWithoutKnownPreviousReturnsTraffic(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", blueGreen())
	r.rollout(v1)
	e := newEngine(r)
	v2 := r.deployment("rev2", "shop/web:v2", blueGreen()) // no Previous
	failing(t, v2)

	ro := e.run(e.start(v2), v2, ended)

	want := "new version removed, traffic back on the version that ran before (no earlier revision is known to roll back to): check smoke failed: status 503, want 200; push a fix"
	if ro.State != reconcile.RolloutFailed || ro.Reason != want {
		t.Errorf("rollout = %s: %q, want failed: %q", ro.State, ro.Reason, want)
	}
	if w := r.weights(); w[r.blue] != 100 || w[r.green] != 0 {
		t.Errorf("listener weights %v, want 100%% on the slot that ran before", w)
	}
	if r.live("web-green") != nil {
		t.Error("new slot left behind")
	}
	if b := r.live("web"); b == nil || b.DesiredCount != 2 || b.RunningCount != 2 || r.image(b) != "shop/web:v1" {
		t.Errorf("slot that ran before is not back with 2 healthy tasks of shop/web:v1")
	}
}

// A canary that fails its verification after the promotion has rolled the
// stable service to the new version, with no earlier revision known, has
// no version left to return traffic to: the rollout fails saying so, and
// the service is not deleted.
func TestFailedPromotedCanaryWithoutKnownPreviousSaysWhy(t *testing.T) {
	r := newRig(t)
	v1 := r.deployment("rev1", "shop/web:v1", canary())
	r.rollout(v1)
	e := newEngine(r)
	v2 := r.deployment("rev2", "shop/web:v2", canary()) // no Previous
	failing(t, v2)

	ro := e.run(e.start(v2), v2, ended)

	want := "returning traffic to the version that ran before failed (web: service web already runs revision rev2 (its promotion had started), and no earlier revision is known to restore): check smoke failed: status 503, want 200; fix it by hand or push a fix"
	if ro.State != reconcile.RolloutFailed || ro.Reason != want {
		t.Errorf("rollout = %s: %q, want failed: %q", ro.State, ro.Reason, want)
	}
	assertOnlyStable(t, r, "shop/web:v2")
}
