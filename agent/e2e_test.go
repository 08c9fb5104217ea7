package agent

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/apimetrics"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// brokenImage is an image whose pods never become Ready on the test cluster.
const brokenImage = "registry.example.com/shop/web:broken"

func TestMain(m *testing.M) {
	// client-go's metric hooks are set before any client sends (agent.New
	// asks for them while other tests' informers run).
	apimetrics.Register()
	kube.Main(m, kube.Options{PodStages: []kube.PodStage{{
		Name: "broken-web", Behavior: kube.NeverReady, Select: kube.PodSelector{Image: brokenImage},
	}}})
}

const e2eConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: shop
    git: {url: URL, repository: acme/shop, pollInterval: 5s}
    allow: {clusters: [test], namespaces: ["*"], checkHosts: ["127.0.0.1"]}
kubernetes:
  clusters:
    - {name: test, inCluster: true}
github:
  token: {env: GITHUB_TOKEN}
`

// e2e is the real agent with the real Kubernetes platform on the test
// cluster, a real Git server and the GitHub emulator, on an emulated clock.
type e2e struct {
	*harness
	clock               *clocktesting.FakeClock
	cluster             *kube.Cluster
	staging, production string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	return newE2EWith(t, nil)
}

// newE2EWith is newE2E with more options set by tune.
func newE2EWith(t *testing.T, tune func(*harness, *Options)) *e2e {
	t.Helper()
	return newE2EConfig(t, e2eConfig, tune)
}

// newE2EConfig is newE2EWith with the agent configuration cfg.
func newE2EConfig(t *testing.T, cfg string, tune func(*harness, *Options)) *e2e {
	t.Helper()
	c := kube.Shared(t)
	e := &e2e{clock: clocktesting.NewFakeClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)), cluster: c,
		staging: c.NewNamespace(t), production: c.NewNamespace(t)}
	platform := kubernetes.New(map[string]*rest.Config{"test": c.RESTConfig()})
	t.Cleanup(platform.Close)
	e.harness = newHarnessWith(t, cfg, func(h *harness, o *Options) {
		o.Clock = e.clock
		o.Platforms = map[spec.Platform]reconcile.Platform{spec.PlatformKubernetes: platform}
		if tune != nil {
			tune(h, o)
		}
	})
	return e
}

// files returns the application at image, with production's strategy.
func (e *e2e) files(image, productionStrategy string) map[string]string {
	return kubeAppFiles(map[string]string{}, "shop", image, e.staging, e.production, productionStrategy)
}

// kubeAppFiles adds app to files and returns them: a Deployment of image
// and its Service, in namespace staging, then production with strategy.
func kubeAppFiles(files map[string]string, app, image, staging, production, strategy string) map[string]string {
	files["apps/"+app+"/jibe.yaml"] = strings.NewReplacer("APP", app, "IMAGE", image, "STAGING", staging, "PRODUCTION", production,
		"STRATEGY", strategy).Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: APP}
spec:
  artifacts:
    web: {image: IMAGE}
  targets:
    - name: web
      kubernetes: {manifests: k8s}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: STAGING}
    - name: production
      kubernetes: {cluster: test, namespace: PRODUCTION}
      strategy: STRATEGY
`)
	// Only the broken image gets a short progress deadline: a healthy
	// rollout on a busy machine may take longer than a few seconds.
	deadline := 600
	if image == brokenImage {
		deadline = 3
	}
	files["apps/"+app+"/k8s/app.yaml"] = webManifests("${artifacts.web}", deadline)
	return files
}

// webManifests are a Deployment of two pods running image, whose rollout
// fails after deadline seconds without progress, and its Service.
func webManifests(image string, deadline int) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  progressDeadlineSeconds: ` + strconv.Itoa(deadline) + `
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "` + image + `"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`
}

const rolling = "{rolling: {}}"

// settle reconciles until done reports true, moving the emulated clock on
// whenever the agent waits (for health, a pause). Kubernetes itself runs
// in real time, so this polls with a deadline.
func (e *e2e) settle(what string, done func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		e.drain()
		if done() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not done after 90s; apps %+v", what, e.agent.Applications())
		}
		e.clock.Step(5 * time.Second)
		e.awaitDue()
	}
}

// state returns the state of the environment's latest rollout of revision.
func (e *e2e) state(env, revision string) reconcile.RolloutState {
	r, err := e.journal.Current(shopApp, env)
	if err != nil || r.Revision != revision {
		return 0
	}
	return r.State
}

func (e *e2e) final(env, revision string) func() bool {
	return func() bool { return e.state(env, revision).Final() && e.state(env, revision) != 0 }
}

func (e *e2e) image(ns, name string) string {
	e.t.Helper()
	d, err := e.cluster.Clientset().AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// pausedCanary rolls v1 of a canary out everywhere, then pushes v2 and
// waits until its production rollout stands at the canary's 10-minute
// pause; it returns v2 and that rollout.
func (e *e2e) pausedCanary() (string, *reconcile.Rollout) {
	canary := "{canary: {steps: [{setWeight: 50}, {pause: {duration: 10m}}]}}"
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", canary))
	e.settle("v1 in production", e.final("production", v1))
	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", canary))
	paused := func() bool {
		r, err := e.journal.Current(shopApp, "production")
		return err == nil && r.Revision == v2 && !r.State.Final() && r.Plan.Steps[r.Next].Kind == reconcile.StepPause
	}
	e.settle("v2 paused in production", paused)
	before, _ := e.journal.Current(shopApp, "production")
	return v2, before
}

// finishResumed checks that the production rollout before describes,
// taken up again by agent (after a restart, or by a new leader), kept its
// place, then runs to success without repeating its apply step.
func (e *e2e) finishResumed(t *testing.T, before *reconcile.Rollout, v2, agent string) {
	t.Helper()
	after, _ := e.journal.Current(shopApp, "production")
	if after.Next != before.Next || !after.Current.Started.Equal(before.Current.Started) {
		t.Fatalf("%s lost the rollout's place: next %d → %d, pause started %s → %s", agent, before.Next, after.Next, before.Current.Started, after.Current.Started)
	}
	e.settle("v2 in production under "+agent, e.final("production", v2))
	done, _ := e.journal.Current(shopApp, "production")
	if done.State != reconcile.RolloutSucceeded {
		t.Fatalf("production = %s: %s", done.State, done.Reason)
	}
	applies := 0
	for _, o := range done.Outcomes {
		if o.Kind == reconcile.StepApply && o.Error == "" {
			applies++
		}
	}
	if applies != 1 {
		t.Errorf("apply ran %d times; %s must not repeat completed steps", applies, agent)
	}
}

// A push rolls out to staging, then, once staging is healthy, to
// production; each environment's commit status ends in success.
func TestE2EPromotesStagingThenProduction(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))

	staging, _ := e.journal.Current(shopApp, "staging")
	production, _ := e.journal.Current(shopApp, "production")
	if staging.State != reconcile.RolloutSucceeded || production.State != reconcile.RolloutSucceeded {
		t.Fatalf("staging %s (%s), production %s (%s)", staging.State, staging.Reason, production.State, production.Reason)
	}
	if production.Started.Before(staging.Updated) {
		t.Errorf("production started at %s, before staging finished at %s", production.Started, staging.Updated)
	}
	for _, ns := range []string{e.staging, e.production} {
		if got := e.image(ns, "web"); got != "registry.example.com/shop/web:1.0.0" {
			t.Errorf("%s runs %s", ns, got)
		}
	}
	st := e.statuses(v1)
	for _, env := range []string{"staging", "production"} {
		if s := st["jibe/shop/"+env]; s.State != "success" {
			t.Errorf("%s status = %s %q", env, s.State, s.Description)
		}
	}

	v2 := e.push(e.files("registry.example.com/shop/web:1.1.0", rolling))
	e.settle("v2 in production", e.final("production", v2))
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.1.0" {
		t.Errorf("production runs %s after v2", got)
	}
}

// A revision whose pods never become healthy fails in staging, is rolled
// back to the last good revision, and never reaches production.
func TestE2EBrokenImageRollsBack(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))

	bad := e.push(e.files(brokenImage, rolling))
	e.settle("broken revision in staging", e.final("staging", bad))
	r, _ := e.journal.Current(shopApp, "staging")
	if r.State != reconcile.RolloutRolledBack || !strings.Contains(r.Reason, "did not become healthy") {
		t.Fatalf("staging rollout = %s: %s", r.State, r.Reason)
	}
	e.settle("staging back on v1", func() bool { return e.image(e.staging, "web") == "registry.example.com/shop/web:1.0.0" })
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("production runs %s: a failed revision must not be promoted", got)
	}
	if cur, _ := e.journal.Current(shopApp, "production"); cur.Revision != v1 {
		t.Errorf("production's latest rollout is of %s, want %s", cur.Revision, v1)
	}
	s := e.statuses(bad)["jibe/shop/staging"]
	if s.State != "failure" || !strings.HasPrefix(s.Description, "rolled back: ") || !strings.Contains(s.Description, "web did not become healthy") {
		t.Errorf("staging status = %s %q", s.State, s.Description)
	}
}

// An agent that dies mid-rollout resumes it from the journal when it
// starts again: completed steps are not run twice, a pause keeps its start.
func TestE2EResumesAfterRestart(t *testing.T) {
	e := newE2E(t)
	v2, before := e.pausedCanary()

	// The agent dies: nothing but the journal, the clones and the cluster
	// survives. A new agent starts on the same state.
	path := e.journal.Path()
	if err := e.journal.Close(); err != nil {
		t.Fatal(err)
	}
	j, err := reconcile.OpenJournal(path, reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	e.journal = j
	e.agent = withStatuses(New(Options{Config: e.agent.config(), Journal: j, Logger: e.agent.log,
		Clock: e.clock, Platforms: e.agent.opts.Platforms, Capabilities: builtin}), e.reporter)
	e.git = restartedGit(t, e.harness)
	e.poll()

	e.finishResumed(t, before, v2, "the restarted agent")
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:2.0.0" {
		t.Errorf("production runs %s", got)
	}
}

// A newer push during a canary supersedes it: traffic returns to the
// stable version and the canary is removed before the newer revision
// starts, and nothing of the superseded revision is left behind.
func TestE2ENewerRevisionSupersedesCanary(t *testing.T) {
	e := newE2E(t)
	canary := "{canary: {steps: [{setWeight: 50}, {pause: {duration: 10m}}]}}"
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", canary))
	e.settle("v1 in production", e.final("production", v1))
	v2 := e.push(e.files("registry.example.com/shop/web:2.0.0", canary))
	e.settle("v2 canary in production", func() bool {
		r, err := e.journal.Current(shopApp, "production")
		return err == nil && r.Revision == v2 && !r.State.Final() && r.Plan.Steps[r.Next].Kind == reconcile.StepPause
	})
	if names := e.deployments(e.production); len(names) < 2 {
		t.Fatalf("no canary running during the pause: %v", names)
	}

	v3 := e.push(e.files("registry.example.com/shop/web:3.0.0", canary))
	e.settle("v3 in production", e.final("production", v3))
	old, err := e.journal.Get(reconcile.RolloutID(shopApp, "production", v2))
	if err != nil || old.State != reconcile.RolloutSuperseded {
		t.Fatalf("v2 rollout = %+v, %v; want superseded", old, err)
	}
	if cur, _ := e.journal.Current(shopApp, "production"); cur.State != reconcile.RolloutSucceeded {
		t.Fatalf("v3 rollout = %s: %s", cur.State, cur.Reason)
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:3.0.0" {
		t.Errorf("production runs %s", got)
	}
	if names := e.deployments(e.production); len(names) != 1 || names[0] != "web" {
		t.Errorf("deployments left in production: %v", names)
	}
	if changes := e.liveChanges(v3, "production"); len(changes) != 0 {
		t.Errorf("after a promoted canary, live state still differs from Git: %+v", changes)
	}
	if s := e.statuses(v2)["jibe/shop/production"]; s.State != "error" || !strings.Contains(s.Description, "superseded by "+v3[:7]) {
		t.Errorf("v2 production status = %s %q", s.State, s.Description)
	}
}

func (e *e2e) deployments(ns string) []string {
	e.t.Helper()
	list, err := e.cluster.Clientset().AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, d := range list.Items {
		names = append(names, d.Name)
	}
	return names
}

// Plan shows what a revision would change in each environment against the
// live cluster, without changing anything.
func TestE2EPlan(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))

	fsys := fstestFiles(e.files("registry.example.com/shop/web:1.1.0", rolling), "apps/shop/")
	app, err := spec.LoadFS(fsys, "apps/shop", spec.WithPlatforms(builtin...))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Plan(context.Background(), e.agent.config(), "shop", app, e.agent.opts.Platforms, "working-tree", "production")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	p.Format(&b)
	want := "~ update apps/v1 Deployment " + e.production + "/web (target web)\n      spec.template.spec.containers[0].image: registry.example.com/shop/web:1.0.0 → registry.example.com/shop/web:1.1.0"
	if len(p.Environments) != 1 || !strings.Contains(b.String(), want) {
		t.Errorf("plan:\n%s\nwant it to contain:\n%s", b.String(), want)
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("planning changed production: %s", got)
	}
}

// fstestFiles returns the files under prefix as an fs.FS rooted there.
func fstestFiles(files map[string]string, prefix string) fstest.MapFS {
	out := fstest.MapFS{}
	for name, content := range files {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			out[rest] = &fstest.MapFile{Data: []byte(content)}
		}
	}
	return out
}

// liveChanges diffs the environment against the application at revision.
func (e *e2e) liveChanges(revision, env string) []reconcile.Change {
	e.t.Helper()
	st := e.agent.state("shop/apps/shop")
	app, err := spec.LoadFS(st.history[revision].Files, "apps/shop", spec.WithPlatforms(builtin...))
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := Plan(context.Background(), e.agent.config(), "shop", app, e.agent.opts.Platforms, revision, env)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Environments[0].Changes
}

// driftImage changes the Deployment's image behind Jibe's back, as
// `kubectl set image` would (another field manager).
func (e *e2e) driftImage(ns, image string) {
	e.t.Helper()
	ctx := context.Background()
	deps := e.cluster.Clientset().AppsV1().Deployments(ns)
	d, err := deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = image
	if _, err := deps.Update(ctx, d, metav1.UpdateOptions{FieldManager: "kubectl-set"}); err != nil {
		e.t.Fatal(err)
	}
}

// Drift is found at the next resync, reported, and corrected by
// re-applying the revision, taking the field back from whoever changed it.
func TestE2EDriftIsCorrected(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))
	e.driftImage(e.staging, "registry.example.com/shop/web:hotfix")

	// The platform sees the change through its watch; resync until the
	// drift is found, as the agent's resync ticker would.
	e.settle("staging corrected", func() bool {
		r, err := e.journal.Current(shopApp, "staging")
		if err == nil && r.Correction && r.State.Final() && e.image(e.staging, "web") == "registry.example.com/shop/web:1.0.0" {
			return true
		}
		if err == nil && !r.Correction {
			e.agent.resync()
		}
		return false
	})
	r, _ := e.journal.Current(shopApp, "staging")
	if r.State != reconcile.RolloutSucceeded || r.Revision != v1 {
		t.Fatalf("correction = %s of %s: %s", r.State, r.Revision, r.Reason)
	}
	if s := e.statuses(v1)["jibe/shop/staging"]; s.State != "success" || !strings.HasPrefix(s.Description, "drift corrected") {
		t.Errorf("staging status = %s %q", s.State, s.Description)
	}
	e.agent.resync()
	e.drain()
	if cur, _ := e.journal.Current(shopApp, "staging"); cur.ID != r.ID {
		t.Errorf("a corrected environment was corrected again: %s", cur.ID)
	}
}

// An application that opts out of correction only gets its drift
// reported: in the API and in the metrics.
func TestE2EDriftIsReportedWhenNotCorrected(t *testing.T) {
	e := newE2E(t)
	files := e.files("registry.example.com/shop/web:1.0.0", rolling)
	files["apps/shop/jibe.yaml"] = strings.Replace(files["apps/shop/jibe.yaml"], "spec:\n", "spec:\n  drift: {correct: false}\n", 1)
	v1 := e.push(files)
	e.settle("v1 in production", e.final("production", v1))
	e.driftImage(e.production, "registry.example.com/shop/web:hotfix")

	var drift []string
	e.settle("drift reported", func() bool {
		for _, env := range e.agent.Applications()[0].Environments {
			if env.Name == "production" {
				drift = env.Drift
			}
		}
		if len(drift) == 0 {
			e.agent.resync()
		}
		return len(drift) > 0
	})
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:hotfix" {
		t.Errorf("drift was corrected although the application opted out: %s", got)
	}
	if len(drift) != 1 || !strings.Contains(drift[0], "update apps/v1 Deployment "+e.production+"/web") {
		t.Errorf("API drift = %v", drift)
	}
}

// After a restart, a failed revision is still rolled back to the last good
// one: the agent reads it again from the source's clone.
func TestE2ERollbackAfterRestart(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))

	e.git = restartedGit(t, e.harness)
	e.agent = withStatuses(New(Options{Config: e.agent.config(), Journal: e.journal, Logger: e.agent.log,
		Clock: e.clock, Platforms: e.agent.opts.Platforms, Capabilities: builtin, History: e.git}), e.reporter)
	bad := e.push(e.files(brokenImage, rolling))
	e.settle("broken revision in staging", e.final("staging", bad))
	if r, _ := e.journal.Current(shopApp, "staging"); r.State != reconcile.RolloutRolledBack {
		t.Fatalf("staging = %s: %s", r.State, r.Reason)
	}
	e.settle("staging back on v1", func() bool { return e.image(e.staging, "web") == "registry.example.com/shop/web:1.0.0" })
}
