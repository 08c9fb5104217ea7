package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
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
}

// An environment that has not started the revision yet is listed as
// pending, behind the environment it waits for.
func TestAPIShowsPendingEnvironments(t *testing.T) {
	e := newE2E(t)
	e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))

	production := envOf(t, e.agent.Applications(), "production")
	if production.State != "pending" {
		t.Errorf("production state = %q, want pending while staging rolls out", production.State)
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
