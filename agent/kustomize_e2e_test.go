package agent

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// leakedContent is what the loopback server answers.
const leakedContent = "LEAKED-BY-LOOPBACK"

// credsFiles is the application built with a kustomization whose
// ConfigMap creds holds the file named by source.
func (e *e2e) credsFiles(source string) map[string]string {
	return map[string]string{
		"apps/shop/jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  targets:
    - name: web
      kubernetes: {manifests: k8s}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: ` + e.staging + `}
`,
		"apps/shop/k8s/kustomization.yaml": `resources: [app.yaml]
generatorOptions: {disableNameSuffixHash: true}
configMapGenerator:
  - name: creds
    files: ["creds=` + source + `"]
`,
		"apps/shop/k8s/creds.txt": "local\n",
		"apps/shop/k8s/app.yaml":  webManifests("registry.example.com/shop/web:1.0.0", 600),
	}
}

// A pull request whose kustomization names a file on a server gets a plan
// preview that fetched nothing and shows nothing fetched (before the fix,
// the preview diffed the running ConfigMap against the server's answer and
// printed it): the file is refused at its line. Merged, the reconcile
// refuses it the same way, still without a request, and what runs keeps
// its data.
func TestE2EKustomizationFetchesNothing(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprintln(w, leakedContent)
	}))
	t.Cleanup(srv.Close)
	e := newGateE2E(t)
	v1 := e.push(e.credsFiles("creds.txt"))
	e.settle("staging at v1", e.final("staging", v1))

	files := e.credsFiles(srv.URL + "/secret.txt")
	n, _, head := e.openPull(files)
	comments := e.emu.Comments("acme/shop", n)
	if len(comments) != 1 {
		t.Fatalf("comments on the pull request: %+v", comments)
	}
	for _, want := range []string{"apps/shop/k8s/kustomization.yaml:5:13: configMapGenerator[0].files[0]", "Vendor the file"} {
		if !strings.Contains(comments[0].Body, want) {
			t.Errorf("the preview lacks %q:\n%s", want, comments[0].Body)
		}
	}
	if s := e.statuses(head)["jibe/shop/plan"]; s.State != "failure" || !strings.Contains(s.Description, "kustomization.yaml") {
		t.Errorf("plan status on the head = %s %q", s.State, s.Description)
	}

	merged := e.merge(n, files)
	if s := e.statuses(merged)["jibe/shop/staging"]; s.State != "failure" || !strings.Contains(s.Description, "kustomization.yaml") {
		t.Errorf("staging status on the merge = %s %q", s.State, s.Description)
	}
	for _, c := range e.emu.Comments("acme/shop", n) {
		if strings.Contains(c.Body, leakedContent) {
			t.Errorf("a comment shows fetched content:\n%s", c.Body)
		}
	}
	cm, err := e.cluster.Clientset().CoreV1().ConfigMaps(e.staging).Get(t.Context(), "creds", metav1.GetOptions{})
	if err != nil || cm.Data["creds"] != "local\n" {
		t.Errorf("the running ConfigMap: %v, %v", cm.Data, err)
	}
	if got := requests.Load(); got != 0 {
		t.Errorf("the loopback server received %d requests", got)
	}
}
