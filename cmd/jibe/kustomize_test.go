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
