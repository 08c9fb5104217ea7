package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// classGroup is the group of the cluster-scoped GatewayClass-like CRD
// installed once per test binary.
const classGroup = "tenancy.jibe.test"

var classCRD struct {
	once sync.Once
	err  error
}

// installClassCRD installs the CRD of tenancy.jibe.test/v1 GatewayClass,
// scope Cluster, once per test binary.
func installClassCRD(t *testing.T, c *kube.Cluster) {
	t.Helper()
	classCRD.once.Do(func() {
		classCRD.err = applyCRD(context.Background(), c, crdManifest(classGroup, "GatewayClass", "gatewayclasses", "Cluster"))
	})
	if classCRD.err != nil {
		t.Fatalf("install the GatewayClass CRD: %v", classCRD.err)
	}
}

// crdManifest is a CRD of group/v1 kind (plural) with scope.
func crdManifest(group, kind, plural, scope string) map[string]any {
	return obj(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ` + plural + `.` + group + `
spec:
  group: ` + group + `
  scope: ` + scope + `
  names: {kind: ` + kind + `, plural: ` + plural + `, singular: ` + strings.ToLower(kind) + `}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`)
}

// applyCRD creates or updates a CRD with the admin's client and waits
// until it is established.
func applyCRD(ctx context.Context, c *kube.Cluster, crd map[string]any) error {
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: crd}
	if _, err := dyn.Resource(crdGVR).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "test", Force: true}); err != nil {
		return err
	}
	return (&cluster{dyn: dyn}).awaitEstablished(ctx, u.GetName())
}

// tenant is a source allowed one namespace of the test cluster and the
// cluster-scoped kinds listed, as the agent configures deployments.
func tenant(ns string, clusterScoped ...string) reconcile.Tenancy {
	src := &config.Source{Name: "team-a", Allow: config.Tenancy{
		Clusters: []string{clusterName}, Namespaces: []string{ns}, ClusterScoped: clusterScoped}}
	return src.InCluster(clusterName)
}

// liveObjects tells whether objects exist in the cluster, mapping their
// kinds with fresh discovery each time.
type liveObjects struct {
	t   *testing.T
	dyn dynamic.Interface
	c   *kube.Cluster
}

func newLiveObjects(t *testing.T, c *kube.Cluster) *liveObjects {
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &liveObjects{t: t, dyn: dyn, c: c}
}

// exists reports whether o (in namespace ns when its kind is namespaced)
// exists; a kind the cluster does not serve has no objects.
func (l *liveObjects) exists(o map[string]any, ns string) bool {
	l.t.Helper()
	u := &unstructured.Unstructured{Object: o}
	disc, err := discovery.NewDiscoveryClientForConfig(l.c.RESTConfig())
	if err != nil {
		l.t.Fatal(err)
	}
	gvk := u.GroupVersionKind()
	m, err := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)).RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return false
	}
	if err != nil {
		l.t.Fatal(err)
	}
	var ri dynamic.ResourceInterface = l.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = l.dyn.Resource(m.Resource).Namespace(ns)
	}
	_, err = ri.Get(context.Background(), u.GetName(), metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		l.t.Fatalf("get %s %s: %v", gvk.Kind, u.GetName(), err)
	}
	return err == nil
}

// deleteLater deletes cluster-scoped objects when the test ends.
func (l *liveObjects) deleteLater(objs ...map[string]any) {
	l.t.Cleanup(func() {
		for _, o := range objs {
			u := &unstructured.Unstructured{Object: o}
			disc, err := discovery.NewDiscoveryClientForConfig(l.c.RESTConfig())
			if err != nil {
				continue
			}
			gvk := u.GroupVersionKind()
			m, err := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)).RESTMapping(gvk.GroupKind(), gvk.Version)
			if err == nil && m.Scope.Name() == meta.RESTScopeNameRoot {
				_ = l.dyn.Resource(m.Resource).Delete(context.Background(), u.GetName(), metav1.DeleteOptions{})
			}
		}
	})
}

// clusterScopedCase is an application of a tenant that writes
// cluster-scoped objects besides a ConfigMap in its namespace.
type clusterScopedCase struct {
	name string
	// manifests follow the ConfigMap, from k8s/manifests.yaml:21 on.
	manifests []map[string]any
	// made are the cluster-scoped objects the manifests make.
	made []map[string]any
	// where and kind are what the refusal must name.
	where, kind string
	// allow are the allow.clusterScoped entries that let them apply.
	allow []string
	// partial are the entries in force when they are refused.
	partial []string
}

func clusterScopedCases(s string) []clusterScopedCase {
	class := obj("apiVersion: " + classGroup + "/v1\nkind: GatewayClass\nmetadata: {name: shared-" + s + "}\nspec: {controllerName: example.com/gateway}")
	ingress := obj("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: ingress-" + s + "}\nspec: {controller: example.com/ingress}")
	runtime := obj("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: gvisor-" + s + "}\nhandler: runsc")
	policy := obj(`
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: policy-` + s + `}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas <= 5"
`)
	binding := obj(`
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: binding-` + s + `}
spec:
  policyName: policy-` + s + `
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {jibe-test-nobody: "` + s + `"}}
`)
	priority := obj("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: urgent-" + s + "}\nvalue: 1000")
	role := obj("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader-" + s + "}\nrules: []")
	role2 := obj("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: writer-" + s + "}\nrules: []")
	list := map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"name": "roles"}, "items": []any{role}}
	cmList := map[string]any{"apiVersion": "v1", "kind": "ConfigMapList", "metadata": map[string]any{"name": "roles"}, "items": []any{role2}}
	thingGroup := "t" + s + ".jibe.test"
	crd := crdManifest(thingGroup, "Thing", "things", "Cluster")
	thing := obj("apiVersion: " + thingGroup + "/v1\nkind: Thing\nmetadata: {name: thing-" + s + "}")
	gadgetGroup := "g" + s + ".jibe.test"
	crd2 := crdManifest(gadgetGroup, "Gadget", "gadgets", "Cluster")
	thing2 := obj("apiVersion: " + gadgetGroup + "/v1\nkind: Gadget\nmetadata: {name: gadget-" + s + "}")
	const at21, at41 = "k8s/manifests.yaml:21", "k8s/manifests.yaml:41"
	return []clusterScopedCase{
		{"cluster-scoped custom resource", []map[string]any{class}, []map[string]any{class}, at21, classGroup + "/GatewayClass", []string{classGroup + "/GatewayClass"}, nil},
		{"IngressClass", []map[string]any{ingress}, []map[string]any{ingress}, at21, "networking.k8s.io/IngressClass", []string{"networking.k8s.io/IngressClass"}, nil},
		{"RuntimeClass", []map[string]any{runtime}, []map[string]any{runtime}, at21, "node.k8s.io/RuntimeClass", []string{"node.k8s.io/*"}, nil},
		{"ValidatingAdmissionPolicy and binding", []map[string]any{policy, binding}, []map[string]any{policy, binding}, at21,
			"admissionregistration.k8s.io/ValidatingAdmissionPolicy", []string{"admissionregistration.k8s.io/ValidatingAdmissionPolicy", "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding"}, nil},
		{"PriorityClass", []map[string]any{priority}, []map[string]any{priority}, at21, "scheduling.k8s.io/PriorityClass", []string{"*"}, nil},
		{"List of a ClusterRole", []map[string]any{list}, []map[string]any{role}, at21 + " items[0]", "rbac.authorization.k8s.io/ClusterRole", []string{"rbac.authorization.k8s.io/ClusterRole"}, nil},
		{"ConfigMapList of a ClusterRole", []map[string]any{cmList}, []map[string]any{role2}, at21 + " items[0]", "rbac.authorization.k8s.io/ClusterRole", []string{"rbac.authorization.k8s.io/ClusterRole"}, nil},
		{"cluster-scoped CRD and its resource", []map[string]any{crd, thing}, []map[string]any{crd, thing}, at21,
			"apiextensions.k8s.io/CustomResourceDefinition", []string{"apiextensions.k8s.io/CustomResourceDefinition", thingGroup + "/Thing"}, nil},
		{"cluster-scoped resource of an allowed CRD", []map[string]any{crd2, thing2}, []map[string]any{crd2, thing2}, at41,
			gadgetGroup + "/Gadget", []string{"apiextensions.k8s.io/*", gadgetGroup + "/Gadget"}, []string{"apiextensions.k8s.io/CustomResourceDefinition"}},
	}
}

// A tenant allowed one namespace is refused every cluster-scoped object,
// whatever its kind, when planning and when applying: the refusal names
// the manifest's file:line and the kind to allow, and nothing of the
// application is written. With the kinds in allow.clusterScoped, the same
// application applies.
func TestTenancyClusterScopedNeedsAllowance(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	installClassCRD(t, c)
	for _, tc := range clusterScopedCases(fmt.Sprint(rand.IntN(1e9))) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := c.NewNamespace(t)
			live := newLiveObjects(t, c)
			live.deleteLater(tc.made...)
			settings := configMap("settings", "x")
			rt := target(spec.KubernetesTarget{}, append([]map[string]any{settings}, tc.manifests...)...)
			p := newPlatform(t, c.RESTConfig())
			d := deployment(ns, "rev1", nil, rt)
			d.Tenancy = tenant(ns, tc.partial...)

			_, err := p.Diff(t.Context(), d)
			checkRefused(t, "diff", err, tc.where, tc.kind)
			checkRefused(t, "apply", p.Apply(t.Context(), d), tc.where, tc.kind)
			for _, o := range append(tc.made, settings) {
				if live.exists(o, ns) {
					t.Errorf("%s %s was created although the application was refused", o["kind"], name(o))
				}
			}

			d.Tenancy = tenant(ns, tc.allow...)
			if _, err := p.Diff(t.Context(), d); err != nil {
				t.Fatalf("diff with allow.clusterScoped %v: %v", tc.allow, err)
			}
			if err := p.Apply(t.Context(), d); err != nil {
				t.Fatalf("apply with allow.clusterScoped %v: %v", tc.allow, err)
			}
			for _, o := range append(tc.made, settings) {
				if !live.exists(o, ns) {
					t.Errorf("%s %s was not created", o["kind"], name(o))
				}
			}
		})
	}
}

// checkRefused fails t unless err is a stalled refusal naming where and
// the kind to add to allow.clusterScoped.
func checkRefused(t *testing.T, op string, err error, where, kind string) {
	t.Helper()
	var re *reconcile.RefusedError
	var te *config.TenancyError
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !errors.As(err, &re) || !errors.As(err, &te) {
		t.Fatalf("%s = %v; want a stalled refusal by the source's tenancy", op, err)
	}
	if !strings.HasPrefix(re.Object, where+": ") || te.Name != kind || te.Field != "clusterScoped" {
		t.Errorf("%s refused %q for %s %q; want %s and kind %s", op, re.Object, te.What, te.Name, where, kind)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("kind %q is not allowed for source team-a; an operator can add it to allow.clusterScoped", kind)) {
		t.Errorf("%s: %q does not say what to allow", op, err)
	}
}

func name(o map[string]any) string {
	return (&unstructured.Unstructured{Object: o}).GetName()
}

// A kind the cluster does not serve, whose CRD the application does not
// hold, has no known scope: it is refused, saying what to do.
func TestTenancyUnknownKindIsRefused(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	p := newPlatform(t, c.RESTConfig())
	gizmo := obj("apiVersion: nowhere.jibe.test/v1\nkind: Gizmo\nmetadata: {name: g}")
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, configMap("settings", "x"), gizmo))
	d.Tenancy = tenant(ns, "*")
	for op, call := range map[string]func() error{
		"diff":  func() error { _, err := p.Diff(t.Context(), d); return err },
		"apply": func() error { return p.Apply(t.Context(), d) },
	} {
		err := call()
		var re *reconcile.RefusedError
		if reconcile.PolicyOf(err) != reconcile.PolicyStall || !errors.As(err, &re) ||
			!strings.HasPrefix(re.Object, "k8s/manifests.yaml:21: nowhere.jibe.test/v1 Gizmo") ||
			!strings.Contains(err.Error(), "cannot tell whether this kind is namespaced or cluster-scoped") ||
			!strings.Contains(err.Error(), "install the CRD first, include it in the application") {
			t.Errorf("%s = %v; want a refusal of the Gizmo of unknown scope", op, err)
		}
	}
	if newLiveObjects(t, c).exists(configMap("settings", "x"), ns) {
		t.Error("the application was partly applied")
	}
}

// A kind planned as namespaced whose CRD is replaced by a cluster-scoped
// one before the apply is refused at the apply: writes decide scope from
// the cluster's current discovery, not from what was cached at plan time.
func TestTenancyScopeChangedBetweenPlanAndApply(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	group := fmt.Sprintf("f%d.jibe.test", rand.IntN(1e9))
	crdName := "flips." + group
	if err := applyCRD(t.Context(), c, crdManifest(group, "Flip", "flips", "Namespaced")); err != nil {
		t.Fatal(err)
	}
	live := newLiveObjects(t, c)
	live.deleteLater(crdManifest(group, "Flip", "flips", "Cluster"))
	p := newPlatform(t, c.RESTConfig())
	flip := obj("apiVersion: " + group + "/v1\nkind: Flip\nmetadata: {name: flip}")
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, configMap("settings", "x"), flip))
	d.Tenancy = tenant(ns)
	if changes, err := p.Diff(t.Context(), d); err != nil || len(changes) != 2 {
		t.Fatalf("plan with the namespaced CRD = %+v, %v; want 2 creates", changes, err)
	}

	if err := live.dyn.Resource(crdGVR).Delete(t.Context(), crdName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "the namespaced CRD gone", func(ctx context.Context) (bool, error) {
		_, err := live.dyn.Resource(crdGVR).Get(ctx, crdName, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err := applyCRD(t.Context(), c, crdManifest(group, "Flip", "flips", "Cluster")); err != nil {
		t.Fatal(err)
	}

	checkRefused(t, "apply", p.Apply(t.Context(), d), "k8s/manifests.yaml:21", group+"/Flip")
	if live.exists(flip, ns) || live.exists(configMap("settings", "x"), ns) {
		t.Error("objects were written although the apply was refused")
	}
}

// The apply path admits each object by the scope the cluster serves its
// kind with at the time of the write, whatever the placement said.
func TestTenancyApplyAdmitsByServedScope(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	installClassCRD(t, c)
	ns := c.NewNamespace(t)
	cl, err := newCluster(t.Context(), c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	live := newLiveObjects(t, c)
	class := obj("apiVersion: " + classGroup + "/v1\nkind: GatewayClass\nmetadata: {name: applied-" + fmt.Sprint(rand.IntN(1e9)) + "}")
	live.deleteLater(class)
	w := writeOpts{allow: tenant(ns)}

	placed := &unstructured.Unstructured{Object: class}
	if _, err := cl.applyOne(t.Context(), object{u: placed, source: "k8s/class.yaml:1"}, w); !isRefusal(err) {
		t.Errorf("apply of a cluster-scoped object without allowance = %v, want a refusal", err)
	}
	misplaced := placed.DeepCopy()
	misplaced.SetNamespace(ns)
	_, err = cl.applyOne(t.Context(), object{u: misplaced, source: "k8s/class.yaml:1"}, writeOpts{allow: tenant(ns, "*")})
	if !isRefusal(err) || !strings.Contains(err.Error(), "placed in a namespace; plan again") {
		t.Errorf("apply of a cluster-scoped object placed in a namespace = %v, want a refusal", err)
	}
	if live.exists(class, ns) {
		t.Fatal("the GatewayClass was written")
	}
	if _, err := cl.applyOne(t.Context(), object{u: placed, source: "k8s/class.yaml:1"}, writeOpts{allow: tenant(ns, classGroup+"/GatewayClass")}); err != nil {
		t.Fatalf("apply with the kind allowed: %v", err)
	}
}

func isRefusal(err error) bool {
	var re *reconcile.RefusedError
	return reconcile.PolicyOf(err) == reconcile.PolicyStall && errors.As(err, &re)
}

// An inventory is a ConfigMap in the tenant's namespace. The tenant's
// manifests cannot be named like one (TestManifestNamedLikeAnInventoryIsRefused),
// but what runs in the namespace may write it. A forged inventory naming a
// ClusterRole must not make a prune delete it: deletes are admitted like
// applies.
func TestTenancyForgedInventoryPrunesNothingOutside(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	victim := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("victim-%d", rand.IntN(1e9))}}
	if _, err := c.Clientset().RbacV1().ClusterRoles().Create(t.Context(), victim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Clientset().RbacV1().ClusterRoles().Delete(context.Background(), victim.Name, metav1.DeleteOptions{})
	})
	forged := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: inventoryName("shop", "staging", "other"), Namespace: ns,
		Labels: map[string]string{LabelApp: "shop", LabelEnvironment: "staging", LabelTarget: "web"}},
		Data: map[string]string{inventoryObjects: `[{"group":"rbac.authorization.k8s.io","version":"v1","kind":"ClusterRole","name":"` + victim.Name + `"}]`}}
	if _, err := c.Clientset().CoreV1().ConfigMaps(ns).Create(t.Context(), forged, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := newPlatform(t, c.RESTConfig())

	rt := target(spec.KubernetesTarget{}, configMap("settings", "x"))
	rt.Target = &spec.Target{Name: "other", Kubernetes: rt.Kubernetes}
	other := deployment(ns, "rev1", nil, rt)
	other.Tenancy = tenant(ns)
	if err := p.Apply(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	err := p.Promote(t.Context(), other)
	if !isRefusal(err) || !strings.Contains(err.Error(), "ClusterRole "+victim.Name) {
		t.Errorf("promote = %v; want the prune of the ClusterRole refused", err)
	}
	if _, err := c.Clientset().RbacV1().ClusterRoles().Get(t.Context(), victim.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("ClusterRole %s: %v; a forged inventory must not delete it", victim.Name, err)
	}
}

// Lists are expanded into their items, nested lists too, each item named
// after its list's manifest; anything else is left alone.
func TestDecodeManifestsExpandsLists(t *testing.T) {
	role := obj("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}")
	cm := configMap("settings", "x")
	inner := map[string]any{"apiVersion": "v1", "kind": "ConfigMapList", "items": []any{cm}}
	tests := []struct {
		name  string
		doc   map[string]any
		want  []string
		error string
	}{
		{"object", role, []string{"k8s/a.yaml:3: rbac.authorization.k8s.io/v1 ClusterRole reader"}, ""},
		{"List", map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{role, inner}},
			[]string{"k8s/a.yaml:3 items[0]: rbac.authorization.k8s.io/v1 ClusterRole reader", "k8s/a.yaml:3 items[1] items[0]: v1 ConfigMap settings"}, ""},
		{"empty List", map[string]any{"apiVersion": "v1", "kind": "List"}, nil, ""},
		{"a kind ending in List without items", obj("apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: ips}\nspec: {}"),
			[]string{"k8s/a.yaml:3: example.com/v1 AllowList ips"}, ""},
		{"an item without kind", map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{map[string]any{"metadata": map[string]any{"name": "x"}}}},
			nil, "k8s/a.yaml:3 items[0]: an item of a List must be an object with apiVersion, kind and metadata.name"},
		{"an item that is no object", map[string]any{"apiVersion": "v1", "kind": "SecretList", "items": []any{"x"}},
			nil, "k8s/a.yaml:3 items[0]: an item of a SecretList must be an object"},
	}
	for _, tt := range tests {
		objs, err := decodeManifests([]spec.Manifest{{File: "k8s/a.yaml", Line: 3, Object: tt.doc}})
		if tt.error != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.error) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.error)
			}
			continue
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.where())
		}
		if err != nil || strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: decoded %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// The items of a list are checked like any object: an item in a namespace
// the source may not write to is refused, though the list names none.
func TestTenancyListItemInAnotherNamespace(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	other := c.NewNamespace(t)
	intruder := configMap("intruder", "x")
	intruder["metadata"].(map[string]any)["namespace"] = other
	list := map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"name": "all"}, "items": []any{intruder}}
	p := newPlatform(t, c.RESTConfig())
	d := deployment(ns, "rev1", nil, target(spec.KubernetesTarget{}, configMap("settings", "x"), list))
	d.Tenancy = tenant(ns, "*")
	err := p.Apply(t.Context(), d)
	var te *config.TenancyError
	if !isRefusal(err) || !errors.As(err, &te) || te.What != "namespace" || te.Name != other ||
		!strings.HasPrefix(err.Error(), "k8s/manifests.yaml:21 items[0]: v1 ConfigMap "+other+"/intruder") {
		t.Fatalf("apply = %v; want the item refused for its namespace", err)
	}
	live := newLiveObjects(t, c)
	if live.exists(intruder, other) || live.exists(configMap("settings", "x"), ns) {
		t.Error("objects were written although the list was refused")
	}
}
