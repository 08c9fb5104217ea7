package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// gadgetCRD is installed in the test cluster: its kind is served there,
// and not by any CRD of the application.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.validate.jibe.test}
spec:
  group: validate.jibe.test
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
`

// installCRD creates the CRD in c and waits until discovery serves its kind.
func installCRD(t *testing.T, c *kube.Cluster, manifest string, gvk k8sschema.GroupVersionKind) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(c.RESTConfig())
	crds := dyn.Resource(k8sschema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() { _ = crds.Delete(context.Background(), u.GetName(), metav1.DeleteOptions{}) })
	disc := discovery.NewDiscoveryClientForConfigOrDie(c.RESTConfig())
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		list, err := disc.ServerResourcesForGroupVersion(gvk.GroupVersion().String())
		if err != nil {
			return false, nil // not served yet
		}
		return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Kind == gvk.Kind }), nil
	})
	if err != nil {
		t.Fatalf("the cluster does not serve %s: %v", gvk, err)
	}
}

// `jibe validate --config --cluster` resolves kinds through the cluster's
// discovery: a kind the cluster serves passes (and a custom resource is
// checked against the cluster's CRD schema), one neither the application
// nor the cluster serves is a problem at its file, line and column, where
// without --cluster it is a warning.
func TestValidateAgainstACluster(t *testing.T) {
	c := kube.Shared(t)
	installCRD(t, c, gadgetCRD, k8sschema.GroupVersionKind{Group: "validate.jibe.test", Version: "v1", Kind: "Gadget"})
	cfg := filepath.Join(t.TempDir(), "agent.yaml")
	writeFile(t, cfg, fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources: [{name: apps, dir: {path: apps}, allow: {clusters: [test], namespaces: ["*"]}}]
kubernetes:
  clusters:
    - {name: test, kubeconfig: {path: %q}}
`, c.Kubeconfig()))
	dir := writeApp(t, map[string]string{
		"jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: gadgets}
spec:
  targets: [{name: site, kubernetes: {manifests: k8s}}]
  environments: [{name: dev, kubernetes: {cluster: test, namespace: dev}}]
`,
		"k8s/gadget.yaml": `apiVersion: validate.jibe.test/v1
kind: Gadget
metadata: {name: g}
spec: {size: 3}
`,
		"k8s/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`,
	})
	code, out, errOut := jibe(t, "validate", "--config", cfg, "--cluster", "test", dir)
	if code != exitOK || !strings.Contains(out, "ok "+dir) || strings.Contains(out, "warning") {
		t.Fatalf("a kind the cluster serves: exit %d, want %d without warnings\n%s%s", code, exitOK, out, errOut)
	}

	writeFile(t, filepath.Join(dir, "k8s", "gadget.yaml"), `apiVersion: validate.jibe.test/v1
kind: Gadget
metadata: {name: g}
spec: {size: three}
---
apiVersion: nope.jibe.test/v1
kind: Frobnicator
metadata: {name: f}
`)
	// A built-in kind of an API version the cluster does not enable (an
	// alpha API): known offline, refused by the cluster.
	writeFile(t, filepath.Join(dir, "k8s", "storage.yaml"), `apiVersion: internal.apiserver.k8s.io/v1alpha1
kind: StorageVersion
metadata: {name: s}
`)
	storage := filepath.Join(dir, "k8s", "storage.yaml")
	file := filepath.Join(dir, "k8s", "gadget.yaml")
	code, out, errOut = jibe(t, "validate", "--config", cfg, "--cluster", "test", dir)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitProblems, out, errOut)
	}
	for _, want := range []string{
		file + `:4:14: spec.size: must be of type integer: "string"`,
		file + ":7:7: kind: the cluster test does not serve nope.jibe.test/v1 Frobnicator; install its CRD or fix apiVersion/kind",
		storage + ":2:7: kind: the cluster test does not serve internal.apiserver.k8s.io/v1alpha1 StorageVersion; install its CRD or fix apiVersion/kind",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}

	// Offline, both kinds are warnings and the application is valid.
	code, out, errOut = jibe(t, "validate", dir)
	if code != exitOK || !strings.Contains(out, file+":7:7: warning: kind: nope.jibe.test/v1 Frobnicator is not a built-in kind") {
		t.Errorf("offline: exit %d, want %d and a warning\n%s%s", code, exitOK, out, errOut)
	}
}

// A cluster that cannot be reached, or that the configuration does not
// have, is a clear error naming it, and --cluster needs --config.
func TestValidateClusterUnreachable(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := unreachableKubeconfig(t)
	cfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, cfg, fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources: [{name: apps, dir: {path: apps}, allow: {clusters: [gone], namespaces: ["*"]}}]
kubernetes:
  clusters:
    - {name: gone, kubeconfig: {path: %q}}
`, kubeconfig))
	app := "../../examples/k8s-guestbook"
	code, out, errOut := jibe(t, "validate", "--config", cfg, "--cluster", "gone", app)
	if code != exitUsage || !strings.Contains(errOut, "cannot reach the cluster gone: ") || !strings.Contains(errOut, "validate without --cluster") {
		t.Errorf("unreachable: exit %d, want %d and the cluster named\n%s%s", code, exitUsage, out, errOut)
	}
	if strings.Contains(out+errOut, "secret-token") {
		t.Errorf("the output shows the token:\n%s%s", out, errOut)
	}
	code, _, errOut = jibe(t, "validate", "--config", cfg, "--cluster", "nope", app)
	if code != exitUsage || !strings.Contains(errOut, `the agent configuration has no cluster "nope" under kubernetes.clusters (it has gone)`) {
		t.Errorf("unknown cluster: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = jibe(t, "validate", "--cluster", "gone", app)
	if code != exitUsage || !strings.Contains(errOut, "--cluster needs --config") {
		t.Errorf("without --config: exit %d, stderr %q", code, errOut)
	}
}

// Without --cluster, `jibe validate --config` checks each environment's
// manifests against the cluster that environment names, each discovered
// once; --cluster still forces one for every environment, and a cluster
// an environment names that cannot be reached is an error naming it.
func TestValidateEachEnvironmentAgainstItsCluster(t *testing.T) {
	c := kube.Shared(t)
	installCRD(t, c, strings.NewReplacer("gadget", "widget", "Gadget", "Widget").Replace(gadgetCRD), k8sschema.GroupVersionKind{Group: "validate.jibe.test", Version: "v1", Kind: "Widget"})
	dir := writeApp(t, map[string]string{
		"jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: widgets}
spec:
  targets: [{name: site, kubernetes: {manifests: k8s}}]
  environments:
    - {name: dev, kubernetes: {cluster: alpha, namespace: dev}}
    - {name: prod, kubernetes: {cluster: beta, namespace: prod}}
`,
		"k8s/widget.yaml": `apiVersion: validate.jibe.test/v1
kind: Widget
metadata: {name: w}
spec: {size: 3}
---
apiVersion: nope.jibe.test/v1
kind: Frobnicator
metadata: {name: f}
`,
	})
	file := filepath.Join(dir, "k8s", "widget.yaml")
	config := func(beta string) string {
		cfg := filepath.Join(t.TempDir(), "agent.yaml")
		writeFile(t, cfg, fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources: [{name: apps, dir: {path: apps}, allow: {clusters: [alpha, beta], namespaces: ["*"]}}]
kubernetes:
  clusters:
    - {name: alpha, kubeconfig: {path: %q}}
    - {name: beta, kubeconfig: {path: %q}}
`, c.Kubeconfig(), beta))
		return cfg
	}
	cfg := config(c.Kubeconfig())
	code, out, errOut := jibe(t, "validate", "--config", cfg, dir)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitProblems, out, errOut)
	}
	for _, want := range []string{
		file + ":7:7: kind: the cluster alpha does not serve nope.jibe.test/v1 Frobnicator",
		file + ":7:7: kind: the cluster beta does not serve nope.jibe.test/v1 Frobnicator",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Widget") {
		t.Errorf("the clusters serve Widget, yet:\n%s", out)
	}

	// --cluster forces one cluster for every environment.
	code, out, errOut = jibe(t, "validate", "--config", cfg, "--cluster", "alpha", dir)
	if code != exitProblems || !strings.Contains(out, "the cluster alpha does not serve") || strings.Contains(out, "the cluster beta") {
		t.Errorf("--cluster alpha: exit %d, want %d and only alpha named\n%s%s", code, exitProblems, out, errOut)
	}

	// An environment's cluster that cannot be reached is an error naming it.
	gone := unreachableKubeconfig(t)
	code, out, errOut = jibe(t, "validate", "--config", config(gone), dir)
	if code != exitUsage || !strings.Contains(errOut, "cannot reach the cluster beta (environment prod): ") || strings.Contains(out+errOut, "secret-token") {
		t.Errorf("unreachable beta: exit %d, want %d and beta named\n%s%s", code, exitUsage, out, errOut)
	}
	// --offline contacts no cluster: a CI job without cluster credentials
	// still gets the configuration's checks, and Kubernetes' own API.
	code, out, errOut = jibe(t, "validate", "--config", config(gone), "--offline", dir)
	// Offline, kinds no built-in API or CRD of the application defines are
	// warnings: the cluster must serve them.
	if code != exitOK || strings.Contains(errOut, "cannot reach") || strings.Contains(out, "the cluster beta") || !strings.Contains(out, "warning: kind: validate.jibe.test/v1 Widget") {
		t.Errorf("--offline: exit %d, want %d with no cluster contacted\n%s%s", code, exitOK, out, errOut)
	}
	if code, _, errOut = jibe(t, "validate", "--config", config(gone), "--offline", "--cluster", "alpha", dir); code != exitUsage || !strings.Contains(errOut, "--offline and --cluster") {
		t.Errorf("--offline --cluster: exit %d, stderr %q", code, errOut)
	}
}

// unreachableKubeconfig writes a kubeconfig of a cluster "gone" that
// nothing serves, whose token is "secret-token" (never to be shown).
func unreachableKubeconfig(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, path, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "http://%s"}}]
contexts: [{name: gone, context: {cluster: gone, user: u}}]
users: [{name: u, user: {token: secret-token}}]
current-context: gone
`, freeAddr(t)))
	return path
}
