package kubernetes

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// engine is the real executor and journal over a platform.
type engine struct {
	clock  *clocktesting.FakeClock
	j      *reconcile.Journal
	x      *reconcile.Executor
	mu     sync.Mutex
	events []reconcile.Event
}

func newEngine(t *testing.T, p *Platform) *engine {
	t.Helper()
	e := &engine{clock: clocktesting.NewFakeClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))}
	j, err := reconcile.OpenJournal(filepath.Join(t.TempDir(), "journal.db"), reconcile.JournalOptions{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	e.j = j
	e.x = &reconcile.Executor{Journal: j, Checks: &checks.HTTP{}, Clock: e.clock,
		Platforms: map[spec.Platform]reconcile.Platform{spec.PlatformKubernetes: p},
		Emit:      func(ev reconcile.Event) { e.mu.Lock(); e.events = append(e.events, ev); e.mu.Unlock() }}
	return e
}

// failing makes d's environment verify an endpoint answering 503 and roll
// back automatically.
func failing(t *testing.T, d *reconcile.Deployment) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(srv.Close)
	app := &spec.Application{Spec: spec.ApplicationSpec{Environments: []spec.Environment{*d.Environment}}}
	app.Spec.Environments[0].Verify = []spec.Check{{Name: "smoke", HTTP: &spec.HTTPCheck{URL: srv.URL}}}
	app.Spec.Environments[0].Rollback = spec.RollbackAutomatic
	spec.SetDefaults(app)
	d.Environment = &app.Spec.Environments[0]
}

// start plans d against the cluster and starts its rollout.
func (e *engine) start(t *testing.T, p *Platform, d *reconcile.Deployment) *reconcile.Rollout {
	t.Helper()
	changes, err := p.Diff(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	r := &spec.Rendered{Environment: d.Environment, Targets: []*spec.RenderedTarget{d.Target}, Platforms: spec.Platforms{Capabilities}}
	plan := reconcile.Build(d.App, d.Revision, []reconcile.EnvInput{{Rendered: r, Changes: changes}})
	ro, err := e.j.Start(d.AppID(), d.Revision, plan.Environments[0])
	if err != nil {
		t.Fatal(err)
	}
	return ro
}

// run advances ro until it ends, polling while it waits (the cluster
// runs in real time), and returns it with how many times it waited while
// rolling back.
func (e *engine) run(t *testing.T, ro *reconcile.Rollout, d *reconcile.Deployment) (*reconcile.Rollout, int) {
	t.Helper()
	waits := 0
	poll(t, "the rollout to end", func(ctx context.Context) (bool, error) {
		next, err := e.x.Advance(ctx, ro, []*reconcile.Deployment{d})
		var w *reconcile.WaitingError
		if err != nil && !errors.As(err, &w) {
			return false, err
		}
		if w != nil && next.RollingBack {
			waits++
		}
		ro = next
		return ro.State.Final(), nil
	})
	return ro, waits
}

// A first deploy whose verification fails has nothing to roll back to: the
// objects it applied, as its inventory records them, are deleted with the
// inventory, and the rollout ends failed, saying so.
func TestFailedFirstDeployIsRemovedFromTheInventory(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	e := newEngine(t, p)
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{},
		webDeployment("web", "registry.test/web:v1", 1), webService("web"), configMap("web", "v1")))
	failing(t, d)

	ro, _ := e.run(t, e.start(t, p, d), d)

	if ro.State != reconcile.RolloutFailed {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	if want := "first deploy removed (nothing to roll back to): check smoke failed: status 503, want 200; push a fix"; ro.Reason != want {
		t.Errorf("reason = %q, want %q", ro.Reason, want)
	}
	cs := c.Clientset()
	_, depErr := cs.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	_, svcErr := cs.CoreV1().Services(ns).Get(t.Context(), "web", metav1.GetOptions{})
	_, cmErr := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "web", metav1.GetOptions{})
	_, invErr := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), inventoryName(d.App, d.Env, d.Target.Name), metav1.GetOptions{})
	for what, err := range map[string]error{"deployment": depErr, "service": svcErr, "config map": cmErr, "inventory": invErr} {
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s after the removal: %v, want not found", what, err)
		}
	}
}

// A rollback re-applies the previous revision and is reported done only
// once its pods are Ready again: while they start, the rollout keeps
// rolling back.
func TestRollbackWaitsForThePreviousPodsToBeReady(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	e := newEngine(t, p)
	d1 := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", slowImage, 2)))
	rollOut(t, p, d1)
	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v2", 2)))
	failing(t, d2)

	ro, waits := e.run(t, e.start(t, p, d2), d2)

	if ro.State != reconcile.RolloutRolledBack || !strings.Contains(ro.Reason, "status 503") {
		t.Fatalf("rollout = %s: %s", ro.State, ro.Reason)
	}
	dep := getDeployment(t, c, ns, "web")
	if image(dep) != slowImage || dep.Status.ObservedGeneration != dep.Generation || dep.Status.ReadyReplicas != 2 ||
		dep.Status.UpdatedReplicas != 2 || dep.Status.Replicas != 2 {
		t.Errorf("reported rolled back while the deployment runs %s (generation %d, %d observed) with %d ready, %d updated of %d replicas",
			image(dep), dep.Generation, dep.Status.ObservedGeneration, dep.Status.ReadyReplicas, dep.Status.UpdatedReplicas, dep.Status.Replicas)
	}
	if waits == 0 {
		t.Error("the rollback never waited for the previous pods, which take 3s to be Ready")
	}
}

// A previous revision whose pods never become Ready again fails the
// rollout once the environment's rollbackTimeout has passed.
func TestRollbackToPodsThatNeverGetReadyFailsAtItsTimeout(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	e := newEngine(t, p)
	gone := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{},
		webDeployment("web", "registry.test/web:gone", 2, kube.NeverReadyLabel+`: "true"`)))
	d2 := next(gone, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v2", 2)))
	failing(t, d2)
	d2.Environment.RollbackTimeout = &spec.Duration{Duration: 5 * time.Minute}

	ro := e.start(t, p, d2)
	var err error
	poll(t, "the rollback to wait for the previous pods", func(ctx context.Context) (bool, error) {
		ro, err = e.x.Advance(ctx, ro, []*reconcile.Deployment{d2})
		return ro.Rollback.Undone, nil
	})
	if reconcile.PolicyOf(err) != reconcile.PolicyRequeue || ro.State != reconcile.RolloutRunning {
		t.Fatalf("rolling back: %s, %v", ro.State, err)
	}
	e.clock.Step(5 * time.Minute)
	if ro, err = e.x.Advance(t.Context(), ro, []*reconcile.Deployment{d2}); err != nil {
		t.Fatal(err)
	}
	if ro.State != reconcile.RolloutFailed || !strings.HasPrefix(ro.Reason, "rollback to rev1 failed (not over after 5m0s: waiting for web to be healthy again: ") {
		t.Errorf("rollout = %s: %s", ro.State, ro.Reason)
	}
}

// A blue/green rollout whose verification fails, on a target that ran a
// version before whose revision is unknown (history unreadable, a first
// deploy superseded before it succeeded), switches the Service back to
// the pods of the version that ran before and deletes the new workload,
// keeping the old one, and says so.
func TestFailedBlueGreenWithoutKnownPreviousReturnsTraffic(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	e := newEngine(t, p)
	bg := func(img string) *spec.RenderedTarget {
		return target(spec.KubernetesTarget{}, webDeployment("web", img, 2), webService("web"))
	}
	rollOut(t, p, deployment(ns, "rev1", blueGreenStrategy(), bg("registry.test/web:v1")))
	blue := getService(t, c, ns, "web").Spec.Selector[LabelVersion]
	d2 := deployment(ns, "rev2", blueGreenStrategy(), bg("registry.test/web:v2")) // no Previous
	failing(t, d2)

	ro, _ := e.run(t, e.start(t, p, d2), d2)

	want := "new version removed, traffic back on the version that ran before (no earlier revision is known to roll back to): check smoke failed: status 503, want 200; push a fix"
	if ro.State != reconcile.RolloutFailed || ro.Reason != want {
		t.Errorf("rollout = %s: %q, want failed: %q", ro.State, ro.Reason, want)
	}
	if got := getService(t, c, ns, "web").Spec.Selector[LabelVersion]; got != blue {
		t.Errorf("service selects version %s, want %s, which ran before", got, blue)
	}
	list, err := c.Clientset().AppsV1().Deployments(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "web-"+blue || image(&list.Items[0]) != "registry.test/web:v1" {
		var names []string
		for _, d := range list.Items {
			names = append(names, d.Name)
		}
		t.Errorf("deployments %v, want only web-%s running registry.test/web:v1", names, blue)
	}
	if inv := readInventory(t, c, d2); len(inv.Retained) != 0 || !slices.Contains(inventoryNames(inv.Objects, "Deployment"), "web-"+blue) {
		t.Errorf("inventory = %+v, want web-%s among its objects and nothing retained", inv, blue)
	}
}
