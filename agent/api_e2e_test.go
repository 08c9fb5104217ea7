package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/reconcile"
)

// envOf returns the view of app's environment env, failing when the API
// does not show it.
func envOf(t *testing.T, apps []AppView, env string) EnvView {
	t.Helper()
	for _, a := range apps {
		for _, e := range a.Environments {
			if e.Name == env {
				return e
			}
		}
	}
	t.Fatalf("the API shows no environment %s: %+v", env, apps)
	return EnvView{}
}

// A revision rolled back in staging is never shown as what staging runs:
// the API shows the last good revision there, and the rolled-back one as
// the latest rollout.
func TestAPIRolledBackRevisionIsNotShownAsRunning(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))
	bad := e.push(e.files(brokenImage, rolling))
	e.settle("broken revision in staging", e.final("staging", bad))

	staging := envOf(t, e.agent.Applications(), "staging")
	if staging.Revision != v1 {
		t.Errorf("staging shows revision %s as running, want the last good one %s (the broken one was rolled back)", staging.Revision, v1)
	}
	if staging.State != "rolled-back" {
		t.Errorf("staging state = %s, want rolled-back", staging.State)
	}
	if staging.Running == nil || staging.Running.Revision != v1 || staging.LastGood != v1 || len(staging.Running.Artifacts) != 1 ||
		staging.Running.Artifacts[0].Version != "1.0.0" {
		t.Errorf("staging runs %+v (last good %s), want v1 with image tag 1.0.0", staging.Running, staging.LastGood)
	}
	if staging.Wanted == nil || staging.Wanted.Revision != bad || staging.Wanted.Artifacts[0].Version != "broken" {
		t.Errorf("staging wants %+v, want the broken revision", staging.Wanted)
	}
	if staging.Rollout == nil || staging.Rollout.Revision != bad || staging.Rollout.State != "rolled-back" || !strings.Contains(staging.Rollout.Reason, "did not become healthy") {
		t.Errorf("staging's latest rollout = %+v", staging.Rollout)
	}
	production := envOf(t, e.agent.Applications(), "production")
	if production.Revision != v1 || production.State != StatePending || production.PendingOn != "staging" {
		t.Errorf("production = %s %s behind %q, want v1 running, pending behind staging", production.Revision, production.State, production.PendingOn)
	}
	if apps := e.agent.ApplicationList(AppFilter{State: "rolled-back"}); len(apps) != 1 || apps[0].State != "rolled-back" {
		t.Errorf("?state=rolled-back lists %+v", apps)
	}
	if apps := e.agent.ApplicationList(AppFilter{State: "running"}); len(apps) != 0 {
		t.Errorf("?state=running lists %+v", apps)
	}
	if apps := e.agent.ApplicationList(AppFilter{Text: "SHO", Source: "shop"}); len(apps) != 1 {
		t.Errorf("?q=SHO&source=shop lists %+v", apps)
	}
	if apps := e.agent.ApplicationList(AppFilter{Source: "other"}); len(apps) != 0 {
		t.Errorf("?source=other lists %+v", apps)
	}
	h, err := e.agent.History(shopApp, "staging", "", 1)
	if err != nil || len(h.Rollouts) != 1 || h.Rollouts[0].Revision != bad || h.Rollouts[0].State != "rolled-back" || h.Next == "" {
		t.Fatalf("staging's history page 1 = %+v, %v", h, err)
	}
	h, err = e.agent.History(shopApp, "staging", h.Next, 1)
	if err != nil || len(h.Rollouts) != 1 || h.Rollouts[0].Revision != v1 || h.Rollouts[0].State != "succeeded" || h.Next != "" || h.Rollouts[0].Finished.IsZero() {
		t.Errorf("staging's history page 2 = %+v, %v", h, err)
	}
}

// An environment that has not started the revision yet is listed as
// pending, behind the environment it waits for.
func TestAPIShowsPendingEnvironments(t *testing.T) {
	e := newE2EWith(t, func(_ *harness, o *Options) { o.Checks = checks.New(checks.Options{}) })
	smoke := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer smoke.Close()
	// Staging verifies for 10 minutes of the emulated clock, which stands
	// still: production waits behind it.
	files := e.files("registry.example.com/shop/web:1.0.0", rolling)
	stagingEnv := "kubernetes: {cluster: test, namespace: " + e.staging + "}"
	files["apps/shop/jibe.yaml"] = strings.Replace(files["apps/shop/jibe.yaml"], stagingEnv,
		stagingEnv+"\n      verify: [{name: smoke, http: {url: \""+smoke.URL+"\"}, interval: 1m, duration: 10m}]", 1)
	e.push(files)

	apps := e.agent.Applications()
	production := envOf(t, apps, "production")
	if production.State != "pending" || production.PendingOn != "staging" || production.Revision != "" || production.Running != nil {
		t.Errorf("production = %+v, want pending behind staging, running nothing", production)
	}
	if production.Wanted == nil || production.Wanted.Revision != apps[0].Revision || production.Wanted.Artifacts[0].Ref != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("production wants %+v", production.Wanted)
	}
	staging := envOf(t, apps, "staging")
	if staging.State != "running" || staging.Revision != "" || len(staging.Targets) != 1 || staging.Targets[0].Platform != "kubernetes" {
		t.Fatalf("staging = %+v, want running, with its target", staging)
	}
	if in := staging.Targets[0].Instances; in == nil || in.Desired != 2 || staging.Targets[0].Observed.IsZero() {
		t.Errorf("staging's target = %+v, want its 2 desired pods as observed while waiting for health", staging.Targets[0])
	}
	if apps[0].State != "running" {
		t.Errorf("application state = %s, want running", apps[0].State)
	}
}

// A source whose polls fail is visible in the API, with its error.
func TestAPIShowsFailingSource(t *testing.T) {
	h := newHarnessWith(t, e2eConfig, func(h *harness, o *Options) { o.Sources = []Source{h.git} })
	h.push(map[string]string{"apps/shop/jibe.yaml": validSpec, "apps/shop/k8s/cm.yaml": configMap})
	if err := os.Rename(h.repo.Dir(), h.repo.Dir()+".gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.git.PollOnce(t.Context()); err == nil {
		t.Fatal("polling a removed repository succeeded")
	}
	srv := httptest.NewServer(h.agent.Handler(nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/sources")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"lastError"`) {
		t.Errorf("GET /api/v1/sources = %s %s, want the failing source's error", resp.Status, body)
	}
}

// The rollout in progress shows its steps with the current one, the
// traffic shifted over time, the analysis readings against their
// threshold, what a pause waits until, and the instances of the canary
// and of the stable version; the history lists it.
func TestAPIRolloutOfCanary(t *testing.T) {
	e := newE2EWith(t, func(_ *harness, o *Options) { o.Checks = checks.New(checks.Options{}) })
	smoke := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer smoke.Close()
	canary := `{canary: {steps: [{setWeight: 50}, {analysis: {checks: [{name: smoke, http: {url: "` + smoke.URL + `"}}]}}, {pause: {duration: 10m}}]}}`
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", canary))
	e.settle("v1 in production", e.final("production", v1))
	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", canary))
	paused := func() bool {
		r, err := e.journal.Current(shopApp, "production")
		return err == nil && r.Revision == v2 && !r.State.Final() && r.Plan.Steps[r.Next].Kind == reconcile.StepPause
	}
	e.settle("v2 paused in production", paused)

	v, err := e.agent.Rollout(shopApp, "production", "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Revision != v2 || v.State != "running" || v.Strategy != "canary" || v.Mode != "canary" || v.Weight == nil || *v.Weight != 50 {
		t.Errorf("rollout = %+v", v.RolloutSummary)
	}
	var current []string
	for _, s := range v.Steps {
		if s.State == StepCurrent {
			current = append(current, s.Kind)
		}
	}
	if len(current) != 1 || current[0] != "pause" || v.Steps[v.Step].Kind != "pause" {
		t.Errorf("current steps = %v at %d, want the pause: %+v", current, v.Step, v.Steps)
	}
	if len(v.Traffic) != 2 || v.Traffic[0].Weight != 0 || v.Traffic[1].Weight != 50 {
		t.Errorf("traffic = %+v, want 0 then 50", v.Traffic)
	}
	if len(v.Analyses) != 1 || v.Analyses[0].Check != "smoke" || v.Analyses[0].Kind != "http" || len(v.Analyses[0].Measurements) == 0 || !v.Analyses[0].Measurements[0].Passed {
		t.Errorf("analyses = %+v", v.Analyses)
	}
	if v.Waiting == nil || v.Waiting.Until.IsZero() || !strings.Contains(v.Waiting.Message, "pausing") {
		t.Errorf("waiting = %+v, want the pause's end", v.Waiting)
	}
	production := envOf(t, e.agent.Applications(), "production")
	if production.Revision != v1 || production.Rollout == nil || production.Rollout.Revision != v2 || production.State != "running" {
		t.Errorf("production = %+v, want v1 running and v2 rolling out", production)
	}
	in := production.Targets[0].Instances
	if in == nil || len(in.Versions) != 2 || !in.Versions[0].New || in.Versions[0].Revision != v2 || in.Versions[1].Revision != v1 {
		t.Errorf("production's instances = %+v, want the canary's (new) and the stable version's", in)
	}

	srv := httptest.NewServer(e.agent.Handler(nil))
	defer srv.Close()
	var got RolloutView
	getJSON(t, srv.URL+"/api/v1/applications/shop/shop/environments/production/rollout", &got)
	if got.ID != v.ID || len(got.Steps) != len(v.Steps) {
		t.Errorf("GET .../rollout = %+v", got)
	}
	var h HistoryView
	getJSON(t, srv.URL+"/api/v1/applications/shop/shop/environments/production/history?limit=5", &h)
	if len(h.Rollouts) != 2 || h.Rollouts[0].Revision != v2 || h.Rollouts[1].Revision != v1 || h.Next != "" {
		t.Errorf("history = %+v", h)
	}
	getJSON(t, srv.URL+"/api/v1/applications/shop/shop/environments/production/rollouts/"+v1, &got)
	if got.Revision != v1 || got.State != "succeeded" {
		t.Errorf("GET .../rollouts/v1 = %+v", got.RolloutSummary)
	}
	if status, body := request(t, srv.URL+"/api/v1/applications/shop/shop/environments/production/history?limit=0", ""); status != 400 || !strings.Contains(body, "from 1 to 100") {
		t.Errorf("limit=0: %d %s", status, body)
	}
}
