package kubernetes

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func canaryStrategy() *spec.Strategy {
	return &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{{SetWeight: new(spec.Percent(10))}}}}
}

func routeTarget(img string) *spec.RenderedTarget {
	return target(spec.KubernetesTarget{HTTPRoute: "web"},
		webDeployment("web", img, 4), webService("web"), httpRoute("web", "web"))
}

// shift calls ShiftTraffic and fails the test on error.
func shift(t *testing.T, p *Platform, d *reconcile.Deployment, w spec.Percent) {
	t.Helper()
	if err := p.ShiftTraffic(t.Context(), d, w); err != nil {
		t.Fatalf("shift to %v%%: %v", w, err)
	}
}

func wantWeights(t *testing.T, c *kube.Cluster, ns string, want map[string]int32) {
	t.Helper()
	if got := routeWeights(t, c, ns, "web"); !maps.Equal(got, want) {
		t.Errorf("route weights = %v, want %v", got, want)
	}
}

// wantGone checks that the canary's copies are deleted.
func wantGone(t *testing.T, c *kube.Cluster, ns string) {
	t.Helper()
	if _, err := c.Clientset().AppsV1().Deployments(ns).Get(t.Context(), "web-canary", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment web-canary: err = %v, want it deleted", err)
	}
	if _, err := c.Clientset().CoreV1().Services(ns).Get(t.Context(), "web-canary", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("service web-canary: err = %v, want it deleted", err)
	}
}

func TestCanaryWithHTTPRoute(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	installGatewayAPI(t, c)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", canaryStrategy(), routeTarget("registry.test/web:v1"))
	rollOut(t, p, d1)
	if sel := getService(t, c, ns, "web").Spec.Selector; sel[LabelTrack] != "stable" {
		t.Errorf("stable service selector = %v, want the stable track", sel)
	}

	d2 := next(d1, "rev2", routeTarget("registry.test/web:v2"))
	if err := p.Apply(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	if got := image(getDeployment(t, c, ns, "web")); got != "registry.test/web:v1" {
		t.Errorf("stable image during the canary = %s, want v1", got)
	}
	canary := getDeployment(t, c, ns, "web-canary")
	if image(canary) != "registry.test/web:v2" || canary.Spec.Template.Labels[LabelTrack] != "canary" || *canary.Spec.Replicas != 4 {
		t.Errorf("canary runs %d replicas of %s with labels %v; want 4 of v2", *canary.Spec.Replicas, image(canary), canary.Spec.Template.Labels)
	}
	if sel := getService(t, c, ns, "web-canary").Spec.Selector; sel[LabelTrack] != "canary" {
		t.Errorf("canary service selector = %v", sel)
	}
	wantWeights(t, c, ns, map[string]int32{"web": 100, "web-canary": 0})
	awaitHealth(t, p, d2, reconcile.HealthHealthy)

	shift(t, p, d2, 10)
	wantWeights(t, c, ns, map[string]int32{"web": 90, "web-canary": 10})
	if ready := getDeployment(t, c, ns, "web-canary").Status.ReadyReplicas; ready != 4 {
		t.Errorf("weights shifted with %d canary pods ready, want 4", ready)
	}
	shift(t, p, d2, 50)
	wantWeights(t, c, ns, map[string]int32{"web": 50, "web-canary": 50})
	shift(t, p, d2, 100)
	promote(t, p, d2)

	if got := image(getDeployment(t, c, ns, "web")); got != "registry.test/web:v2" {
		t.Errorf("stable image after promotion = %s, want v2", got)
	}
	wantGone(t, c, ns)
	wantWeights(t, c, ns, map[string]int32{"web": 1})
	poll(t, "an empty diff", func(ctx context.Context) (bool, error) {
		changes, err := p.Diff(ctx, d2)
		return len(changes) == 0, err
	})
}

// promote calls Promote until it stops asking to wait.
func promote(t *testing.T, p *Platform, d *reconcile.Deployment) {
	t.Helper()
	poll(t, "the promotion", func(ctx context.Context) (bool, error) {
		err := p.Promote(ctx, d)
		if reconcile.PolicyOf(err) == reconcile.PolicyRequeue {
			return false, nil
		}
		return err == nil, err
	})
}

func TestCanaryWithReplicaRatio(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", canaryStrategy(), target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 4), webService("web")))
	rollOut(t, p, d1)

	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v2", 4), webService("web")))
	if err := p.Apply(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	awaitHealth(t, p, d2, reconcile.HealthHealthy)
	for _, step := range []struct {
		weight         spec.Percent
		canary, stable int32
	}{{0, 0, 4}, {25, 1, 3}, {50, 2, 2}, {100, 4, 0}} {
		shift(t, p, d2, step.weight)
		canary, stable := getDeployment(t, c, ns, "web-canary"), getDeployment(t, c, ns, "web")
		if canary.Status.ReadyReplicas != step.canary || *stable.Spec.Replicas != step.stable || image(stable) != "registry.test/web:v1" {
			t.Errorf("at %v%%: canary %d ready, stable %d replicas of %s; want %d and %d of v1",
				step.weight, canary.Status.ReadyReplicas, *stable.Spec.Replicas, image(stable), step.canary, step.stable)
		}
	}
	promote(t, p, d2)
	stable := getDeployment(t, c, ns, "web")
	if *stable.Spec.Replicas != 4 || image(stable) != "registry.test/web:v2" {
		t.Errorf("after promotion: %d replicas of %s, want 4 of v2", *stable.Spec.Replicas, image(stable))
	}
	wantGone(t, c, ns)
}

func TestCanaryRollbackLeavesNothing(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	installGatewayAPI(t, c)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", canaryStrategy(), routeTarget("registry.test/web:v1"))
	rollOut(t, p, d1)
	rev2 := routeTarget("registry.test/web:v2")
	rev2.Manifests = append(rev2.Manifests, spec.Manifest{File: "k8s/new.yaml", Line: 1, Object: configMap("new-in-rev2", "x")})
	d2 := next(d1, "rev2", rev2)
	if err := p.Apply(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	shift(t, p, d2, 50)

	if err := p.Rollback(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	wantWeights(t, c, ns, map[string]int32{"web": 1})
	wantGone(t, c, ns)
	if _, err := c.Clientset().CoreV1().ConfigMaps(ns).Get(t.Context(), "new-in-rev2", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap new-in-rev2: err = %v, want it deleted", err)
	}
	if got := image(getDeployment(t, c, ns, "web")); got != "registry.test/web:v1" {
		t.Errorf("stable image = %s, want v1", got)
	}
	inv := readInventory(t, c, d2)
	if len(inv.Objects) != 3 || len(inv.Retained) != 0 || inv.Revision != "rev1" {
		t.Errorf("inventory after rollback = %+v, want rev1's 3 objects", inv)
	}
	poll(t, "an empty diff against rev1", func(ctx context.Context) (bool, error) {
		changes, err := p.Diff(ctx, d1)
		return len(changes) == 0, err
	})
}

func blueGreenStrategy() *spec.Strategy { return &spec.Strategy{BlueGreen: &spec.BlueGreen{}} }

func TestBlueGreen(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	bg := func(img string) *spec.RenderedTarget {
		return target(spec.KubernetesTarget{}, webDeployment("web", img, 2), webService("web"))
	}
	d1 := deployment(ns, "rev1", blueGreenStrategy(), bg("registry.test/web:v1"))
	rollOut(t, p, d1)
	blue := getService(t, c, ns, "web").Spec.Selector[LabelVersion]
	if blue == "" {
		t.Fatal("the service selects no version")
	}
	getDeployment(t, c, ns, "web-"+blue)

	// The green pods take slowDelay to become ready: no switch before.
	d2 := next(d1, "rev2", bg(slowImage))
	if err := p.Apply(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	err := p.ShiftTraffic(t.Context(), d2, 100)
	var waiting *reconcile.WaitingError
	if !errors.As(err, &waiting) {
		t.Fatalf("shift before green is healthy = %v, want a waiting error", err)
	}
	if got := getService(t, c, ns, "web").Spec.Selector[LabelVersion]; got != blue {
		t.Fatalf("service switched to %s before green was healthy", got)
	}
	awaitHealth(t, p, d2, reconcile.HealthHealthy)
	shift(t, p, d2, 100)
	green := getService(t, c, ns, "web").Spec.Selector[LabelVersion]
	if green == blue || image(getDeployment(t, c, ns, "web-"+green)) != slowImage {
		t.Fatalf("service selects %s after the switch, want the green version", green)
	}
	if err := p.Promote(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	if inv := readInventory(t, c, d2); len(inv.Retained) != 1 || inv.Retained[0].Name != "web-"+blue {
		t.Errorf("retained = %v, want web-%s", inv.Retained, blue)
	}

	// Rolling back switches the selector back and deletes green.
	if err := p.Rollback(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	if got := getService(t, c, ns, "web").Spec.Selector[LabelVersion]; got != blue {
		t.Errorf("service selects %s after rollback, want %s", got, blue)
	}
	if _, err := c.Clientset().AppsV1().Deployments(ns).Get(t.Context(), "web-"+green, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("green deployment: err = %v, want it deleted", err)
	}

	// A new version promoted and cleaned up deletes blue.
	d3 := next(d1, "rev3", bg("registry.test/web:v3"))
	if err := p.Apply(t.Context(), d3); err != nil {
		t.Fatal(err)
	}
	awaitHealth(t, p, d3, reconcile.HealthHealthy)
	shift(t, p, d3, 100)
	if err := p.Promote(t.Context(), d3); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(t.Context(), d3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clientset().AppsV1().Deployments(ns).Get(t.Context(), "web-"+blue, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("blue deployment after cleanup: err = %v, want it deleted", err)
	}
	if inv := readInventory(t, c, d3); len(inv.Retained) != 0 || len(inv.Objects) != 2 {
		t.Errorf("inventory after cleanup = %+v", inv)
	}
	poll(t, "an empty diff", func(ctx context.Context) (bool, error) {
		changes, err := p.Diff(ctx, d3)
		return len(changes) == 0, err
	})
}

func TestFailedCanary(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", canaryStrategy(), target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 2), webService("web")))
	rollOut(t, p, d1)

	broken := webDeployment("web", "registry.test/web:broken", 2, kube.NeverReadyLabel+`: "true"`)
	broken["spec"].(map[string]any)["progressDeadlineSeconds"] = int64(2)
	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, broken, webService("web")))
	if err := p.Apply(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	err := p.ShiftTraffic(t.Context(), d2, 50)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "web-canary") || !strings.Contains(err.Error(), "progress deadline") {
		t.Fatalf("shift to a failing canary = %v, want a stalled error naming the canary and its progress deadline", err)
	}
	t.Log(err)
	h := awaitHealth(t, p, d2, reconcile.HealthFailed)
	if !strings.Contains(h.Reason, "web-canary") {
		t.Errorf("health reason %q does not name the canary", h.Reason)
	}
	if err := p.Rollback(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	wantGone(t, c, ns)
	if stable := getDeployment(t, c, ns, "web"); *stable.Spec.Replicas != 2 || image(stable) != "registry.test/web:v1" {
		t.Errorf("stable after rollback: %d replicas of %s", *stable.Spec.Replicas, image(stable))
	}
}
