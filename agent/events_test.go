package agent

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/logbuf"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/reconcile"
)

// A revision refused before any rollout reaches every subscriber as one
// event of the stream, with the application, environment and revision:
// the commit status, any subscriber wired in, and the logs. Metrics count
// rollout events only.
func TestRefusalIsAnEvent(t *testing.T) {
	logs := &logbuf.Buffer{}
	h := newHarnessWith(t, agentConfig, func(_ *harness, o *Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	var got []reconcile.Event
	h.agent.Subscribe(reconcile.SubscriberFunc(func(e reconcile.Event) { got = append(got, e) }))
	other := strings.Replace(validSpec, "namespace: shop}", "namespace: payments}", 1)
	sha := h.push(map[string]string{"apps/shop/jibe.yaml": other, "apps/shop/k8s/cm.yaml": configMap})

	if len(got) != 1 {
		t.Fatalf("events = %+v, want one refusal", got)
	}
	e := got[0]
	if e.Kind != reconcile.EventTenancyRefused || e.App != shopApp || e.Env != "staging" || e.Revision != sha || e.Rollout != nil ||
		!strings.HasPrefix(e.Message, `refused: environment staging, target web: source shop may not deploy to namespace "payments"`) {
		t.Errorf("event = %+v", e)
	}
	want := github.Truncate(e.Message, github.MaxDescription)
	if s := h.statuses(sha)["jibe/shop/staging"]; s.State != "failure" || s.Description != want {
		t.Errorf("status = %s %q, want failure %q", s.State, s.Description, want)
	}
	if l := logs.String(); !strings.Contains(l, `msg="revision refused"`) || !strings.Contains(l, "event=tenancy-refused") || !strings.Contains(l, "env=staging") {
		t.Errorf("the refusal is not logged:\n%s", l)
	}
	srv := httptest.NewServer(h.agent.Handler(nil))
	defer srv.Close()
	if m := get(t, srv.URL+"/metrics"); strings.Contains(m, "jibe_rollout_events_total{") {
		t.Errorf("a refusal is counted as a rollout event:\n%s", m)
	}
}

// A rollout that waits logs its wait at info when the reason changes, not
// each time the wait is evaluated again: one line per reason, and again
// after the rollout moved on.
func TestWaitsAreLoggedWhenTheirReasonChanges(t *testing.T) {
	logs := &logbuf.Buffer{}
	h := newHarnessWith(t, agentConfig, func(_ *harness, o *Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	r := &reconcile.Rollout{ID: "shop/shop/staging/abc", Source: "shop", App: "shop", Env: "staging", Revision: "abc"}
	step := &reconcile.Step{Kind: reconcile.StepWaitHealthy, Target: "web"}
	wait := func(msg string) { h.agent.events.Emit(reconcile.RolloutEvent(reconcile.EventWaiting, r, step, msg)) }
	for range 5 {
		wait("waiting for web to become healthy: 0 of 2 replicas available")
	}
	for range 5 {
		wait("waiting for web to become healthy: 1 of 2 replicas available")
	}
	h.agent.events.Emit(reconcile.RolloutEvent(reconcile.EventStepDone, r, step, "web is healthy"))
	wait("waiting for web to become healthy: 1 of 2 replicas available")

	var got []string
	for line := range strings.Lines(logs.String()) {
		if _, msg, ok := strings.Cut(line, "message="); ok {
			got = append(got, strings.TrimSpace(msg))
		}
	}
	want := []string{
		`"waiting for web to become healthy: 0 of 2 replicas available"`,
		`"waiting for web to become healthy: 1 of 2 replicas available"`,
		`"web is healthy"`,
		`"waiting for web to become healthy: 1 of 2 replicas available"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
