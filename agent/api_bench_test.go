package agent

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
)

var apiApps = flag.Int("agent.apiApps", 1000, "applications in BenchmarkAPIApplications")

// apiEnvs are the environments of every application of
// BenchmarkAPIApplications.
var apiEnvs = []string{"dev", "staging", "production"}

// BenchmarkAPIApplications measures GET /api/v1/applications, JSON
// included, for N applications (1,000 by default) of 3 environments each,
// loaded by the agent from one commit and with a journaled rollout per
// environment (production's still running): what the dashboard's matrix
// and the API's list call cost the agent.
//
//	go test ./agent -run '^$' -bench APIApplications -benchtime 2s
func BenchmarkAPIApplications(b *testing.B) {
	h := apiBenchAgent(b, *apiApps)
	handler := h.agent.Handler(nil)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/applications", nil)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != 200 || len(h.agent.Applications()) != *apiApps {
		b.Fatalf("GET /api/v1/applications: %d, %d applications", rec.Code, len(h.agent.Applications()))
	}
	size := rec.Body.Len()
	b.ResetTimer()
	for b.Loop() {
		// A server writes the body to its connection: the recorder's
		// buffer is sized up front, so that its growth is not measured.
		rec := httptest.NewRecorder()
		rec.Body = bytes.NewBuffer(make([]byte, 0, size))
		handler.ServeHTTP(rec, req)
	}
	b.ReportMetric(float64(size>>10), "KiB/response")
}

// BenchmarkAPIApplicationsFiltered measures the list call filtered by
// text (?q=), which reads every application too.
func BenchmarkAPIApplicationsFiltered(b *testing.B) {
	h := apiBenchAgent(b, *apiApps)
	handler := h.agent.Handler(nil)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/applications?q=app00&state=running", nil)
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
	}
}

// apiBenchAgent is an agent holding n applications of apiEnvs, loaded
// from one commit of a real Git server, each environment with a
// journaled rollout.
func apiBenchAgent(b *testing.B, n int) *harness {
	b.Helper()
	h := newHarnessWith(b, e2eConfig, nil)
	files := map[string]string{}
	for i := range n {
		app := fmt.Sprintf("app%04d", i)
		files["apps/"+app+"/jibe.yaml"] = fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: %s}
spec:
  artifacts:
    web: {image: "registry.example.com/%s/web:1.%d.0"}
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments:
    - {name: dev, kubernetes: {cluster: test, namespace: %s-dev}}
    - {name: staging, kubernetes: {cluster: test, namespace: %s-staging}}
    - {name: production, kubernetes: {cluster: test, namespace: %s-production}, strategy: {canary: {steps: [{setWeight: 20}, {pause: {duration: 10m}}]}}}
`, app, app, i, app, app, app)
		files["apps/"+app+"/k8s/app.yaml"] = webManifests("${artifacts.web}", 600)
	}
	sha := h.commit(files)
	h.poll()
	h.drain() // loads every spec; no platform is configured, so nothing rolls out
	plan := func(env, strategy string) reconcile.EnvPlan {
		return reconcile.EnvPlan{Name: env, Strategy: strategy, Steps: []reconcile.Step{
			{Kind: reconcile.StepApply, Target: "web"}, {Kind: reconcile.StepShiftTraffic, Target: "web", Weight: 20},
			{Kind: reconcile.StepPause}, {Kind: reconcile.StepWaitHealthy, Target: "web"}, {Kind: reconcile.StepPromote, Target: "web"}},
			Changes: []reconcile.Change{{Target: "web", Resource: "apps/v1 Deployment ns/web", Action: reconcile.ActionUpdate}}}
	}
	for i := range n {
		id := reconcile.AppID{Source: "shop", Name: fmt.Sprintf("app%04d", i)}
		for _, env := range apiEnvs {
			r, err := h.journal.Start(id, sha, plan(env, "rolling"))
			if err != nil {
				b.Fatal(err)
			}
			if env == "production" {
				continue
			}
			if _, err := h.journal.Finish(r.ID, reconcile.RolloutSucceeded, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	return h
}
