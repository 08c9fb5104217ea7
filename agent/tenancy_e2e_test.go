package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// classGVR is the resource of the cluster-scoped GatewayClass-like CRD
// these tests install.
var classGVR = schema.GroupVersionResource{Group: "tenancy.jibe.test", Version: "v1", Resource: "gatewayclasses"}

const classCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gatewayclasses.tenancy.jibe.test}
spec:
  group: tenancy.jibe.test
  scope: Cluster
  names: {kind: GatewayClass, plural: gatewayclasses, singular: gatewayclass}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// installClassCRD installs the cluster-scoped GatewayClass CRD and waits
// until it is served.
func installClassCRD(t *testing.T, c *kube.Cluster) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(classCRD), &u.Object); err != nil {
		t.Fatal(err)
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crds).Apply(t.Context(), u.GetName(), u, metav1.ApplyOptions{FieldManager: "test", Force: true}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(classGVR).List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("the GatewayClass CRD is not served: %v", err)
	}
	return dyn
}

// withAllow puts in force the agent's configuration with the shop
// source's allow replaced.
func (e *e2e) withAllow(allow config.Tenancy) {
	cfg := *e.agent.config()
	cfg.Sources = append([]config.Source(nil), cfg.Sources...)
	cfg.Sources[0].Allow = allow
	e.agent.SetConfig(&cfg)
}

// A tenant allowed only its two namespaces pushes a cluster-scoped custom
// resource: nothing is applied, and the commit status of the environment
// fails naming the manifest's file:line, the kind and what to allow. Once
// an operator lists the kind in allow.clusterScoped, it rolls out.
func TestE2EClusterScopedObjectRefused(t *testing.T) {
	e := newE2E(t)
	dyn := installClassCRD(t, e.cluster)
	t.Cleanup(func() { _ = dyn.Resource(classGVR).Delete(context.Background(), "shop-shared", metav1.DeleteOptions{}) })
	allow := config.Tenancy{Clusters: []string{"test"}, Namespaces: []string{e.staging, e.production}}
	e.withAllow(allow)

	files := e.files("registry.example.com/shop/web:1.0.0", rolling)
	files["apps/shop/k8s/class.yaml"] = "# The team's own gateway class.\n" +
		"apiVersion: tenancy.jibe.test/v1\nkind: GatewayClass\nmetadata: {name: shop-shared}\nspec: {controllerName: example.com/gw}\n"
	v1 := e.push(files)

	s := e.statuses(v1)["jibe/shop/staging"]
	if want := "refused: apps/shop/k8s/class.yaml:2: tenancy.jibe.test/v1 GatewayClass shop-shared: cluster-scoped kind"; s.State != "failure" || !strings.HasPrefix(s.Description, want) {
		t.Errorf("staging status = %s %q; want a failure starting %q", s.State, s.Description, want)
	}
	want := `cluster-scoped kind "tenancy.jibe.test/GatewayClass" is not allowed for source shop; an operator can add it to allow.clusterScoped of source shop`
	if app := e.agent.Applications(); len(app) != 1 || !strings.Contains(app[0].Error, want) {
		t.Errorf("applications = %+v; want the error to say %s", app, want)
	}
	if _, err := dyn.Resource(classGVR).Get(t.Context(), "shop-shared", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get GatewayClass shop-shared = %v; want NotFound: a refused application writes nothing", err)
	}
	if got := e.image(e.staging, "web"); !strings.Contains(got, "not found") {
		t.Errorf("staging runs %s; want nothing applied", got)
	}

	allow.ClusterScoped = []string{"tenancy.jibe.test/GatewayClass"}
	e.withAllow(allow)
	e.settle("v1 in production once allowed", e.final("production", v1))
	if _, err := dyn.Resource(classGVR).Get(t.Context(), "shop-shared", metav1.GetOptions{}); err != nil {
		t.Errorf("GatewayClass shop-shared once allowed: %v", err)
	}
	if s := e.statuses(v1)["jibe/shop/staging"]; s.State != "success" {
		t.Errorf("staging status once allowed = %s %q", s.State, s.Description)
	}
}

// A tenant allowed every namespace ("*") places a ConfigMap in
// kube-system, whose controllers' service accounts a pod there could run
// as: no glob matches Kubernetes' own namespaces, so nothing is applied
// and the status says what an operator would list exactly.
func TestE2ENamespaceGlobDoesNotReachKubeSystem(t *testing.T) {
	e := newE2E(t)
	files := e.files("registry.example.com/shop/web:1.0.0", rolling)
	files["apps/shop/k8s/planted.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-planted, namespace: kube-system}\ndata: {a: b}\n"
	t.Cleanup(func() {
		_ = e.cluster.Clientset().CoreV1().ConfigMaps("kube-system").Delete(context.Background(), "shop-planted", metav1.DeleteOptions{})
	})
	v1 := e.push(files)

	s := e.statuses(v1)["jibe/shop/staging"]
	if want := `namespace "kube-system"`; s.State != "failure" || !strings.Contains(s.Description, want) {
		t.Errorf("staging status = %s %q; want a failure naming %s", s.State, s.Description, want)
	}
	if _, err := e.cluster.Clientset().CoreV1().ConfigMaps("kube-system").Get(t.Context(), "shop-planted", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get kube-system/shop-planted = %v; want NotFound", err)
	}
	if got := e.image(e.staging, "web"); !strings.Contains(got, "not found") {
		t.Errorf("staging runs %s; want nothing applied", got)
	}
}
