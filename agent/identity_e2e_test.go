package agent

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/internal/testenv/logbuf"
	"github.com/jibe-dev/jibe/providers/github"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// twoSourcesConfig has two sources, team-a and team-b, each in its own
// repository and allowed its own namespace.
const twoSourcesConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: team-a
    git: {url: URL_A, repository: acme/team-a, pollInterval: 5s}
    allow: {clusters: [test], namespaces: [NS_A]}
  - name: team-b
    git: {url: URL_B, repository: acme/team-b, pollInterval: 5s}
    allow: {clusters: [test], namespaces: [NS_B]}
kubernetes:
  clusters:
    - {name: test, inCluster: true}
github:
  token: {env: GITHUB_TOKEN}
server:
  externalURL: https://jibe.example.com
`

// teams is the real agent with two sources, team-a and team-b, each
// with its own repository on one Git server and its own namespace, on the
// test cluster, with the GitHub emulator.
type teams struct {
	*e2e
	srv      *gitserver.Server
	nsA, nsB string
	logs     *logbuf.Buffer
}

var (
	teamA = reconcile.AppID{Source: "team-a", Name: "checkout"}
	teamB = reconcile.AppID{Source: "team-b", Name: "checkout"}
)

func newTeams(t *testing.T) *teams {
	t.Helper()
	c := kube.Shared(t)
	x := &teams{srv: gitserver.New(t), nsA: c.NewNamespace(t), nsB: c.NewNamespace(t), logs: &logbuf.Buffer{}}
	cfgYAML := strings.NewReplacer("URL_A", x.srv.CreateRepo("team-a"), "URL_B", x.srv.CreateRepo("team-b"),
		"NS_A", x.nsA, "NS_B", x.nsB).Replace(twoSourcesConfig)
	cfg, err := config.Parse(t.TempDir()+"/agent.yaml", []byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, team := range []string{"team-a", "team-b"} { // Each branch exists before the first poll.
		x.srv.Repo(team).Commit(gitserver.Commit{Files: map[string]string{"README.md": team + "\n"}})
	}
	h := &harness{t: t, repo: x.srv.Repo("team-a"), emu: githubemu.Start(t, githubemu.Options{}), cfg: cfg, stateDir: t.TempDir()}
	h.git = allSources(t, h)
	for _, repo := range []string{"acme/team-a", "acme/team-b"} {
		h.emu.AddRepo(repo)
	}
	h.emu.AddToken("ghp_jibe", "jibe-bot")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.reporter = github.NewReporter(githubClient(h.emu), github.ReporterOptions{Logger: quiet})
	if h.journal, err = reconcile.OpenJournal(t.TempDir()+"/journal.db", reconcile.JournalOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.journal.Close() })
	x.e2e = &e2e{harness: h, clock: clocktesting.NewFakeClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)), cluster: c,
		staging: x.nsA, production: x.nsB}
	platform := kubernetes.New(map[string]*rest.Config{"test": c.RESTConfig()})
	t.Cleanup(platform.Close)
	h.agent = withStatuses(New(Options{Config: cfg, Journal: h.journal, Clock: x.clock, History: h.git, Applications: h.git,
		Platforms: map[spec.Platform]reconcile.Platform{spec.PlatformKubernetes: platform}, Capabilities: builtin,
		Logger: slog.New(slog.NewTextHandler(x.logs, nil))}), h.reporter)
	return x
}

// allSources returns a Git source of every configured source on h's state
// directory, as an agent starting builds it.
func allSources(t testing.TB, h *harness) *sources.Git {
	t.Helper()
	g := sources.NewGit(sources.GitOptions{StateDir: h.stateDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, s := range h.cfg.Sources {
		if err := g.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// checkoutFiles returns application checkout in folder, deploying image
// to namespace ns, named name.
func checkoutFiles(folder, name, image, ns string) map[string]string {
	deadline := 600
	if image == brokenImage {
		deadline = 3
	}
	return map[string]string{
		folder + "/jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: ` + name + `}
spec:
  artifacts:
    web: {image: ` + image + `}
  targets:
    - name: web
      kubernetes: {manifests: k8s}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: ` + ns + `}
`,
		folder + "/k8s/app.yaml": webManifests("${artifacts.web}", deadline),
	}
}

// pushTo commits files to the team's repository and reconciles.
func (x *teams) pushTo(team string, c gitserver.Commit) string {
	x.t.Helper()
	sha := x.srv.Repo(team).Commit(c)
	x.poll()
	x.drain()
	return sha
}

// settled waits until id's staging rollout of revision has ended.
func (x *teams) settled(id reconcile.AppID, revision string) {
	x.t.Helper()
	x.settle(id.String()+" at "+revision[:7], func() bool {
		r, err := x.journal.Current(id, "staging")
		return err == nil && r.Revision == revision && r.State.Final()
	})
}

func (x *teams) current(id reconcile.AppID) *reconcile.Rollout {
	x.t.Helper()
	r, err := x.journal.Current(id, "staging")
	if err != nil {
		x.t.Fatalf("current rollout of %s: %v", id, err)
	}
	return r
}

func (x *teams) status(repo, sha, context string) githubemu.Status {
	var last githubemu.Status
	for _, s := range x.emu.Statuses(repo, sha) {
		if s.Context == context {
			last = s
		}
	}
	return last
}

// Two sources each have an application named checkout, deploying to their
// own namespace. Both roll out, each with its own journal records, API
// entry, statuses and links; and a failed rollout of team A's checkout
// still rolls back to A's last good revision although team B's checkout
// has rolled out since. Before applications were identified by source and
// name, B's rollout replaced A's journal records, and A's rollback had
// nothing to restore.
func TestE2ESameNameInTwoSources(t *testing.T) {
	x := newTeams(t)
	a1 := x.pushTo("team-a", gitserver.Commit{Files: checkoutFiles("apps/checkout", "checkout", "registry.example.com/a/web:1", x.nsA)})
	x.settled(teamA, a1)
	b1 := x.pushTo("team-b", gitserver.Commit{Files: checkoutFiles("apps/checkout", "checkout", "registry.example.com/b/web:1", x.nsB)})
	x.settled(teamB, b1)

	for id, want := range map[reconcile.AppID]string{teamA: a1, teamB: b1} {
		if r := x.current(id); r.Revision != want || r.State != reconcile.RolloutSucceeded || r.Source != id.Source {
			t.Errorf("%s: rollout %s of %s: %s", id, r.ID, r.Revision, r.State)
		}
	}
	x.checkStatus("acme/team-a", a1, "success", "https://jibe.example.com/apps/team-a/checkout")
	x.checkStatus("acme/team-b", b1, "success", "https://jibe.example.com/apps/team-b/checkout")
	x.checkAPI(map[reconcile.AppID]string{teamA: a1, teamB: b1})

	bad := x.pushTo("team-a", gitserver.Commit{Files: checkoutFiles("apps/checkout", "checkout", brokenImage, x.nsA)})
	x.settled(teamA, bad)
	if r := x.current(teamA); r.State != reconcile.RolloutRolledBack {
		t.Fatalf("team A's broken rollout = %s: %s", r.State, r.Reason)
	}
	x.settle("team A back on its last good revision", func() bool { return x.image(x.nsA, "web") == "registry.example.com/a/web:1" })
	if got := x.image(x.nsB, "web"); got != "registry.example.com/b/web:1" {
		t.Errorf("team B's namespace runs %s", got)
	}
	if r := x.current(teamB); r.Revision != b1 || r.State != reconcile.RolloutSucceeded {
		t.Errorf("team B's rollout = %s of %s", r.State, r.Revision)
	}
	if s := x.status("acme/team-a", bad, "jibe/checkout/staging"); s.State != "failure" || !strings.HasPrefix(s.Description, "rolled back: ") {
		t.Errorf("team A's status of the broken revision = %s %q", s.State, s.Description)
	}
	if got := len(x.emu.Statuses("acme/team-b", bad)); got != 0 {
		t.Errorf("%d statuses of team A's commit were posted on team B's repository", got)
	}
	x.checkMetrics()
}

func (x *teams) checkStatus(repo, sha, state, link string) {
	x.t.Helper()
	s := x.status(repo, sha, "jibe/checkout/staging")
	if string(s.State) != state || s.TargetURL != link {
		x.t.Errorf("%s at %s: status %s %q, link %q; want %s, %q", repo, sha[:7], s.State, s.Description, s.TargetURL, state, link)
	}
}

// checkAPI checks that the API lists each application with its source,
// and serves each at /api/v1/applications/{source}/{name}.
func (x *teams) checkAPI(want map[reconcile.AppID]string) {
	x.t.Helper()
	srv := httptest.NewServer(x.agent.Handler(nil))
	defer srv.Close()
	var apps []AppView
	getJSON(x.t.(*testing.T), srv.URL+"/api/v1/applications", &apps)
	if len(apps) != len(want) {
		x.t.Fatalf("applications = %+v", apps)
	}
	for _, v := range apps {
		id := reconcile.AppID{Source: v.Source, Name: v.Name}
		if v.ID != id.String() || len(v.Environments) != 1 || v.Environments[0].Revision != want[id] || v.Environments[0].State != "succeeded" {
			x.t.Errorf("application %s = %+v", id, v)
		}
		var one AppView
		getJSON(x.t.(*testing.T), srv.URL+"/api/v1/applications/"+id.Source+"/"+id.Name, &one)
		if one.ID != v.ID || one.Environments[0].Revision != want[id] {
			x.t.Errorf("GET /api/v1/applications/%s = %+v", id, one)
		}
	}
	resp, err := http.Get(srv.URL + "/api/v1/applications/team-c/checkout")
	if err != nil {
		x.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		x.t.Errorf("GET of an unknown application: %s, want 404", resp.Status)
	}
}

func (x *teams) checkMetrics() {
	x.t.Helper()
	srv := httptest.NewServer(x.agent.Handler(nil))
	defer srv.Close()
	metrics := get(x.t.(*testing.T), srv.URL+"/metrics")
	for _, want := range []string{
		`jibe_rollout_events_total{app="checkout",kind="rolled-back",source="team-a"} 1`,
		`jibe_rollout_events_total{app="checkout",kind="succeeded",source="team-b"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			x.t.Errorf("metrics lack %s", want)
		}
	}
	if logs := x.logs.String(); !strings.Contains(logs, "source=team-a app=checkout env=staging") {
		x.t.Errorf("rollout logs lack the source and app attributes:\n%s", logs)
	}
}

// Within one source, two folders giving the same metadata.name are both
// refused, each with a failure status naming its jibe.yaml:line and the
// other folder; nothing is deployed (the last good revision keeps running)
// until one of them goes, when the other deploys.
func TestE2EDuplicateNameInOneSource(t *testing.T) {
	x := newTeams(t)
	v1 := x.pushTo("team-a", gitserver.Commit{Files: checkoutFiles("apps/checkout", "checkout", "registry.example.com/a/web:1", x.nsA)})
	x.settled(teamA, v1)

	files := checkoutFiles("apps/checkout", "checkout", "registry.example.com/a/web:2", x.nsA)
	for name, content := range checkoutFiles("apps/copy", "checkout", "registry.example.com/a/copy:1", x.nsA) {
		files[name] = content
	}
	dup := x.pushTo("team-a", gitserver.Commit{Files: files})
	for folder, other := range map[string]string{"apps/checkout": "apps/copy", "apps/copy": "apps/checkout"} {
		s := x.status("acme/team-a", dup, "jibe/"+folder+"/staging")
		want := fmt.Sprintf(`duplicate name "checkout": %s/jibe.yaml:3 and %s/jibe.yaml:3 in source team-a`, folder, other)
		if s.State != "failure" || !strings.HasPrefix(s.Description, want) {
			t.Errorf("status of %s = %s %q, want failure starting %q", folder, s.State, s.Description, want)
		}
		if st := x.agent.state("team-a/" + folder); st == nil || !strings.Contains(st.lastError, want) {
			t.Errorf("API error of %s = %+v", folder, st)
		}
	}
	if r := x.current(teamA); r.Revision != v1 {
		t.Errorf("a rollout of %s started while the name is used twice", r.Revision)
	}
	if got := x.image(x.nsA, "web"); got != "registry.example.com/a/web:1" {
		t.Errorf("the namespace runs %s; the last good revision must keep running", got)
	}

	// The copy goes: checkout, unchanged since, deploys.
	fixed := x.pushTo("team-a", gitserver.Commit{Delete: []string{"apps/copy/jibe.yaml", "apps/copy/k8s/app.yaml"}})
	x.settled(teamA, fixed)
	if r := x.current(teamA); r.State != reconcile.RolloutSucceeded {
		t.Fatalf("checkout after the duplicate went = %s: %s", r.State, r.Reason)
	}
	if got := x.image(x.nsA, "web"); got != "registry.example.com/a/web:2" {
		t.Errorf("the namespace runs %s", got)
	}
}

// legacyRecord is a rollout as agents wrote it before application
// identity: ID app/env/revision and no source.
func legacyRecord(app, revision, resource string, started int) string {
	changes := ""
	if resource != "" {
		changes = fmt.Sprintf(`,"changes":[{"target":"web","resource":%q,"action":"update"}]`, resource)
	}
	at := time.Date(2026, 11, 23, 12, 0, started, 0, time.UTC).Format(time.RFC3339)
	return fmt.Sprintf(`{"id":"%s/staging/%s","app":%q,"env":"staging","revision":%q,"plan":{"name":"staging","strategy":"rolling"%s},"next":0,"state":2,"started":%q,"updated":%q}`,
		app, revision, app, revision, changes, at, at)
}

// writeLegacy writes records (by ID) into a journal file as an agent
// before application identity did, with current and stable records
// app/env pointing at the last one of each application.
func writeLegacy(t *testing.T, path string, records [][2]string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		buckets := map[string]*bbolt.Bucket{}
		for _, name := range []string{"rollouts", "current", "stable"} {
			if buckets[name], err = tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		for _, rec := range records {
			id := rec[0]
			appEnv := id[:strings.LastIndex(id, "/")]
			if err := buckets["rollouts"].Put([]byte(id), []byte(rec[1])); err != nil {
				return err
			}
			for _, b := range []string{"current", "stable"} {
				if err := buckets[b].Put([]byte(appEnv), []byte(id)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An agent starting on a journal written before application identity
// assigns each rollout to its source: checkout, which both sources have,
// by the clone that holds its revision (so team A gets back the last good
// revision team B's record had replaced); payments, which only team A
// has, to team A; orders, which neither has any more, by the namespace
// its plan deployed to. A rollout nothing tells apart stays legacy, with
// a warning saying what to do. A second start changes nothing.
func TestMigrateJournalAssignsLegacyRollouts(t *testing.T) {
	x := newTeams(t)
	a1 := x.srv.Repo("team-a").Commit(gitserver.Commit{Files: mergeFiles(
		checkoutFiles("apps/checkout", "checkout", "registry.example.com/a/web:1", x.nsA),
		checkoutFiles("apps/payments", "payments", "registry.example.com/a/pay:1", x.nsA))})
	b1 := x.srv.Repo("team-b").Commit(gitserver.Commit{Files: checkoutFiles("apps/checkout", "checkout", "registry.example.com/b/web:1", x.nsB)})
	x.poll() // The clones now hold both commits, as an agent that ran before.

	path := x.journal.Path()
	x.journal.Close()
	writeLegacy(t, path, [][2]string{
		{"checkout/staging/" + a1, legacyRecord("checkout", a1, "apps/v1 Deployment "+x.nsA+"/web", 1)},
		{"checkout/staging/" + b1, legacyRecord("checkout", b1, "apps/v1 Deployment "+x.nsB+"/web", 2)},
		{"payments/staging/" + a1, legacyRecord("payments", a1, "", 3)},
		{"orders/staging/o1", legacyRecord("orders", "o1", "apps/v1 Deployment "+x.nsB+"/orders", 4)},
		{"ghost/staging/g1", legacyRecord("ghost", "g1", "", 5)},
	})
	j := x.restart(path)
	if err := x.agent.MigrateJournal(); err != nil {
		t.Fatal(err)
	}
	checkAssigned(t, j, map[reconcile.AppID]string{
		teamA: a1, teamB: b1,
		{Source: "team-a", Name: "payments"}: a1,
		{Source: "team-b", Name: "orders"}:   "o1",
		{Name: "ghost"}:                      "g1",
	})
	if logs := x.logs.String(); !strings.Contains(logs, "could not be assigned to one source") || !strings.Contains(logs, "app=ghost") ||
		!strings.Contains(logs, "restart the agent once only one configured source has an application named ghost") {
		t.Errorf("no warning about ghost's rollouts:\n%s", logs)
	}

	j = x.restart(path)
	if err := x.agent.MigrateJournal(); err != nil {
		t.Fatal(err)
	}
	if legacy, _ := j.Legacy(); len(legacy) != 1 || legacy[0].App != "ghost" {
		t.Errorf("legacy after a second start = %v", legacy)
	}
	if r, err := j.Stable(teamA, "staging"); err != nil || r.Revision != a1 {
		t.Errorf("team A's stable rollout after a second start = %+v, %v", r, err)
	}
}

// restart closes the journal and starts a new agent on the journal file
// and the clones, as an agent starting again would.
func (x *teams) restart(path string) *reconcile.Journal {
	x.t.Helper()
	x.journal.Close()
	j, err := reconcile.OpenJournal(path, reconcile.JournalOptions{})
	if err != nil {
		x.t.Fatal(err)
	}
	x.t.Cleanup(func() { j.Close() })
	x.journal = j
	x.git = allSources(x.t, x.harness)
	x.agent = New(Options{Config: x.cfg, Journal: j, History: x.git, Applications: x.git, Clock: x.clock,
		Capabilities: builtin, Logger: slog.New(slog.NewTextHandler(x.logs, nil))})
	return j
}

func checkAssigned(t *testing.T, j *reconcile.Journal, want map[reconcile.AppID]string) {
	t.Helper()
	for id, rev := range want {
		r, err := j.Stable(id, "staging")
		if err != nil || r.Revision != rev || r.AppID() != id {
			t.Errorf("stable rollout of %s = %+v, %v; want %s", id, r, err, rev)
		}
	}
}

func mergeFiles(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

// With one source, every legacy rollout is its.
func TestMigrateJournalWithOneSource(t *testing.T) {
	h := newHarness(t)
	path := h.journal.Path()
	h.journal.Close()
	writeLegacy(t, path, [][2]string{{"shop/staging/s1", legacyRecord("shop", "s1", "", 1)}, {"other/staging/o1", legacyRecord("other", "o1", "", 2)}})
	j, err := reconcile.OpenJournal(path, reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	a := New(Options{Config: h.cfg, Journal: j, Capabilities: builtin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := a.MigrateJournal(); err != nil {
		t.Fatal(err)
	}
	checkAssigned(t, j, map[reconcile.AppID]string{shopApp: "s1", {Source: "shop", Name: "other"}: "o1"})
}
