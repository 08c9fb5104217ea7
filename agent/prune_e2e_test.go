package agent

import (
	"slices"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/reconcile"
)

// cartApp is the second application of the pruning tests.
var cartApp = reconcile.AppID{Source: "shop", Name: "cart"}

// pruneE2E is e2e with a second application, cart, in its own
// namespaces, and the agent's events recorded.
type pruneE2E struct {
	*e2e
	cartStaging, cartProduction string
	mu                          sync.Mutex
	events                      []reconcile.Event
}

// newPruneE2E deploys nothing yet; prune is the source's setting.
func newPruneE2E(t *testing.T, prune bool) *pruneE2E {
	t.Helper()
	cfg := e2eConfig
	if prune {
		cfg = strings.Replace(cfg, "    allow:", "    prune: true\n    allow:", 1)
	}
	e := newE2EConfig(t, cfg, nil)
	p := &pruneE2E{e2e: e, cartStaging: e.cluster.NewNamespace(t), cartProduction: e.cluster.NewNamespace(t)}
	p.record()
	return p
}

// record subscribes p to the agent's events.
func (p *pruneE2E) record() {
	p.agent.Subscribe(reconcile.SubscriberFunc(func(ev reconcile.Event) {
		p.mu.Lock()
		p.events = append(p.events, ev)
		p.mu.Unlock()
	}))
}

// deletions returns the environments of app whose deletion events were
// emitted, in order, as "kind env".
func (p *pruneE2E) deletions(app reconcile.AppID) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, ev := range p.events {
		if ev.App == app && (ev.Kind == reconcile.EventDeparted || ev.Kind == reconcile.EventDeleting || ev.Kind == reconcile.EventDeleted) {
			out = append(out, ev.Kind.String()+" "+ev.Env)
		}
	}
	return out
}

// bothApps are shop and cart, each in staging and production.
func (p *pruneE2E) bothApps() map[string]string {
	files := p.files("registry.example.com/shop/web:1.0.0", rolling)
	files["apps/cart/jibe.yaml"] = strings.NewReplacer("STAGING", p.cartStaging, "PRODUCTION", p.cartProduction).Replace(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: cart}
spec:
  artifacts:
    web: {image: registry.example.com/cart/web:1.0.0}
  targets:
    - name: web
      kubernetes: {manifests: k8s}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: STAGING}
    - name: production
      kubernetes: {cluster: test, namespace: PRODUCTION}
`)
	files["apps/cart/k8s/app.yaml"] = webManifests("${artifacts.web}", 600)
	return files
}

// deployBoth deploys shop and cart to production and returns the commit.
func (p *pruneE2E) deployBoth() string {
	p.t.Helper()
	v1 := p.push(p.bothApps())
	p.settle("both applications in production", func() bool {
		c, err := p.journal.Current(cartApp, "production")
		return p.final("production", v1)() && err == nil && c.Revision == v1 && c.State.Final()
	})
	for _, app := range []reconcile.AppID{shopApp, cartApp} {
		if r, _ := p.journal.Current(app, "production"); r.State != reconcile.RolloutSucceeded {
			p.t.Fatalf("%s production = %s: %s", app, r.State, r.Reason)
		}
	}
	return v1
}

var removeCart = gitserver.Commit{Delete: []string{"apps/cart/jibe.yaml", "apps/cart/k8s/app.yaml"}}

// exists reports whether the Deployment web and the inventory of app's
// target web in env exist in namespace ns.
func (p *pruneE2E) exists(ns, app, env string) (deployment, inventory bool) {
	p.t.Helper()
	cs := p.cluster.Clientset()
	_, err := cs.AppsV1().Deployments(ns).Get(p.t.Context(), "web", metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		p.t.Fatal(err)
	}
	_, invErr := cs.CoreV1().ConfigMaps(ns).Get(p.t.Context(), inventoryNameOf(app, env), metav1.GetOptions{})
	if invErr != nil && !apierrors.IsNotFound(invErr) {
		p.t.Fatal(invErr)
	}
	return err == nil, invErr == nil
}

// inventoryNameOf is the name of the inventory ConfigMap of app's target
// web in env.
func inventoryNameOf(app, env string) string { return "jibe-inventory-" + app + "-" + env + "-web" }

// With pruning on, an application whose folder a commit removes is
// deleted in every environment, production first, and its statuses on
// that commit say so; the other application keeps running. A spec that
// does not load in the next commit deletes nothing, nor does one whose
// name cannot be read, nor a folder renamed with its application's name.
func TestE2EPruneDeletesAnApplicationRemovedFromGit(t *testing.T) {
	p := newPruneE2E(t, true)
	p.deployBoth()
	for _, ns := range []string{p.cartStaging, p.cartProduction} {
		if dep, inv := p.exists(ns, "cart", map[string]string{p.cartStaging: "staging", p.cartProduction: "production"}[ns]); !dep || !inv {
			t.Fatalf("cart in %s before removal: deployment %v, inventory %v", ns, dep, inv)
		}
	}

	removed := p.repo.Commit(removeCart)
	p.poll()
	p.settle("cart deleted", func() bool { d, err := p.journal.Deployed(cartApp); return err == nil && len(d) == 0 })

	for ns, env := range map[string]string{p.cartStaging: "staging", p.cartProduction: "production"} {
		if dep, inv := p.exists(ns, "cart", env); dep || inv {
			t.Errorf("cart %s after the deletion: deployment %v, inventory %v; want both gone", env, dep, inv)
		}
	}
	want := []string{"deleting production", "deleted production", "deleting staging", "deleted staging"}
	if got := p.deletions(cartApp); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("cart's deletion events = %v, want %v", got, want)
	}
	st := p.statuses(removed)
	for _, env := range []string{"staging", "production"} {
		s := st["jibe/cart/"+env]
		if wantDesc := "removed from Git at " + removed[:7] + ", deleted"; s.State != "success" || s.Description != wantDesc {
			t.Errorf("cart %s status on %s = %s %q, want success %q", env, removed[:7], s.State, s.Description, wantDesc)
		}
	}
	if got := p.image(p.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("shop production runs %s after cart's deletion", got)
	}

	// A spec that does not load, then one whose name cannot be read, then
	// the folder renamed with the same name: shop is never deleted.
	broken := p.files("registry.example.com/shop/web:1.0.0", rolling)
	broken["apps/shop/jibe.yaml"] = strings.Replace(broken["apps/shop/jibe.yaml"], "spec:\n", "spec:\n  bogus: 1\n", 1)
	p.push(broken)
	p.push(map[string]string{"apps/shop/jibe.yaml": "metadata: [\n"})
	renamed := map[string]string{}
	for k, v := range p.files("registry.example.com/shop/web:1.0.0", rolling) {
		renamed[strings.Replace(k, "apps/shop/", "apps/shop2/", 1)] = v
	}
	moved := p.repo.Commit(gitserver.Commit{Files: renamed, Delete: []string{"apps/shop/jibe.yaml", "apps/shop/k8s/app.yaml"}})
	p.poll()
	p.settle("shop in production from its new folder", p.final("production", moved))
	if got := p.deletions(shopApp); len(got) != 0 {
		t.Errorf("shop's deletion events = %v, want none", got)
	}
	for _, ns := range []string{p.staging, p.production} {
		if got := p.image(ns, "web"); got != "registry.example.com/shop/web:1.0.0" {
			t.Errorf("shop in %s runs %s, want it kept", ns, got)
		}
	}
	if r, _ := p.journal.Current(shopApp, "production"); r.State != reconcile.RolloutSucceeded {
		t.Errorf("shop production from its new folder = %s: %s", r.State, r.Reason)
	}
	if rec, _ := p.journal.App(shopApp); rec.Folder != "apps/shop2" {
		t.Errorf("the journal's folder of shop = %q, want apps/shop2", rec.Folder)
	}
}

// With pruning off, an application whose folder a commit removes is left
// running; the commit's statuses, the API and the metric report it.
func TestE2EPruneOffReportsAndKeeps(t *testing.T) {
	p := newPruneE2E(t, false)
	p.deployBoth()

	removed := p.repo.Commit(removeCart)
	p.poll()
	p.drain()

	for ns, env := range map[string]string{p.cartStaging: "staging", p.cartProduction: "production"} {
		if dep, inv := p.exists(ns, "cart", env); !dep || !inv {
			t.Errorf("cart %s with pruning off: deployment %v, inventory %v; want both kept", env, dep, inv)
		}
	}
	st := p.statuses(removed)
	for _, env := range []string{"staging", "production"} {
		s := st["jibe/cart/"+env]
		if s.State != "error" || !strings.Contains(s.Description, "left running: pruning is off for source shop") {
			t.Errorf("cart %s status = %s %q, want error saying it is left running", env, s.State, s.Description)
		}
	}
	var found bool
	for _, v := range p.agent.Applications() {
		if v.Name == "cart" {
			found = true
			if !strings.Contains(v.Error, "left running") {
				t.Errorf("the API's cart error = %q, want it left running", v.Error)
			}
		}
	}
	if !found {
		t.Errorf("the API does not show cart: %+v", p.agent.Applications())
	}
	if got := p.departedGauge("cart"); got != 1 {
		t.Errorf("jibe_departed_applications{app=cart} = %v, want 1", got)
	}
	for _, k := range p.deletions(cartApp) {
		if !strings.HasPrefix(k, "departed") {
			t.Errorf("cart event %q with pruning off", k)
		}
	}
	if d, _ := p.journal.Deployed(cartApp); len(d) != 2 {
		t.Errorf("cart deployed in %+v, want both environments", d)
	}
}

// An application removed while the agent is down is deleted after the
// restart: the journal knows it ran and where its folder was, and the
// source's clone still has the revisions it deployed.
func TestE2EPruneAfterRestart(t *testing.T) {
	p := newPruneE2E(t, true)
	p.deployBoth()

	p.git = restartedGit(t, p.harness)
	p.agent = withStatuses(New(Options{Config: p.agent.config(), Journal: p.journal, Logger: p.agent.log,
		Clock: p.clock, Platforms: p.agent.opts.Platforms, Capabilities: builtin, History: p.git}), p.reporter)
	p.record()
	removed := p.repo.Commit(removeCart)
	p.poll()
	p.settle("cart deleted after the restart", func() bool { d, err := p.journal.Deployed(cartApp); return err == nil && len(d) == 0 })
	for ns, env := range map[string]string{p.cartStaging: "staging", p.cartProduction: "production"} {
		if dep, inv := p.exists(ns, "cart", env); dep || inv {
			t.Errorf("cart %s after the deletion: deployment %v, inventory %v; want both gone", env, dep, inv)
		}
	}
	if s := p.statuses(removed)["jibe/cart/production"]; s.State != "success" {
		t.Errorf("cart production status = %s %q", s.State, s.Description)
	}
}

// departedGauge is the value of jibe_departed_applications for app of
// source shop, 0 when it has none.
func (p *pruneE2E) departedGauge(app string) float64 {
	p.t.Helper()
	mfs, err := p.agent.metrics.registry.Gather()
	if err != nil {
		p.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "jibe_departed_applications" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["source"] == "shop" && labels["app"] == app {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// Tenancy is checked again before a deletion: once the source may no
// longer write cart's namespaces, cart leaving Git deletes nothing and the
// refusal is reported on the commit; the deletion resumes when the
// configuration allows it again.
func TestE2EPruneRechecksTenancy(t *testing.T) {
	p := newPruneE2E(t, true)
	p.deployBoth()
	cfg := *p.cfg
	cfg.Sources = slices.Clone(cfg.Sources)
	cfg.Sources[0].Allow.Namespaces = []string{p.staging, p.production}
	p.agent.SetConfig(&cfg)
	p.drain()

	removed := p.repo.Commit(removeCart)
	p.poll()
	p.drain()
	for ns, env := range map[string]string{p.cartStaging: "staging", p.cartProduction: "production"} {
		if dep, inv := p.exists(ns, "cart", env); !dep || !inv {
			t.Errorf("cart %s outside the tenancy: deployment %v, inventory %v; want both kept", env, dep, inv)
		}
	}
	s := p.statuses(removed)["jibe/cart/production"]
	if s.State != "failure" || !strings.Contains(s.Description, "not deleted: refused") || !strings.Contains(s.Description, "may not deploy to namespace") {
		t.Errorf("cart production status = %s %q, want a failure naming the refused namespace", s.State, s.Description)
	}
	if d, _ := p.journal.Deployed(cartApp); len(d) != 2 {
		t.Errorf("cart deployed in %+v, want both environments", d)
	}

	// Once the source may write there again, the deletion resumes
	// without waiting for another commit.
	allowed := *p.cfg
	p.agent.SetConfig(&allowed)
	p.settle("cart deleted once allowed", func() bool { d, err := p.journal.Deployed(cartApp); return err == nil && len(d) == 0 })
}

// A commit that rewrites the branch (a force push) without an
// application reports it and deletes nothing; the next commit that still
// lacks it deletes it.
func TestE2EPruneWaitsForACommitAfterARewrite(t *testing.T) {
	p := newPruneE2E(t, true)
	v1 := p.deployBoth()
	p.push(map[string]string{"README.md": "shop\n"})

	rewritten := p.repo.Commit(gitserver.Commit{Parent: v1, Delete: removeCart.Delete})
	p.poll()
	p.drain()
	for ns, env := range map[string]string{p.cartStaging: "staging", p.cartProduction: "production"} {
		if dep, _ := p.exists(ns, "cart", env); !dep {
			t.Errorf("cart %s deleted on a rewritten branch", env)
		}
	}
	if s := p.statuses(rewritten)["jibe/cart/production"]; s.State != "error" || !strings.Contains(s.Description, "the branch was rewritten") {
		t.Errorf("cart production status on the rewrite = %s %q", s.State, s.Description)
	}

	p.repo.Commit(gitserver.Commit{Files: map[string]string{"README.md": "shop, again\n"}})
	p.poll()
	p.settle("cart deleted after the next commit", func() bool { d, err := p.journal.Deployed(cartApp); return err == nil && len(d) == 0 })
}
