package kube

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// shared is the cluster started by Main for the test package.
var shared struct {
	cluster *Cluster
	skip    string // why cluster tests skip (-short), or ""
	ran     bool   // Main was called
}

// Main runs a test package's tests against one shared cluster. Call it from
// TestMain:
//
//	func TestMain(m *testing.M) { kube.Main(m, kube.Options{}) }
//
// With -short the cluster is not started and tests calling Shared skip, with
// a loud message. Otherwise a cluster that cannot start, missing binaries
// included, fails the package. Main does not return.
func Main(m *testing.M, opts Options) {
	os.Exit(runMain(m, opts))
}

func runMain(m *testing.M, opts Options) int {
	flag.Parse()
	shared.ran = true
	if testing.Short() {
		shared.skip = "SKIPPING: this test needs a Kubernetes control plane and -short is set; " +
			"run without -short (./scripts/test) to run it"
		fmt.Fprintln(os.Stderr, "!!!! kube: -short: tests that need a Kubernetes cluster are SKIPPED !!!!")
		return m.Run()
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		return 1
	}
	defer c.Stop()
	fmt.Fprintf(os.Stderr, "kube: cluster %s started in %s; KUBECONFIG=%s\n",
		KubernetesVersion, c.StartDuration().Round(1e6), c.Kubeconfig())
	shared.cluster = c
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "kube: tests failed; component logs (JIBE_K8S_KEEP=1 keeps %s):\n%s", c.Dir(), c.logTails(20))
	}
	return code
}

// Shared returns the cluster started by Main. It skips the test under -short
// and fails it if the package's TestMain does not call Main.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	switch {
	case shared.skip != "":
		t.Skip(shared.skip)
	case !shared.ran || shared.cluster == nil:
		t.Fatal("kube.Shared: the package's TestMain must call kube.Main")
	}
	return shared.cluster
}

// NewNamespace creates a namespace for t, named after the test with a random
// suffix, and deletes it when the test ends. Deletion is not awaited.
func (c *Cluster) NewNamespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: namespacePrefix(t.Name()),
		Labels:       map[string]string{"testenv.jibe.dev/test": "true"},
	}}
	ns, err := c.client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		err := c.client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

var notDNSLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// namespacePrefix turns a test name into a valid GenerateName prefix.
func namespacePrefix(testName string) string {
	p := notDNSLabel.ReplaceAllString(strings.ToLower(testName), "-")
	p = strings.Trim(p, "-")
	if len(p) > 40 {
		p = strings.TrimRight(p[:40], "-")
	}
	return p + "-"
}
