package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/reconcile"
)

// actionsConfig is e2eConfig with two write tokens, break-glass for
// production by token oncall only, and the freeze windows of FREEZE.
const actionsConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: shop
    git: {url: URL, repository: acme/shop, pollInterval: 5s}
    allow: {clusters: [test], namespaces: ["*"], checkHosts: ["127.0.0.1"]}
    breakGlass: {environments: [production], tokens: [oncall]}
kubernetes:
  clusters:
    - {name: test, inCluster: true}
github:
  token: {env: GITHUB_TOKEN}
server:
  tokens:
    - {name: ci, scope: write, secret: {env: JIBE_TEST_WRITE}}
    - {name: oncall, scope: write, secret: {env: JIBE_TEST_ONCALL}}
    - {name: dashboard, scope: read, secret: {env: JIBE_TEST_READ}}
`

const oncallSecret = "o-0123456789abcdef0123456789abcdef"

// actionsE2E is the end-to-end rig with actionsConfig plus extra
// configuration, and the agent's API served over HTTP.
type actionsE2E struct {
	*e2e
	api string
}

func newActionsE2E(t *testing.T, extra string, tune func(*harness, *Options)) *actionsE2E {
	t.Helper()
	t.Setenv("JIBE_TEST_WRITE", writeSecret)
	t.Setenv("JIBE_TEST_ONCALL", oncallSecret)
	t.Setenv("JIBE_TEST_READ", readSecret)
	e := &actionsE2E{e2e: newE2EConfig(t, actionsConfig+extra, tune)}
	srv := httptest.NewServer(e.agent.Handler(nil))
	t.Cleanup(srv.Close)
	e.api = srv.URL + "/api/v1/applications/shop/shop"
	return e
}

// act posts an action to path (under the application's URL) with body
// and token, and returns the status and the answer (or error text).
func (e *actionsE2E) act(token, path, body string) (int, ActionResult, string) {
	e.t.Helper()
	url := e.api + path
	if strings.HasPrefix(path, "/api/") {
		url = strings.TrimSuffix(e.api, "/api/v1/applications/shop/shop") + path
	}
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var res ActionResult
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, &res); err != nil {
			e.t.Fatalf("answer %s: %v", data, err)
		}
	}
	return resp.StatusCode, res, string(data)
}

// mustAct is act that must succeed.
func (e *actionsE2E) mustAct(token, path, body string) ActionResult {
	e.t.Helper()
	code, res, text := e.act(token, path, body)
	if code != http.StatusOK {
		e.t.Fatalf("POST %s: %d %s", path, code, text)
	}
	e.t.Logf("POST %s: %s", path, res.Message)
	return res
}

// wantRefused checks that an action is refused with code and a message
// containing want.
func (e *actionsE2E) wantRefused(token, path, body string, code int, want string) {
	e.t.Helper()
	got, _, text := e.act(token, path, body)
	if got != code || !strings.Contains(text, want) {
		e.t.Errorf("POST %s %s: %d %q; want %d with %q", path, body, got, text, code, want)
	}
}

// history returns production's history.
func (e *actionsE2E) history(env string) HistoryView {
	e.t.Helper()
	v, err := e.agent.History(shopApp, env, "", 20)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// hasAction reports whether the history holds action by token.
func hasAction(v HistoryView, action, by string) bool {
	for _, a := range v.Actions {
		if a.Action == action && a.By == by {
			return true
		}
	}
	return false
}

func (e *e2e) atPause(revision string) func() bool {
	return func() bool {
		r, err := e.journal.Current(shopApp, "production")
		return err == nil && r.Revision == revision && !r.State.Final() && !r.RollingBack && r.Next < len(r.Plan.Steps) &&
			r.Plan.Steps[r.Next].Kind == reconcile.StepPause
	}
}

// Abort rolls a canary paused in production back at once; retry rolls
// the same revision out again from its first step; promote skips its
// pause. Each is journaled with the token's name and shown in history;
// an action that does not apply is refused with 409 saying what would.
func TestE2EActionsAbortRetryPromote(t *testing.T) {
	e := newActionsE2E(t, "", nil)
	canary := "{canary: {steps: [{setWeight: 50}, {pause: {duration: 1h}}]}}"
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", canary))
	e.settle("v1 in production", e.final("production", v1))
	e.wantRefused(writeSecret, "/environments/production/abort", "", http.StatusConflict, "has succeeded: nothing to abort; rollback --to")
	e.wantRefused(readSecret, "/environments/production/abort", "", http.StatusForbidden, "scope write")
	e.wantRefused(writeSecret, "/environments/qa/abort", "", http.StatusNotFound, "no environment qa")
	e.wantRefused(writeSecret, "/environments/production/abort", "{bad", http.StatusBadRequest, "not the action's JSON")

	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", canary))
	e.settle("v2 paused in production", e.atPause(v2))
	res := e.mustAct(writeSecret, "/environments/production/abort", `{"reason":"errors in the canary"}`)
	if res.By != "ci" || res.Action != "abort" || !strings.Contains(res.Message, "aborting the rollout of "+v2[:7]) || !strings.Contains(res.Message, v1[:7]) {
		t.Errorf("abort answer = %+v", res)
	}
	e.settle("v2 aborted", e.final("production", v2))
	r, _ := e.journal.Current(shopApp, "production")
	if r.State != reconcile.RolloutRolledBack || !strings.Contains(r.Reason, "aborted by ci: errors in the canary") {
		t.Fatalf("production after abort = %s: %s", r.State, r.Reason)
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("production runs %s after the abort", got)
	}
	e.agent.resync()
	e.drain()
	if cur, _ := e.journal.Current(shopApp, "production"); cur.ID != r.ID {
		t.Errorf("an aborted revision was rolled out again on its own: %s", cur.ID)
	}
	e.wantRefused(writeSecret, "/environments/production/promote", "", http.StatusConflict, "retry or rollback applies")

	e.mustAct(writeSecret, "/environments/production/retry", "")
	e.settle("v2 retried up to its pause", e.atPause(v2))
	retried, _ := e.journal.Current(shopApp, "production")
	if retried.Action != "retry" || retried.ID == r.ID {
		t.Fatalf("the retry's rollout = %s (action %q)", retried.ID, retried.Action)
	}
	e.wantRefused(writeSecret, "/environments/production/retry", "", http.StatusConflict, "cannot be retried")

	res = e.mustAct(writeSecret, "/environments/production/promote", "")
	if !strings.Contains(res.Message, "1 pause(s) skipped") {
		t.Errorf("promote answer = %q", res.Message)
	}
	e.settle("v2 promoted", e.final("production", v2))
	if done, _ := e.journal.Current(shopApp, "production"); done.State != reconcile.RolloutSucceeded {
		t.Fatalf("production after promote = %s: %s", done.State, done.Reason)
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:2.0.0" {
		t.Errorf("production runs %s after the promotion", got)
	}
	h := e.history("production")
	for _, act := range []string{"abort", "retry", "promote"} {
		if !hasAction(h, act, "ci") {
			t.Errorf("history has no %s by ci: %+v", act, h.Actions)
		}
	}
	if len(h.Rollouts) < 3 || h.Rollouts[0].Action != "retry" {
		t.Errorf("history's rollouts: %+v", h.Rollouts)
	}
}

// A rollback to an earlier good revision deploys it now and holds the
// environment there, without rolling forward to Git's revision, until a
// new commit of the application arrives.
func TestE2EActionRollbackHoldsUntilANewCommit(t *testing.T) {
	e := newActionsE2E(t, "", nil)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))
	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", rolling))
	e.settle("v2 in production", e.final("production", v2))

	e.wantRefused(writeSecret, "/environments/production/rollback", "", http.StatusBadRequest, "needs the revision")
	e.wantRefused(writeSecret, "/environments/production/rollback", `{"to":"0000000"}`, http.StatusNotFound, "succeeded in production")
	res := e.mustAct(writeSecret, "/environments/production/rollback", `{"to":"`+v1[:7]+`","reason":"v2 leaks memory"}`)
	for _, want := range []string{"Revert the change in Git", "does not roll forward to " + v2[:7]} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("rollback answer %q lacks %q", res.Message, want)
		}
	}
	e.settle("production back on v1", func() bool {
		r, err := e.journal.Current(shopApp, "production")
		return err == nil && r.Action == "rollback" && r.State.Final()
	})
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Fatalf("production runs %s after the rollback", got)
	}
	for range 3 { // drift intervals and requeues do not roll forward
		e.clock.Step(6 * time.Minute)
		e.agent.resync()
		e.drain()
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Fatalf("production rolled forward to %s before a new commit", got)
	}
	prod := e.agent.Applications()[0].Environments[1]
	if !strings.Contains(prod.Hold, "held at "+v1[:7]) {
		t.Errorf("production's view does not say it is held: %+v", prod)
	}
	if !hasAction(e.history("production"), "rollback", "ci") {
		t.Error("the history has no rollback by ci")
	}

	v3 := e.push(e.files("registry.example.com/shop/web:3.0.0", rolling))
	e.settle("v3 in production", e.final("production", v3))
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:3.0.0" {
		t.Errorf("production runs %s after a new commit", got)
	}
}

// Pausing an application holds a new revision before its first step;
// resuming lets it roll out. A source pause holds all its applications.
func TestE2EActionPauseAndResume(t *testing.T) {
	e := newActionsE2E(t, "", nil)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))
	e.wantRefused(writeSecret, "/resume", "", http.StatusConflict, "is not paused")
	res := e.mustAct(writeSecret, "/pause", `{"reason":"incident 42"}`)
	if !strings.Contains(res.Message, "no new rollout") {
		t.Errorf("pause answer = %q", res.Message)
	}
	e.wantRefused(writeSecret, "/pause", "", http.StatusConflict, "already paused")

	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", rolling))
	e.clock.Step(time.Minute)
	e.drain()
	if cur, _ := e.journal.Current(shopApp, "staging"); cur.Revision != v1 {
		t.Fatalf("staging started %s while paused", cur.Revision)
	}
	staging := e.agent.Applications()[0].Environments[0]
	if !strings.Contains(staging.Hold, "paused by ci") || !strings.Contains(staging.Hold, "incident 42") {
		t.Errorf("staging's view hold = %q", staging.Hold)
	}
	if s := e.statuses(v2)["jibe/shop/staging"]; s.State != "pending" || !strings.Contains(s.Description, "paused") {
		t.Errorf("staging status while paused = %s %q", s.State, s.Description)
	}
	e.mustAct(writeSecret, "/resume", "")
	e.mustAct(writeSecret, "/api/v1/sources/shop/pause", `{"reason":"release freeze"}`)
	e.drain()
	if cur, _ := e.journal.Current(shopApp, "staging"); cur.Revision != v1 {
		t.Fatalf("staging started %s while its source is paused", cur.Revision)
	}
	e.wantRefused(writeSecret, "/api/v1/sources/nope/pause", "", http.StatusNotFound, "no source nope")
	e.mustAct(writeSecret, "/api/v1/sources/shop/resume", "")
	e.settle("v2 in production after resume", e.final("production", v2))
	e.mustAct(writeSecret, "/refresh", "")
	h := e.history("staging")
	for _, act := range []string{"pause", "resume", "refresh"} {
		if !hasAction(h, act, "ci") {
			t.Errorf("history has no %s by ci: %+v", act, h.Actions)
		}
	}
}

// A freeze window holds production's rollout, saying until when and why
// in the API and the commit status, and lets it go once closed.
func TestE2EFreezeWindowHoldsARollout(t *testing.T) {
	// The rig's clock starts on Monday 2026-11-23 at 12:00 UTC.
	e := newActionsE2E(t, `freezeWindows:
  - {schedule: "0 12 * * 1", duration: 2h, environments: [production], reason: "Monday review"}
`, nil)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in staging", e.final("staging", v1))
	e.drain()
	if _, err := e.journal.Current(shopApp, "production"); err == nil {
		t.Fatal("production started during its freeze window")
	}
	prod := e.agent.Applications()[0].Environments[1]
	want := "frozen until 2026-11-23T14:00:00Z by freeze window 0"
	if !strings.Contains(prod.Hold, want) || !strings.Contains(prod.Hold, "Monday review") {
		t.Errorf("production's hold = %q; want %q", prod.Hold, want)
	}
	if s := e.statuses(v1)["jibe/shop/production"]; s.State != "pending" || !strings.Contains(s.Description, want) {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	e.clock.Step(2 * time.Hour)
	e.settle("v1 in production once the window closed", e.final("production", v1))
	if prod := e.agent.Applications()[0].Environments[1]; prod.Hold != "" {
		t.Errorf("production still shows a hold: %q", prod.Hold)
	}
}

// Break-glass approval opens production's gate for a token the
// configuration allows, with a reason, recorded in the history, the
// commit status and the event stream; other tokens, other environments
// and a missing reason are refused. The waiting message says how to get
// an approval otherwise.
func TestE2EBreakGlassApproval(t *testing.T) {
	e := newActionsE2E(t, "", withReviews)
	e.emu.AddOrg("acme")
	e.emu.AddTeamMember("acme", "sre", "sam", githubemu.TeamMember)
	v1 := e.push(e.gateFiles("registry.example.com/shop/web:1.0.0", ""))
	e.settle("production at its gate", func() bool { return e.waitingForApproval(v1) })
	waiting := e.agent.Applications()[0].Environments[1].Waiting
	for _, want := range []string{"only a pull request merged into main with 1 approving review(s) from team acme/sre", "or break-glass: jibe approve shop/shop production"} {
		if !strings.Contains(waiting, want) {
			t.Errorf("production waits with %q; want it to say %q", waiting, want)
		}
	}
	events, stop := e.agent.Watch()
	defer stop()

	e.wantRefused(writeSecret, "/environments/production/approve", `{"reason":"hotfix"}`, http.StatusForbidden, "token ci may not use break-glass")
	e.wantRefused(oncallSecret, "/environments/staging/approve", `{"reason":"hotfix"}`, http.StatusForbidden, "not enabled for environment staging")
	e.wantRefused(oncallSecret, "/environments/production/approve", "", http.StatusBadRequest, "needs a reason")
	e.wantRefused(oncallSecret, "/environments/production/promote", `{"force":true}`, http.StatusBadRequest, "needs a reason")
	e.mustAct(oncallSecret, "/environments/production/approve", `{"reason":"payment outage hotfix"}`)
	e.settle("production rolled out", e.final("production", v1))
	if r, _ := e.journal.Current(shopApp, "production"); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("production = %s: %s", r.State, r.Reason)
	}
	if s := e.statuses(v1)["jibe/shop/production"]; s.State != "success" || !strings.Contains(s.Description, "break-glass: oncall: payment outage hotfix") {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	h := e.history("production")
	if !hasAction(h, "approve", "oncall") || !strings.Contains(h.Rollouts[0].ApprovedBy, "break-glass by oncall") {
		t.Errorf("history = %+v", h)
	}
	found := false
	for len(events) > 0 && !found {
		ev := <-events
		found = ev.Type == "action" && strings.Contains(ev.Message, "break-glass approval") && strings.Contains(ev.Message, "oncall")
	}
	if !found {
		t.Error("the event stream had no break-glass action")
	}
}

// A pause stops a running canary at its next step boundary: the pause
// step under way ends, and the next step waits until resume.
func TestE2EActionPauseStopsARunningRollout(t *testing.T) {
	e := newActionsE2E(t, "", nil)
	canary := "{canary: {steps: [{setWeight: 50}, {pause: {duration: 10m}}]}}"
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", canary))
	e.settle("v1 in production", e.final("production", v1))
	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", canary))
	e.settle("v2 paused in production", e.atPause(v2))
	e.mustAct(writeSecret, "/pause", `{"reason":"incident 43"}`)
	e.clock.Step(11 * time.Minute) // the canary's pause is over
	e.awaitDue()
	e.drain()
	r, _ := e.journal.Current(shopApp, "production")
	if r.Revision != v2 || r.State.Final() || r.Plan.Steps[r.Next].Kind == reconcile.StepPause {
		t.Fatalf("production's rollout = %s at step %d; want it held after its pause", r.State, r.Next)
	}
	held := r.Next
	e.clock.Step(time.Hour)
	e.awaitDue()
	e.drain()
	if r, _ = e.journal.Current(shopApp, "production"); r.Next != held || r.State.Final() {
		t.Fatalf("a paused rollout went on: step %d → %d, %s", held, r.Next, r.State)
	}
	if prod := e.agent.Applications()[0].Environments[1]; !strings.Contains(prod.Hold, "incident 43") {
		t.Errorf("production's hold = %q", prod.Hold)
	}
	e.mustAct(writeSecret, "/resume", "")
	e.settle("v2 in production after resume", e.final("production", v2))
	if r, _ := e.journal.Current(shopApp, "production"); r.State != reconcile.RolloutSucceeded {
		t.Errorf("production = %s: %s", r.State, r.Reason)
	}
}

// Promote with force, by break-glass, skips the approval gate; without
// force it leaves the gate alone.
func TestE2EActionForcedPromotionSkipsTheGate(t *testing.T) {
	e := newActionsE2E(t, "", withReviews)
	v1 := e.push(e.gateFiles("registry.example.com/shop/web:1.0.0", ""))
	e.settle("production at its gate", func() bool { return e.waitingForApproval(v1) })
	e.wantRefused(oncallSecret, "/environments/production/promote", "", http.StatusConflict, "promote with force (break-glass) skips them")
	res := e.mustAct(oncallSecret, "/environments/production/promote", `{"force":true,"reason":"outage"}`)
	if !strings.Contains(res.Message, "skipped by break-glass") {
		t.Errorf("forced promote answer = %q", res.Message)
	}
	e.settle("production rolled out", e.final("production", v1))
	r, _ := e.journal.Current(shopApp, "production")
	if r.State != reconcile.RolloutSucceeded || r.Promoted == nil || !r.Promoted.Force || r.Promoted.By != "oncall" {
		t.Fatalf("production = %s, promoted %+v", r.State, r.Promoted)
	}
}
