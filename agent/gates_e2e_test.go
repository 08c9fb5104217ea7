package agent

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/promemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// gateFiles is the application with production behind "one approving
// review from team acme/sre"; staging is given more settings by extra
// (lines of environment fields).
func (e *e2e) gateFiles(image, stagingExtra string) map[string]string {
	f := e.files(image, rolling)
	if stagingExtra != "" {
		stagingExtra += "\n"
	}
	f["apps/shop/jibe.yaml"] = strings.Replace(f["apps/shop/jibe.yaml"], "    - name: production\n", stagingExtra+"    - name: production\n", 1) +
		"      approval:\n        reviews: 1\n        from: {teams: [acme/sre]}\n"
	return f
}

// newGateE2E is the end-to-end harness with approvals and plan previews
// read from the GitHub emulator through conditional requests, and its
// people: dana (write) opens pull requests, alice has write permission
// but is not in team acme/sre, sam and erin are in it.
func newGateE2E(t *testing.T) *e2e {
	t.Helper()
	e := newE2EWith(t, withReviews)
	e.emu.AddOrg("acme")
	for _, u := range []string{"dana", "alice"} {
		if err := e.emu.SetPermission("acme/shop", u, githubemu.PermissionWrite); err != nil {
			t.Fatal(err)
		}
	}
	e.emu.AddTeamMember("acme", "sre", "sam", githubemu.TeamMember)
	e.emu.AddTeamMember("acme", "sre", "erin", githubemu.TeamMember)
	return e
}

// withReviews gives the agent approval gates and plan previews that read
// the GitHub emulator through conditional requests.
func withReviews(h *harness, o *Options) {
	client := gh.NewClient(&http.Client{Transport: github.NewConditionalTransport(nil, 1000)}).WithAuthToken("ghp_jibe")
	client.BaseURL, _ = url.Parse(h.emu.URL() + "/")
	o.Approvals = github.NewApprovals(client)
	o.PullRequests = github.NewPullRequests(client)
	o.Fetcher = h.git
}

// openPull opens a pull request by dana from a new branch off main with
// files, as GitHub does (refs/pull/N/head included), and returns its
// number, branch and head.
func (e *harness) openPull(files map[string]string) (int, string, string) {
	e.t.Helper()
	if e.repo.Head("main") == "" { // the repository starts with a README
		e.push(map[string]string{"README.md": "shop\n"})
	}
	e.pulls++
	branch := fmt.Sprintf("change-%d", e.pulls)
	head := e.repo.Commit(gitserver.Commit{Branch: branch, Parent: "main", Files: files})
	n, err := e.emu.CreatePullRequest(e.t.Context(), "acme/shop", githubemu.NewPullRequest{
		Title: "change", Author: "dana", Head: branch, HeadSHA: head, Base: "main"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.repo.UpdateRef(fmt.Sprintf("refs/pull/%d/head", n), head)
	e.agent.Hint(sources.Hint{Kind: sources.HintPullRequest, Repository: "acme/shop", Action: "opened",
		Number: n, HeadRef: branch, HeadSHA: head, BaseRef: "main"})
	e.drain()
	return n, branch, head
}

// pushPull pushes a commit with files to pull request n's branch.
func (e *harness) pushPull(n int, branch string, files map[string]string) string {
	e.t.Helper()
	head := e.repo.Commit(gitserver.Commit{Branch: branch, Files: files})
	e.repo.UpdateRef(fmt.Sprintf("refs/pull/%d/head", n), head)
	if err := e.emu.Push(e.t.Context(), "acme/shop", githubemu.Push{Branch: branch, After: head, Pusher: "dana"}); err != nil {
		e.t.Fatal(err)
	}
	e.agent.Hint(sources.Hint{Kind: sources.HintPullRequest, Repository: "acme/shop", Action: "synchronize",
		Number: n, HeadRef: branch, HeadSHA: head, BaseRef: "main"})
	e.drain()
	return head
}

// merge merges pull request n, whose head has files, into main with a
// merge commit, and lets the agent poll. It returns the merge commit.
func (e *harness) merge(n int, files map[string]string) string {
	e.t.Helper()
	sha := e.repo.Commit(gitserver.Commit{Message: fmt.Sprintf("Merge pull request #%d from acme/change\n", n), Files: files})
	if err := e.emu.MergePullRequest(e.t.Context(), "acme/shop", n, "dana", sha); err != nil {
		e.t.Fatal(err)
	}
	e.poll()
	e.drain()
	return sha
}

// review submits a review of pull request n at commit, delivered to the
// agent as a webhook would, and returns its ID.
func (e *harness) review(n int, user string, state githubemu.ReviewState, commit string) int64 {
	e.t.Helper()
	id, err := e.emu.SubmitReview(e.t.Context(), "acme/shop", n, githubemu.Review{User: user, State: state, CommitID: commit})
	if err != nil {
		e.t.Fatal(err)
	}
	e.hintReview(n)
	return id
}

func (e *harness) hintReview(n int) {
	e.agent.Hint(sources.Hint{Kind: sources.HintPullRequestReview, Repository: "acme/shop", Action: "submitted", Number: n})
	e.drain()
}

// waitingForApproval reports whether production's rollout of revision is
// held at its approval gate.
func (e *e2e) waitingForApproval(revision string) bool {
	r, err := e.journal.Current(shopApp, "production")
	return err == nil && r.Revision == revision && r.State == reconcile.RolloutRunning &&
		r.Plan.Steps[r.Next].Kind == reconcile.StepAwaitApproval
}

// assertHeld checks that production still waits at the gate for revision
// and that its status says so.
func (e *e2e) assertHeld(revision, why, wantInStatus string) {
	e.t.Helper()
	e.clock.Step(2 * 60e9) // past the gate's poll interval: evaluated again
	e.drain()
	if !e.waitingForApproval(revision) {
		e.t.Fatalf("%s opened the gate", why)
	}
	s := e.statuses(revision)["jibe/shop/production"]
	if s.State != "pending" || !strings.Contains(s.Description, wantInStatus) {
		e.t.Errorf("after %s, production status = %s %q; want pending with %q", why, s.State, s.Description, wantInStatus)
	}
}

// Production waits for an approving review from team acme/sre. The
// author's own approval, an approval from someone outside the team, a
// dismissed approval and a stale one (given before the last push) leave
// it waiting, with a pending status saying who is required; an approval
// from a member opens it.
func TestE2EProductionWaitsForAnApprovalFromAnAllowedReviewer(t *testing.T) {
	e := newGateE2E(t)
	files := e.gateFiles("registry.example.com/shop/web:1.0.0", "")
	n, branch, first := e.openPull(files)
	e.review(n, "sam", githubemu.ReviewApproved, first) // stale once dana pushes again
	files["apps/shop/README.md"] = "v1\n"
	head := e.pushPull(n, branch, files)
	merged := e.merge(n, files)
	e.settle("production at its gate", func() bool { return e.waitingForApproval(merged) })

	if s := e.statuses(merged)["jibe/shop/staging"]; s.State != "success" {
		t.Errorf("staging status = %s %q", s.State, s.Description)
	}
	e.assertHeld(merged, "a stale approval", "acme/sre")
	t.Logf("production's status at the gate: %q", e.statuses(merged)["jibe/shop/production"].Description)
	e.review(n, "dana", githubemu.ReviewApproved, head)
	e.assertHeld(merged, "the author's own approval", "acme/sre")
	e.review(n, "alice", githubemu.ReviewApproved, head)
	e.assertHeld(merged, "an approval from outside team acme/sre", "acme/sre")
	id, err := e.emu.SubmitReview(t.Context(), "acme/shop", n, githubemu.Review{User: "erin", State: githubemu.ReviewApproved, CommitID: head})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.emu.DismissReview(t.Context(), "acme/shop", n, id, "alice"); err != nil {
		t.Fatal(err)
	}
	e.hintReview(n)
	e.assertHeld(merged, "a dismissed approval", "acme/sre")
	if got := e.image(e.production, "web"); !strings.HasPrefix(got, "(") {
		t.Fatalf("production runs %s before approval", got)
	}

	e.review(n, "sam", githubemu.ReviewApproved, head)
	e.settle("production rolled out", e.final("production", merged))
	if s := e.statuses(merged)["jibe/shop/production"]; s.State != "success" {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("production runs %s", got)
	}
}

// A revision pushed straight to the branch reaches staging but is held at
// production's gate, with a status saying why, however long it waits.
func TestE2EDirectPushIsHeldAtTheGate(t *testing.T) {
	e := newGateE2E(t)
	v1 := e.push(e.gateFiles("registry.example.com/shop/web:1.0.0", ""))
	e.settle("production at its gate", func() bool { return e.waitingForApproval(v1) })
	for range 3 {
		e.assertHeld(v1, "waiting", "waiting: no approved pull request for "+v1[:7])
	}
	if got := e.image(e.production, "web"); !strings.HasPrefix(got, "(") {
		t.Errorf("production runs %s from a direct push", got)
	}
	apps := e.agent.Applications()
	if len(apps) != 1 || len(apps[0].Environments) != 2 || !strings.Contains(apps[0].Environments[1].Waiting, "no approved pull request") {
		t.Errorf("the API does not show what production waits for: %+v", apps)
	}
}

// The plan of an open pull request is posted as one comment, edited in
// place on every push, with a plan status on each head; nothing is
// deployed from it, and a broken spec is reported with file and line.
func TestE2EPlanPreviewIsOneCommentUpdatedInPlace(t *testing.T) {
	e := newGateE2E(t)
	v1 := e.push(e.gateFiles("registry.example.com/shop/web:1.0.0", ""))
	e.settle("staging at v1", e.final("staging", v1))

	n, branch, head := e.openPull(e.gateFiles("registry.example.com/shop/web:2.0.0", ""))
	comments := e.emu.Comments("acme/shop", n)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "web:2.0.0") || !strings.Contains(comments[0].Body, "approval") {
		t.Fatalf("comments after opening: %+v", comments)
	}
	if s := e.statuses(head)["jibe/shop/plan"]; s.State != "success" || !strings.Contains(s.Description, "production") {
		t.Errorf("plan status on the head = %s %q", s.State, s.Description)
	}

	next := e.pushPull(n, branch, e.gateFiles("registry.example.com/shop/web:2.1.0", ""))
	comments = e.emu.Comments("acme/shop", n)
	t.Logf("the preview comment after a push:\n%s", comments[0].Body)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "web:2.1.0") || strings.Contains(comments[0].Body, "web:2.0.0\n") {
		t.Fatalf("comments after a push: %+v", comments)
	}
	if s := e.statuses(next)["jibe/shop/plan"]; s.State != "success" {
		t.Errorf("plan status on the new head = %s %q", s.State, s.Description)
	}

	broken := e.gateFiles("registry.example.com/shop/web:2.2.0", "      strategy: {rollin: {}}")
	last := e.pushPull(n, branch, broken)
	if s := e.statuses(last)["jibe/shop/plan"]; s.State != "failure" || !strings.Contains(s.Description, "apps/shop/jibe.yaml:") {
		t.Errorf("plan status of a broken spec = %s %q", s.State, s.Description)
	}
	if got := e.emu.Comments("acme/shop", n); len(got) != 1 || !strings.Contains(got[0].Body, "rollin") {
		t.Errorf("comments after a broken push: %+v", got)
	}
	if cur, _ := e.journal.Current(shopApp, "staging"); cur.Revision != v1 {
		t.Errorf("staging's latest rollout is of %s, not of the branch", cur.Revision)
	}
	if got := e.image(e.staging, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("staging runs %s while the pull request is open", got)
	}
}

// A failing HTTP check in staging rolls staging back and keeps the
// revision out of production, with a status quoting the check.
func TestE2EFailedStagingCheckStopsPromotion(t *testing.T) {
	var failing atomic.Bool
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(health.Close)
	e := newE2EWith(t, func(_ *harness, o *Options) { o.Checks = checks.New(checks.Options{}) })
	verify := "      verify:\n        - name: healthz\n          http: {url: " + health.URL + "/healthz}\n      rollback: automatic"
	files := func(image string) map[string]string {
		f := e.files(image, rolling)
		f["apps/shop/jibe.yaml"] = strings.Replace(f["apps/shop/jibe.yaml"], "    - name: production", verify+"\n    - name: production", 1)
		return f
	}
	v1 := e.push(files("registry.example.com/shop/web:1.0.0"))
	e.settle("v1 in production", e.final("production", v1))

	failing.Store(true)
	v2 := e.push(files("registry.example.com/shop/web:2.0.0"))
	e.settle("v2 checked in staging", e.final("staging", v2))
	if s := e.statuses(v2)["jibe/shop/staging"]; s.State != "failure" || !strings.Contains(s.Description, "healthz") || !strings.Contains(s.Description, "503") {
		t.Errorf("staging status = %s %q", s.State, s.Description)
	}
	if cur, _ := e.journal.Current(shopApp, "production"); cur.Revision != v1 {
		t.Errorf("production's latest rollout is of %s; v2 must not be promoted", reconcile.ShortRevision(cur.Revision))
	}
	for _, ns := range []string{e.staging, e.production} {
		if got := e.image(ns, "web"); got != "registry.example.com/shop/web:1.0.0" {
			t.Errorf("%s runs %s", ns, got)
		}
	}
}

// A gate whose rule has a timeout fails the rollout once it has waited
// that long without approval, with a status saying why.
func TestE2EApprovalTimesOut(t *testing.T) {
	e := newGateE2E(t)
	files := e.gateFiles("registry.example.com/shop/web:1.0.0", "")
	files["apps/shop/jibe.yaml"] = strings.Replace(files["apps/shop/jibe.yaml"], "        reviews: 1\n", "        reviews: 1\n        timeout: 10m\n", 1)
	v1 := e.push(files)
	e.settle("production at its gate", func() bool { return e.waitingForApproval(v1) })
	e.settle("the gate timed out", e.final("production", v1))
	s := e.statuses(v1)["jibe/shop/production"]
	if s.State != "failure" || !strings.Contains(s.Description, "approval timed out after 10m0s") {
		t.Errorf("production status = %s %q", s.State, s.Description)
	}
	if got := e.image(e.production, "web"); !strings.HasPrefix(got, "(") {
		t.Errorf("production runs %s after the gate timed out", got)
	}
}

// A Kubernetes canary analysed by a Prometheus query is promoted while
// the error rate stays under the threshold, and rolled back, traffic
// first, when it does not: the failure status quotes the value.
func TestE2EPrometheusAnalysisOfAKubernetesCanary(t *testing.T) {
	prom := promemu.New()
	srv := httptest.NewServer(prom)
	t.Cleanup(srv.Close)
	const query = `sum(rate(http_requests_total{code=~"5.."}[1m]))`
	e := newE2EWith(t, func(_ *harness, o *Options) {
		o.Checks = checks.New(checks.Options{Prometheus: []config.PrometheusServer{{Name: "metrics", URL: srv.URL}}})
	})
	prom.SetClock(e.clock.Now)
	canary := `{canary: {steps: [{setWeight: 50}, {analysis: {checks: [{name: error rate, prometheus: {server: metrics, query: 'QUERY', threshold: {max: 0.5}}, interval: 30s, duration: 1m}]}}]}}`
	canary = strings.Replace(canary, "QUERY", query, 1)

	prom.Set(query, promemu.Vector(promemu.Sample{Value: 0.1}))
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", canary))
	e.settle("v1 in production", e.final("production", v1))
	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", canary))
	e.settle("v2 in production", e.final("production", v2))
	if s := e.statuses(v2)["jibe/shop/production"]; s.State != "success" {
		t.Fatalf("v2 with 0.1 errors/s: production status = %s %q", s.State, s.Description)
	}

	prom.Set(query, promemu.Vector(promemu.Sample{Value: 2.5}))
	v3 := e.push(e.files("registry.example.com/shop/web:3.0.0", canary))
	e.settle("v3 analysed", e.final("production", v3))
	s := e.statuses(v3)["jibe/shop/production"]
	if s.State != "failure" || !strings.Contains(s.Description, "error rate failed") || !strings.Contains(s.Description, "2.5") {
		t.Errorf("v3 with 2.5 errors/s: production status = %s %q", s.State, s.Description)
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:2.0.0" {
		t.Errorf("production runs %s after the rollback", got)
	}
	if len(prom.Queries()) == 0 {
		t.Error("Prometheus was never queried")
	}
}

// An approval rule on an agent that cannot read reviews (no GitHub
// configured) is refused when production's turn comes, with a failure
// that says what to configure, instead of a rollout shown as running that
// waits for ever at its gate. Staging, which needs no approval, deploys.
func TestE2EApprovalWithoutGitHubIsRefusedAtOnce(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.gateFiles("registry.example.com/shop/web:1.0.0", ""))
	e.settle("v1 in staging", e.final("staging", v1))
	e.drain()

	want := "environment production needs approval from pull-request reviews, but the agent configuration has no github section"
	if s := e.statuses(v1)["jibe/shop/production"]; s.State != "failure" || !strings.Contains(s.Description, want) {
		t.Errorf("production status = %s %q; want a failure saying %q", s.State, s.Description, want)
	}
	if apps := e.agent.Applications(); len(apps) != 1 || !strings.Contains(apps[0].Error, want) {
		t.Errorf("applications = %+v; want the error to say %q", apps, want)
	}
	if _, err := e.journal.Current(shopApp, "production"); !errors.Is(err, reconcile.ErrNoRollout) {
		t.Errorf("production rollout = %v; want none started", err)
	}
}
