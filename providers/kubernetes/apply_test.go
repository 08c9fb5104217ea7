package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func TestCreateFromNothing(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := fmt.Sprintf("jibe-create-%d", rand.IntN(1e9))
	t.Cleanup(func() {
		_ = c.Clientset().CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	p := newPlatform(t, c.RESTConfig())
	rt := target(spec.KubernetesTarget{},
		webDeployment("web", "registry.test/web:v1", 2), webService("web"),
		obj("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns))
	d := deployment(ns, "rev1", nil, rt)

	changes, err := p.Diff(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 || slices.ContainsFunc(changes, func(c reconcile.Change) bool { return c.Action != reconcile.ActionCreate }) {
		t.Fatalf("diff before the first apply = %+v, want 3 creates", changes)
	}
	rollOut(t, p, d)

	dep := getDeployment(t, c, ns, "web")
	if dep.Labels[LabelApp] != "shop" || dep.Labels[LabelEnvironment] != "staging" || dep.Annotations[AnnotationRevision] != "rev1" {
		t.Errorf("deployment labels %v annotations %v lack jibe's", dep.Labels, dep.Annotations)
	}
	inv := readInventory(t, c, d)
	if got := len(inv.Objects); got != 3 || inv.Revision != "rev1" {
		t.Errorf("inventory = %+v, want 3 objects at rev1", inv)
	}
}

func TestRollingImageUpdate(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 3), webService("web")))
	rollOut(t, p, d1)

	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v2", 3), webService("web")))
	changes, err := p.Diff(t.Context(), d2)
	if err != nil {
		t.Fatal(err)
	}
	want := reconcile.FieldChange{Path: "spec.template.spec.containers[0].image", Live: "registry.test/web:v1", Desired: "registry.test/web:v2"}
	if len(changes) != 1 || changes[0].Action != reconcile.ActionUpdate || !slices.Contains(changes[0].Fields, want) {
		t.Fatalf("diff = %+v, want one update with %+v", changes, want)
	}
	rollOut(t, p, d2)
	if got := image(getDeployment(t, c, ns, "web")); got != "registry.test/web:v2" {
		t.Errorf("image = %s, want v2", got)
	}
}

func TestDiffAfterApplyMakesNoWrites(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	var count requestCounter
	p := newPlatform(t, count.wrap(c.RESTConfig()))
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{},
		webDeployment("web", "registry.test/web:v1", 2), webService("web"), configMap("settings", "a")))
	rollOut(t, p, d)

	writes := count.writes.Load()
	changes, err := p.Diff(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("diff after apply = %+v, want none", changes)
	}
	if got := count.writes.Load() - writes; got != 0 {
		t.Errorf("diff made %d write requests, want 0", got)
	}
	// Once the caches run, an idle diff makes no request at all.
	all := count.all.Load()
	if changes, err := p.Diff(t.Context(), d); err != nil || len(changes) != 0 {
		t.Fatalf("second diff = %+v, %v", changes, err)
	}
	if got := count.all.Load() - all; got != 0 {
		t.Errorf("idle diff made %d requests, want 0", got)
	}
}

func TestDiffShowsDrift(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 2)))
	rollOut(t, p, d)

	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.test/web:hotfix"}]}}}}`
	_, err := c.Clientset().AppsV1().Deployments(ns).Patch(t.Context(), "web", types.StrategicMergePatchType, []byte(patch),
		metav1.PatchOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatal(err)
	}
	want := reconcile.FieldChange{Path: "spec.template.spec.containers[0].image", Live: "registry.test/web:hotfix", Desired: "registry.test/web:v1"}
	poll(t, "the drift to show", func(ctx context.Context) (bool, error) {
		changes, err := p.Diff(ctx, d)
		return len(changes) == 1 && slices.Contains(changes[0].Fields, want), err
	})
}

func TestPruneFromInventory(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{},
		webDeployment("web", "registry.test/web:v1", 1), configMap("old", "a")))
	rollOut(t, p, d1)
	// An object with jibe's labels that jibe did not apply.
	stranger := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "stranger", Namespace: ns,
		Labels: map[string]string{LabelApp: "shop", LabelEnvironment: "staging", LabelTarget: "web"}}}
	if _, err := c.Clientset().CoreV1().ConfigMaps(ns).Create(t.Context(), stranger, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 1)))
	changes, err := p.Diff(t.Context(), d2)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Action != reconcile.ActionDelete || !strings.HasSuffix(changes[0].Resource, "ConfigMap "+ns+"/old") {
		t.Fatalf("diff = %+v, want the deletion of ConfigMap old only", changes)
	}
	rollOut(t, p, d2)

	cms := c.Clientset().CoreV1().ConfigMaps(ns)
	if _, err := cms.Get(t.Context(), "old", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap old: err = %v, want it pruned", err)
	}
	if _, err := cms.Get(t.Context(), "stranger", metav1.GetOptions{}); err != nil {
		t.Errorf("ConfigMap stranger: %v, want it left alone", err)
	}
	if got := inventoryNames(readInventory(t, c, d2).Objects, "ConfigMap"); len(got) != 0 {
		t.Errorf("inventory ConfigMaps = %v, want none", got)
	}
}

func TestFailedPruneKeepsSurvivors(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	// An identity that may do anything but delete ConfigMaps.
	cfg, err := c.ServiceAccountConfig(t.Context(), ns, "deployer",
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"*"}, Verbs: []string{"*"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch"}})
	if err != nil {
		t.Fatal(err)
	}
	p := newPlatform(t, cfg)
	d1 := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{},
		webDeployment("web", "registry.test/web:v1", 1), configMap("old", "a"), configMap("kept", "b")))
	rollOut(t, p, d1)
	// The identity may not watch cluster-wide: Diff's caches fall back to
	// the namespace.
	if changes, err := p.Diff(t.Context(), d1); err != nil || len(changes) != 0 {
		t.Fatalf("diff = %+v, %v; want no change", changes, err)
	}

	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 1), configMap("kept", "b")))
	err = p.Promote(t.Context(), d2)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("promote = %v, want a stalled forbidden error", err)
	}
	if got := inventoryNames(readInventory(t, c, d2).Objects, "ConfigMap"); !slices.Equal(got, []string{"kept", "old"}) {
		t.Errorf("inventory ConfigMaps = %v, want kept and the survivor old", got)
	}
}

func TestConflictWithAnotherManager(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 1)))
	rollOut(t, p, d1)
	// Someone else takes ownership of the image.
	patch := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.test/web:hotfix"}]}}}}`
	_, err := c.Clientset().AppsV1().Deployments(ns).Patch(t.Context(), "web", types.ApplyPatchType, []byte(patch),
		metav1.PatchOptions{FieldManager: "hotfixer", Force: new(true)})
	if err != nil {
		t.Fatal(err)
	}

	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v2", 1)))
	err = p.Apply(t.Context(), d2)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), `"hotfixer"`) || !strings.Contains(err.Error(), "image") {
		t.Fatalf("apply = %v, want a stalled conflict naming hotfixer and the image", err)
	}
	t.Log(err)

	forced := newPlatform(t, c.RESTConfig())
	forced.ForceConflicts = true
	if err := forced.Apply(t.Context(), d2); err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	if got := image(getDeployment(t, c, ns, "web")); got != "registry.test/web:v2" {
		t.Errorf("image = %s, want v2", got)
	}
}

func TestCRDBeforeCustomResource(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	group := fmt.Sprintf("t%d.jibe.dev", rand.IntN(1e9))
	crd := obj(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`)
	t.Cleanup(func() {
		dyn, _ := dynamic.NewForConfig(c.RESTConfig())
		_ = dyn.Resource(crdGVR).Delete(context.Background(), "widgets."+group, metav1.DeleteOptions{})
	})
	widget := obj("apiVersion: " + group + "/v1\nkind: Widget\nmetadata:\n  name: gear\nspec:\n  size: 3\n")
	p := newPlatform(t, c.RESTConfig())
	// The custom resource comes first in the files.
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, widget, crd))
	changes, err := p.Diff(t.Context(), d)
	if err != nil || len(changes) != 2 {
		t.Fatalf("diff = %+v, %v; want 2 creates", changes, err)
	}
	rollOut(t, p, d)

	dyn, _ := dynamic.NewForConfig(c.RESTConfig())
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}
	if _, err := dyn.Resource(gvr).Namespace(ns).Get(t.Context(), "gear", metav1.GetOptions{}); err != nil {
		t.Errorf("widget gear: %v", err)
	}
	poll(t, "an empty diff", func(ctx context.Context) (bool, error) {
		changes, err := p.Diff(ctx, d)
		return len(changes) == 0, err
	})
}

func TestFailedRollout(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	d1 := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 2)))
	rollOut(t, p, d1)

	broken := webDeployment("web", "registry.test/web:broken", 2, kube.NeverReadyLabel+`: "true"`)
	broken["spec"].(map[string]any)["progressDeadlineSeconds"] = int64(2)
	d2 := next(d1, "rev2", target(spec.KubernetesTarget{}, broken))
	if err := p.Apply(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	h := awaitHealth(t, p, d2, reconcile.HealthFailed)
	if !strings.Contains(h.Reason, "ProgressDeadlineExceeded") {
		t.Errorf("reason = %q, want ProgressDeadlineExceeded", h.Reason)
	}
	if err := p.Rollback(t.Context(), d2); err != nil {
		t.Fatal(err)
	}
	awaitHealth(t, p, d1, reconcile.HealthHealthy)
	if got := image(getDeployment(t, c, ns, "web")); got != "registry.test/web:v1" {
		t.Errorf("image after rollback = %s, want v1", got)
	}
}

func TestForbiddenIsStalled(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	cfg, err := c.ServiceAccountConfig(t.Context(), ns, "deployer")
	if err != nil {
		t.Fatal(err)
	}
	p := newPlatform(t, cfg)
	outside := configMap("elsewhere", "x")
	outside["metadata"].(map[string]any)["namespace"] = "default"
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 1), outside))
	err = p.Apply(t.Context(), d)
	var stalled *reconcile.StalledError
	if !errors.As(err, &stalled) {
		t.Fatalf("apply = %v, want a stalled error", err)
	}
	for _, want := range []string{"ConfigMap default/elsewhere", "forbidden", "RBAC", "k8s/manifests.yaml:21"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestIdleCost checks the cost model: informers are per kind, not per
// application, and diffs of idle applications make no request.
func TestIdleCost(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	var count requestCounter
	p := newPlatform(t, count.wrap(c.RESTConfig()))
	var ds []*reconcile.Deployment
	for range 5 {
		ns := c.NewNamespace(t)
		d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, webDeployment("web", "registry.test/web:v1", 1), webService("web")))
		if err := p.Apply(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	for _, d := range ds {
		if _, err := p.Diff(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	cl, _ := p.cluster(ds[0])
	cl.cache.mu.Lock()
	n := len(cl.cache.entries)
	cl.cache.mu.Unlock()
	if n != 3 {
		t.Errorf("%d informers for 5 applications of 3 kinds (Deployment, Service, inventory ConfigMap), want 3", n)
	}
	all := count.all.Load()
	for range 10 {
		for _, d := range ds {
			if changes, err := p.Diff(t.Context(), d); err != nil || len(changes) != 0 {
				t.Fatalf("diff = %+v, %v", changes, err)
			}
		}
	}
	if got := count.all.Load() - all; got != 0 {
		t.Errorf("50 idle diffs made %d requests, want 0", got)
	}
}

func TestJobHealth(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	job := obj(`
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: registry.test/migrate:v1
`)
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, job))
	rollOut(t, p, d)
}

func TestInvalidObjectIsStalled(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	bad := webDeployment("web", "registry.test/web:v1", 1)
	bad["spec"].(map[string]any)["replicas"] = int64(-1)
	err := p.Apply(t.Context(), deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, bad)))
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "fix the manifest") ||
		!strings.Contains(err.Error(), "k8s/manifests.yaml:1") || !strings.Contains(err.Error(), "spec.replicas") {
		t.Errorf("apply = %v, want a stalled error naming the manifest and the field", err)
	}
}
