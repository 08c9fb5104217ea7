package chart

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

func TestMain(m *testing.M) { kube.Main(m, kube.Options{}) }

// root is the repository's root, from this package.
const root = "../../.."

// TestChartDefault applies the plain manifests (the chart with its default
// values) and checks the agent's pod spec and cluster-wide RBAC.
func TestChartDefault(t *testing.T) {
	c := kube.Shared(t)
	ctx := testContext(t)
	apply(ctx, t, c, "deploy/manifests/jibe.yaml", "jibe")
	checkPodSpec(ctx, t, c, "jibe", "/var/lib/jibe", 8080)
	sa := "system:serviceaccount:jibe:jibe"
	checkAccess(ctx, t, c, sa, "", "configmaps", "patch", "any-namespace", true)
	checkAccess(ctx, t, c, sa, "apps", "deployments", "patch", "any-namespace", true)
	checkAccess(ctx, t, c, sa, "rbac.authorization.k8s.io", "clusterroles", "patch", "", false)
	checkAccess(ctx, t, c, sa, "", "nodes", "delete", "", false)
}

// TestChartNamespacedRBAC applies the chart rendered with rbac.namespaces:
// the agent may write in those namespaces only.
func TestChartNamespacedRBAC(t *testing.T) {
	c := kube.Shared(t)
	ctx := testContext(t)
	apply(ctx, t, c, "deploy/helm/render/testdata/namespaced.yaml", "jibe-system", "team-a", "team-b")
	checkPodSpec(ctx, t, c, "jibe-system", "/var/lib/jibe", 9090)
	sa := "system:serviceaccount:jibe-system:jibe"
	for _, ns := range []string{"team-a", "team-b"} {
		checkAccess(ctx, t, c, sa, "apps", "deployments", "patch", ns, true)
		checkAccess(ctx, t, c, sa, "", "configmaps", "create", ns, true)
	}
	checkAccess(ctx, t, c, sa, "apps", "deployments", "patch", "kube-system", false)
	checkAccess(ctx, t, c, sa, "", "configmaps", "list", "", false)

	d, err := c.Clientset().AppsV1().Deployments("jibe-system").Get(ctx, "jibe", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctr := d.Spec.Template.Spec.Containers[0]
	if len(ctr.Env) != 1 || ctr.Env[0].ValueFrom == nil || ctr.Env[0].ValueFrom.SecretKeyRef.Name != "jibe-github" {
		t.Errorf("env %+v: want GITHUB_TOKEN from Secret jibe-github", ctr.Env)
	}
	if d.Spec.Template.Spec.Volumes[1].PersistentVolumeClaim == nil {
		t.Errorf("state volume %+v: want the chart's claim", d.Spec.Template.Spec.Volumes[1])
	}
}

// TestChartHA applies the chart rendered with ha (sharding, namespaced
// RBAC): several replicas, and the service account may write Leases and
// ConfigMaps in the release's namespace and nowhere else.
func TestChartHA(t *testing.T) {
	c := kube.Shared(t)
	ctx := testContext(t)
	apply(ctx, t, c, "deploy/helm/render/testdata/ha.yaml", "jibe-ha", "team-c")
	sa := "system:serviceaccount:jibe-ha:jibe"
	for _, verb := range []string{"get", "list", "watch", "create", "update", "delete"} {
		checkAccess(ctx, t, c, sa, "coordination.k8s.io", "leases", verb, "jibe-ha", true)
		checkAccess(ctx, t, c, sa, "", "configmaps", verb, "jibe-ha", true)
	}
	for _, ns := range []string{"team-c", "kube-system", "default", ""} {
		checkAccess(ctx, t, c, sa, "coordination.k8s.io", "leases", "update", ns, false)
	}
	for _, ns := range []string{"kube-system", "default", ""} {
		checkAccess(ctx, t, c, sa, "", "configmaps", "update", ns, false)
	}
	d, err := c.Clientset().AppsV1().Deployments("jibe-ha").Get(ctx, "jibe", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3 (ha.replicas)", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	env := map[string]string{}
	for _, e := range pod.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if env["POD_NAME"] != "metadata.name" || env["POD_IP"] != "status.podIP" {
		t.Errorf("env %+v: want POD_NAME and POD_IP from the downward API", pod.Containers[0].Env)
	}
	for _, v := range pod.Volumes {
		if v.Name == "state" && v.EmptyDir == nil {
			t.Errorf("state volume %+v: want an emptyDir (the journal is in the cluster)", v)
		}
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// apply creates namespaces and applies every object of file with
// server-side apply, as kubectl apply --server-side does.
func apply(ctx context.Context, t *testing.T, c *kube.Cluster, file string, namespaces ...string) {
	t.Helper()
	for _, ns := range namespaces {
		_, err := c.Clientset().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("namespace %s: %v", ns, err)
		}
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Clientset().Discovery()))
	objs := decode(t, filepath.Join(root, file))
	if len(objs) == 0 {
		t.Fatalf("%s holds no object", file)
	}
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s %s: %v", file, gvk.Kind, err)
		}
		data, err := u.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if u.GetNamespace() != "" {
			ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		force := true
		if _, err := ri.Patch(ctx, u.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "chart-test", Force: &force}); err != nil {
			t.Errorf("%s: apply %s %s/%s: %v", file, gvk.Kind, u.GetNamespace(), u.GetName(), err)
		}
	}
}

// decode reads the YAML documents of file.
func decode(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if obj != nil {
			objs = append(objs, &unstructured.Unstructured{Object: obj})
		}
	}
}

// checkPodSpec checks the agent's Deployment as the cluster stored it: one
// replica, probes, a locked-down container and a writable state directory.
func checkPodSpec(ctx context.Context, t *testing.T, c *kube.Cluster, ns, stateDir string, port int32) {
	t.Helper()
	d, err := c.Clientset().AppsV1().Deployments(ns).Get(ctx, "jibe", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != "jibe" {
		t.Errorf("service account %q, want jibe", pod.ServiceAccountName)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v: want runAsNonRoot and seccomp RuntimeDefault", psc)
	}
	ctr := pod.Containers[0]
	sc := ctr.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v: want a read-only root, no privilege escalation, capabilities dropped", sc)
	}
	if p := ctr.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe %+v, want GET /healthz", p)
	}
	if p := ctr.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe %+v, want GET /readyz", p)
	}
	if len(ctr.Ports) != 1 || ctr.Ports[0].ContainerPort != port {
		t.Errorf("ports %+v, want %d (config.server.listen)", ctr.Ports, port)
	}
	if ctr.Resources.Requests.Memory().IsZero() {
		t.Error("no memory request")
	}
	mounts := map[string]bool{}
	for _, m := range ctr.VolumeMounts {
		mounts[m.MountPath] = !m.ReadOnly
	}
	if !mounts[stateDir] || !mounts["/tmp"] {
		t.Errorf("mounts %+v: want %s and /tmp writable", ctr.VolumeMounts, stateDir)
	}
	if !slices.Equal(ctr.Args, []string{"agent", "--config", "/etc/jibe/config.yaml"}) {
		t.Errorf("args %q", ctr.Args)
	}
}

// checkAccess asks the cluster whether user may verb the resource.
func checkAccess(ctx context.Context, t *testing.T, c *kube.Cluster, user, group, resource, verb, ns string, want bool) {
	t.Helper()
	review := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
		User:               user,
		Groups:             []string{"system:serviceaccounts", "system:authenticated"},
		ResourceAttributes: &authv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource},
	}}
	got, err := c.Clientset().AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Allowed != want {
		t.Errorf("%s may %s %s.%s in %q: %v, want %v", user, verb, resource, group, ns, got.Status.Allowed, want)
	}
}
