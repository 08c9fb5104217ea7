package agent

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// harness is a real Git server, the real Git source, the GitHub emulator
// and an agent, driven step by step.
type harness struct {
	t        testing.TB
	repo     *gitserver.Repo
	git      *sources.Git
	emu      *githubemu.Emulator
	reporter *github.Reporter
	journal  *reconcile.Journal
	agent    *Agent
	cfg      *config.Config
	stateDir string
	pulls    int // pull requests opened
}

const agentConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: shop
    git: {url: URL, repository: acme/shop, pollInterval: 5s}
    allow: {clusters: [staging], namespaces: [shop]}
kubernetes:
  clusters:
    - {name: staging, inCluster: true}
github:
  token: {env: GITHUB_TOKEN}
server:
  externalURL: https://jibe.example.com
`

func newHarness(t *testing.T) *harness {
	return newHarnessWith(t, agentConfig, nil)
}

// newHarnessWith builds a harness from an agent configuration (URL is
// replaced by the repository's URL) and lets tune adjust the agent's
// options.
func newHarnessWith(t testing.TB, cfgYAML string, tune func(*harness, *Options)) *harness {
	t.Helper()
	srv := gitserver.New(t)
	url := srv.CreateRepo("shop")
	cfg, err := config.Parse(t.TempDir()+"/agent.yaml", []byte(strings.Replace(cfgYAML, "URL", url, 1)))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, repo: srv.Repo("shop"), emu: githubemu.Start(t, githubemu.Options{}), cfg: cfg, stateDir: t.TempDir()}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.git = restartedGit(t, h)
	h.emu.AddRepo("acme/shop")
	h.emu.AddToken("ghp_jibe", "jibe-bot")
	h.reporter = github.NewReporter(githubClient(h.emu), github.ReporterOptions{Logger: quiet})
	h.journal, err = reconcile.OpenJournal(t.TempDir()+"/journal.db", reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.journal.Close() })
	opts := Options{Config: cfg, Journal: h.journal, Logger: quiet, Capabilities: builtin}
	if tune != nil {
		tune(h, &opts)
	}
	h.agent = withStatuses(New(opts), h.reporter)
	return h
}

// withStatuses subscribes to a's events the commit statuses posted
// through r, as `jibe agent` wires them, and returns a.
func withStatuses(a *Agent, r *github.Reporter) *Agent {
	a.Subscribe(github.NewEventStatuses(r, github.ConfigTargets(a.Config, AppURL)))
	return a
}

// restartedGit returns a Git source on h's state directory, as an agent
// starting again would build it.
func restartedGit(t testing.TB, h *harness) *sources.Git {
	t.Helper()
	g := sources.NewGit(sources.GitOptions{StateDir: h.stateDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := g.Add(h.cfg.Sources[0]); err != nil {
		t.Fatal(err)
	}
	return g
}

func githubClient(emu *githubemu.Emulator) *gh.Client {
	c := gh.NewClient(nil).WithAuthToken("ghp_jibe")
	c.BaseURL, _ = url.Parse(emu.URL() + "/")
	return c
}

// push commits files and lets the agent reconcile what the poll finds,
// then posts the statuses. It returns the commit.
func (h *harness) push(files map[string]string) string {
	h.t.Helper()
	sha := h.commit(files)
	h.poll()
	h.drain()
	return sha
}

// commit commits files without polling.
func (h *harness) commit(files map[string]string) string {
	return h.repo.Commit(gitserver.Commit{Files: files})
}

// poll polls the repository and hands the updates to the agent.
func (h *harness) poll() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	updates, err := h.git.PollOnce(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, u := range updates {
		h.agent.Handle(u)
	}
}

// drain reconciles every queued application and posts the statuses.
func (h *harness) drain() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for h.agent.queue.Len() > 0 {
		h.agent.processNext(ctx)
	}
	if err := h.reporter.Flush(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// awaitDue gives the work queue's delaying goroutine a moment to move the
// keys a step of the clock made due: it polls the queue for up to 20ms.
func (h *harness) awaitDue() {
	deadline := time.Now().Add(20 * time.Millisecond)
	for h.agent.queue.Len() == 0 && time.Now().Before(deadline) {
		select {
		case <-h.t.Context().Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}

func (h *harness) statuses(sha string) map[string]githubemu.Status {
	out := map[string]githubemu.Status{}
	for _, s := range h.emu.Statuses("acme/shop", sha) { // oldest first: the last wins
		out[s.Context] = s
	}
	return out
}

// shopApp is the application most tests deploy: shop, of source shop.
var shopApp = reconcile.AppID{Source: "shop", Name: "shop"}

const validSpec = `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  targets:
    - name: web
      kubernetes: {manifests: k8s, namespace: shop}
  environments:
    - name: staging
      kubernetes: {cluster: staging}
`

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n"

// An invalid spec is reported on the commit, for each environment, naming
// file, line and field; nothing is planned or applied.
func TestInvalidSpecFailsTheCommit(t *testing.T) {
	h := newHarness(t)
	broken := strings.Replace(validSpec, "cluster: staging", "cluster: staging, namespace: Shop_NS", 1)
	sha := h.push(map[string]string{"apps/shop/jibe.yaml": broken, "apps/shop/k8s/cm.yaml": configMap})
	s, ok := h.statuses(sha)["jibe/shop/staging"]
	if !ok {
		t.Fatalf("no status for jibe/shop/staging: %+v", h.statuses(sha))
	}
	want := `invalid spec: apps/shop/jibe.yaml:10:49: spec.environments[0].kubernetes.namespace: "Shop_NS" is not a valid name`
	if s.State != "failure" || !strings.HasPrefix(s.Description, want) {
		t.Errorf("status = %s %q, want failure starting %q", s.State, s.Description, want)
	}
	if s.TargetURL != "https://jibe.example.com/apps/shop/shop" {
		t.Errorf("target URL = %q", s.TargetURL)
	}
	if _, err := h.journal.Current(shopApp, "staging"); err == nil {
		t.Error("an invalid spec must not start a rollout")
	}
}

// A spec that would deploy outside what its source may touch is refused
// before anything is planned, with a failure status saying so.
func TestTenancyViolationIsRefused(t *testing.T) {
	h := newHarness(t)
	other := strings.Replace(validSpec, "namespace: shop}", "namespace: payments}", 1)
	sha := h.push(map[string]string{"apps/shop/jibe.yaml": other, "apps/shop/k8s/cm.yaml": configMap})
	s := h.statuses(sha)["jibe/shop/staging"]
	want := `refused: environment staging, target web: source shop may not deploy to namespace "payments"`
	if s.State != "failure" || !strings.HasPrefix(s.Description, want) {
		t.Errorf("status = %s %q, want failure starting %q", s.State, s.Description, want)
	}
	if _, err := h.journal.Current(shopApp, "staging"); err == nil {
		t.Error("a refused spec must not start a rollout")
	}
}

// Without a platform for a target's kind, the agent says so instead of
// failing silently.
func TestMissingPlatformIsReported(t *testing.T) {
	h := newHarness(t)
	h.push(map[string]string{"apps/shop/jibe.yaml": validSpec, "apps/shop/k8s/cm.yaml": configMap})
	st := h.agent.state("shop/apps/shop")
	if st == nil || !strings.Contains(st.lastError, "this agent has no kubernetes platform configured") {
		t.Fatalf("state = %+v", st)
	}
}

// The API shows each application, its revision and its last error; the
// metrics count reconciles by outcome.
func TestHandler(t *testing.T) {
	h := newHarness(t)
	sha := h.push(map[string]string{"apps/shop/jibe.yaml": validSpec, "apps/shop/k8s/cm.yaml": configMap})
	srv := httptest.NewServer(h.agent.Handler(nil))
	defer srv.Close()

	var apps []AppView
	getJSON(t, srv.URL+"/api/v1/applications", &apps)
	if len(apps) != 1 || apps[0].Name != "shop" || apps[0].Source != "shop" || apps[0].ID != "shop/shop" || apps[0].Revision != sha || apps[0].Folder != "apps/shop" ||
		!strings.Contains(apps[0].Error, "no kubernetes platform") {
		t.Errorf("applications = %+v", apps)
	}
	metrics := get(t, srv.URL+"/metrics")
	if !strings.Contains(metrics, `jibe_reconciles_total{app="shop",outcome="stalled",source="shop"} 1`) {
		t.Errorf("metrics lack the stalled reconcile:\n%s", metrics)
	}
	if got := get(t, srv.URL+"/healthz"); got != "ok\n" {
		t.Errorf("healthz = %q", got)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(get(t, url)), v); err != nil {
		t.Fatal(err)
	}
}
