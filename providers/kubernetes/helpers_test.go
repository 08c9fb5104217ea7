package kubernetes

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// slowImage's pods become Ready only after slowDelay, so a blue/green
// switch has to wait for them.
const (
	slowImage = "registry.test/slow:v2"
	slowDelay = 3 * time.Second
)

func TestMain(m *testing.M) {
	kube.Main(m, kube.Options{PodStages: []kube.PodStage{{
		Name: "jibe-slow-image", Behavior: kube.ReadyAfter, Delay: slowDelay,
		Select: kube.PodSelector{Image: slowImage},
	}}})
}

// testTimeout bounds every wait of the tests.
const testTimeout = 90 * time.Second

const clusterName = "test"

// newPlatform returns a platform for the test cluster, closed when the
// test ends.
func newPlatform(t *testing.T, cfg *rest.Config) *Platform {
	t.Helper()
	p := New(map[string]*rest.Config{clusterName: cfg})
	t.Cleanup(p.Close)
	return p
}

// requestCounter counts the requests of a rest.Config by verb.
type requestCounter struct {
	writes, all atomic.Int64
}

// wrap makes cfg count its requests in c.
func (c *requestCounter) wrap(cfg *rest.Config) *rest.Config {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.all.Add(1)
			if r.Method != http.MethodGet {
				c.writes.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// target returns a rendered Kubernetes target of objs.
func target(k spec.KubernetesTarget, objs ...map[string]any) *spec.RenderedTarget {
	if k.Manifests == "" {
		k.Manifests = "k8s"
	}
	rt := &spec.RenderedTarget{Target: &spec.Target{Name: "web", Kubernetes: &k}}
	for i, o := range objs {
		rt.Manifests = append(rt.Manifests, spec.Manifest{File: "k8s/manifests.yaml", Line: 1 + 20*i, Object: o})
	}
	return rt
}

// deployment returns the deployment of rt at revision rev in namespace ns.
func deployment(ns, rev string, strategy *spec.Strategy, rt *spec.RenderedTarget) *reconcile.Deployment {
	return &reconcile.Deployment{
		App: "shop", Env: "staging", Revision: rev,
		Environment: &spec.Environment{Name: "staging", Strategy: strategy}, Mode: strategy.Kind(),
		Target: rt, Cluster: clusterName, Namespace: ns,
	}
}

// next returns the deployment of rt at rev following d.
func next(d *reconcile.Deployment, rev string, rt *spec.RenderedTarget) *reconcile.Deployment {
	n := *d
	n.Revision, n.Target, n.Previous, n.PreviousRevision = rev, rt, d.Target, d.Revision
	return &n
}

func obj(s string) map[string]any {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

// webDeployment is a Deployment of image with replicas; extra is YAML
// merged into its spec.
func webDeployment(name, image string, replicas int, podLabels ...string) map[string]any {
	labels := "app: " + name
	for _, l := range podLabels {
		labels += "\n        " + l
	}
	d := obj(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
spec:
  replicas: ` + itoa(replicas) + `
  selector:
    matchLabels:
      app: ` + name + `
  template:
    metadata:
      labels:
        ` + labels + `
    spec:
      containers:
      - name: web
        image: ` + image + `
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
`)
	return d
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func webService(name string) map[string]any {
	return obj(`
apiVersion: v1
kind: Service
metadata:
  name: ` + name + `
spec:
  selector:
    app: ` + name + `
  ports:
  - port: 80
    targetPort: 8080
`)
}

func configMap(name, value string) map[string]any {
	return obj(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: ` + name + `
data:
  key: "` + value + `"
`)
}

func httpRoute(name, service string) map[string]any {
	return obj(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ` + name + `
spec:
  parentRefs:
  - name: gateway
  rules:
  - backendRefs:
    - name: ` + service + `
      port: 80
`)
}

// poll waits for cond with the test deadline.
func poll(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, testTimeout, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// awaitHealth polls Health until it reports state.
func awaitHealth(t *testing.T, p *Platform, d *reconcile.Deployment, state reconcile.HealthState) reconcile.Health {
	t.Helper()
	var h reconcile.Health
	poll(t, "health "+state.String(), func(ctx context.Context) (bool, error) {
		var err error
		h, err = p.Health(ctx, d)
		return h.State == state, err
	})
	return h
}

// rollOut applies d, waits until it is healthy and promotes it, as the
// engine does for a rolling deployment.
func rollOut(t *testing.T, p *Platform, d *reconcile.Deployment) {
	t.Helper()
	if err := p.Apply(t.Context(), d); err != nil {
		t.Fatalf("apply %s: %v", d.Revision, err)
	}
	awaitHealth(t, p, d, reconcile.HealthHealthy)
	if err := p.Promote(t.Context(), d); err != nil {
		t.Fatalf("promote %s: %v", d.Revision, err)
	}
}

func getDeployment(t *testing.T, c *kube.Cluster, ns, name string) *appsv1.Deployment {
	t.Helper()
	dep, err := c.Clientset().AppsV1().Deployments(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment %s: %v", name, err)
	}
	return dep
}

func getService(t *testing.T, c *kube.Cluster, ns, name string) *corev1.Service {
	t.Helper()
	svc, err := c.Clientset().CoreV1().Services(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get service %s: %v", name, err)
	}
	return svc
}

func image(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }

// readInventory returns the inventory of d's target.
func readInventory(t *testing.T, c *kube.Cluster, d *reconcile.Deployment) inventory {
	t.Helper()
	name := inventoryName(d.App, d.Env, d.Target.Name)
	cm, err := c.Clientset().CoreV1().ConfigMaps(d.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get inventory: %v", err)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cm)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := decodeInventory(&unstructured.Unstructured{Object: m})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// inventoryNames returns the names of the inventory's objects of kind.
func inventoryNames(refs []objectRef, kind string) []string {
	var out []string
	for _, r := range refs {
		if r.Kind == kind {
			out = append(out, r.Name)
		}
	}
	return out
}

var gatewayCRDs struct {
	once sync.Once
	err  error
}

// installGatewayAPI applies the standard HTTPRoute CRD of the
// sigs.k8s.io/gateway-api module, once per test binary.
func installGatewayAPI(t *testing.T, c *kube.Cluster) {
	t.Helper()
	gatewayCRDs.once.Do(func() { gatewayCRDs.err = applyHTTPRouteCRD(c) })
	if gatewayCRDs.err != nil {
		t.Fatalf("install the Gateway API CRDs: %v", gatewayCRDs.err)
	}
}

func applyHTTPRouteCRD(c *kube.Cluster) error {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		return err
	}
	file := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard", "gateway.networking.k8s.io_httproutes.yaml")
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &u.Object); err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	ctx := context.Background()
	_, err = dyn.Resource(crdGVR).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "test", Force: true})
	if err != nil {
		return err
	}
	cl := &cluster{dyn: dyn}
	return cl.awaitEstablished(ctx, u.GetName())
}

// routeWeights returns the HTTPRoute's backends and weights of its first
// rule, decoded with the Gateway API's Go types.
func routeWeights(t *testing.T, c *kube.Cluster, ns, name string) map[string]int32 {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	gvr := gatewayv1.SchemeGroupVersion.WithResource("httproutes")
	u, err := dyn.Resource(gvr).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get route: %v", err)
	}
	raw, _ := u.MarshalJSON()
	var route gatewayv1.HTTPRoute
	if err := json.Unmarshal(raw, &route); err != nil {
		t.Fatal(err)
	}
	out := map[string]int32{}
	for _, ref := range route.Spec.Rules[0].BackendRefs {
		w := int32(1)
		if ref.Weight != nil {
			w = *ref.Weight
		}
		out[string(ref.Name)] = w
	}
	return out
}
