package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// remoteKustomizeApp writes an application whose kustomization names files
// on url in a generator and a patch, and returns its folder.
func remoteKustomizeApp(t *testing.T, url string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "apps", "site")
	writeFile(t, filepath.Join(dir, "jibe.yaml"), `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata:
  name: site
spec:
  targets:
    - name: site
      kubernetes:
        manifests: k8s
  environments:
    - name: staging
      kubernetes: {cluster: staging, namespace: site}
`)
	writeFile(t, filepath.Join(dir, "k8s", "kustomization.yaml"), `resources: [deploy.yaml]
configMapGenerator:
  - name: creds
    files: ["creds=`+url+`/secret.txt"]
patches:
  - path: `+url+`/patch.yaml
`)
	writeFile(t, filepath.Join(dir, "k8s", "deploy.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site}\n")
	return dir
}

// countingServer is a loopback HTTP server that counts its requests and
// answers with a secret.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fmt.Fprint(w, "LEAKED-SECRET\n")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// `jibe validate` and `jibe plan` refuse a kustomization naming remote
// files, at the file, line and field, without fetching them.
func TestKustomizeRemoteFilesRefused(t *testing.T) {
	srv, requests := countingServer(t)
	dir := remoteKustomizeApp(t, srv.URL)
	cfg := filepath.Join(t.TempDir(), "agent.yaml")
	writeFile(t, cfg, `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: web
    dir: {path: apps}
    allow: {clusters: [staging], namespaces: [site]}
kubernetes:
  clusters:
    - {name: staging, inCluster: true}
`)
	for _, args := range [][]string{{"validate", dir}, {"plan", "--config", cfg, dir}} {
		code, out, errOut := jibe(t, args...)
		if code != exitProblems {
			t.Errorf("%s: exit %d, want %d: %s%s", args[0], code, exitProblems, errOut, out)
		}
		kfile := filepath.Join(dir, "k8s", "kustomization.yaml")
		for _, want := range []string{kfile + ":4:13: configMapGenerator[0].files[0]: ", kfile + ":6:11: patches[0].path: ", "Vendor the file"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", args[0], want, out)
			}
		}
		if strings.Contains(out+errOut, "LEAKED") {
			t.Errorf("%s: output shows fetched content:\n%s%s", args[0], out, errOut)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the loopback server received %d requests", n)
	}
}

// `jibe validate` places the problems of objects kustomize builds in the
// application's files they come from: the resource file of a base, or the
// patch that set the field, at line and column, never in the build output.
func TestValidateKustomizeCitesSourceFiles(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: site}
spec:
  targets: [{name: site, kubernetes: {manifests: overlays/dev}}]
  environments: [{name: dev, kubernetes: {cluster: dev}}]
`,
		"base/kustomization.yaml": "resources: [service.yaml, deployment.yaml]\n",
		"base/service.yaml": `apiVersion: v1
kind: Service
metadata: {name: site}
spec:
  ports: [{port: 80}]
`,
		"base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  replicaz: 2
  selector: {matchLabels: {app: site}}
  template:
    metadata: {labels: {app: site}}
    spec:
      containers:
        - name: site
          image: nginx:1.27
          ports:
            - containerPort: "eighty"
`,
		"overlays/dev/kustomization.yaml": `resources: [../../base]
namePrefix: dev-
patches:
  - path: patch.yaml
`,
		"overlays/dev/patch.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: site}
spec:
  template:
    spec:
      containers:
        - name: site
          env: [{name: PORT, value: 80}]
`,
	})
	code, out, errOut := jibe(t, "validate", dir)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitProblems, out, errOut)
	}
	for _, want := range []string{
		dir + `/base/deployment.yaml:6:3: spec.replicaz: unknown field "replicaz" in apps/v1 Deployment; did you mean "replicas"?`,
		dir + `/base/deployment.yaml:15:30: spec.template.spec.containers[0].ports[0].containerPort: expected an integer, got "eighty"`,
		dir + `/overlays/dev/patch.yaml:9:37: spec.template.spec.containers[0].env[0].value: expected a string, got the number 80; quote it: "80"`,
	} {
		if !strings.Contains(out, filepath.FromSlash(want)) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "kustomize build") {
		t.Errorf("a problem cites the build output:\n%s", out)
	}
}
