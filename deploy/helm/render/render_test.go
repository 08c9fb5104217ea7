package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the rendered manifests")

// chartDir is Jibe's chart.
const chartDir = "../jibe"

// cases are the renderings kept in files: the plain manifests for kubectl
// users (default values) and namespaced RBAC with secrets by reference and
// a persistent journal. internal/release/chart applies both to a cluster.
var cases = []struct {
	name, file, namespace, values string
}{
	{name: "default", file: "../../manifests/jibe.yaml", namespace: "jibe"},
	{name: "namespaced", file: "testdata/namespaced.yaml", namespace: "jibe-system", values: `
image: {tag: v1.2.3}
rbac: {namespaces: [team-a, team-b]}
secretEnv:
  - {name: GITHUB_TOKEN, secretName: jibe-github, key: token}
secretFiles: [jibe-ssh]
persistence: {enabled: true, size: 2Gi}
config:
  apiVersion: jibe.dev/v1alpha1
  kind: AgentConfig
  server: {listen: ":9090"}
  kubernetes: {clusters: [{name: local, inCluster: true}]}
  github: {token: {env: GITHUB_TOKEN}}
  sources:
    - name: apps
      git: {url: "git@github.com:acme/apps.git", auth: {sshKey: {file: /etc/jibe/secrets/jibe-ssh/key}}}
      allow: {clusters: [local], namespaces: [team-a, team-b]}
`},
}

// TestRenderInSync renders every case and compares it with its file
// (go test -update rewrites them).
func TestRenderInSync(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Render(chartDir, Release{Name: "jibe", Namespace: c.namespace}, []byte(c.values))
			if err != nil {
				t.Fatal(err)
			}
			got = append([]byte(header), got...)
			if *update {
				if err := os.WriteFile(c.file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is out of date with the chart: run go test -C deploy/helm/render -run TestRenderInSync -update", filepath.Clean(c.file))
			}
		})
	}
}

// header heads every rendered file.
const header = "# Generated from deploy/helm/jibe by deploy/helm/render (go test -update); do not edit.\n"

// TestRenderNamespacedRBAC: with rbac.namespaces, a Role and RoleBinding
// per namespace, and nothing cluster-wide.
func TestRenderNamespacedRBAC(t *testing.T) {
	out := render(t, "rbac: {namespaces: [a, b]}")
	if strings.Contains(out, "kind: ClusterRole") {
		t.Errorf("namespaced RBAC renders a cluster role:\n%s", out)
	}
	if n := strings.Count(out, "\nkind: Role\n"); n != 2 {
		t.Errorf("%d Roles, want one per namespace (2)", n)
	}
	for _, ns := range []string{"a", "b"} {
		if !strings.Contains(out, "  namespace: "+ns+"\n") {
			t.Errorf("no object in namespace %s", ns)
		}
	}
}

// TestRenderOptions: the ServiceMonitor option, an existing claim, a
// digest-pinned image.
func TestRenderOptions(t *testing.T) {
	out := render(t, `
serviceMonitor: {enabled: true}
persistence: {enabled: true, existingClaim: journal}
image: {digest: "sha256:`+strings.Repeat("a", 64)+`"}
`)
	for _, want := range []string{"kind: ServiceMonitor", "claimName: journal", "image: ghcr.io/jibe-dev/jibe@sha256:aaaa"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	if strings.Contains(out, "kind: PersistentVolumeClaim") {
		t.Error("a claim is made although existingClaim names one")
	}
}

// TestRenderRefusesBadValues: the values schema refuses what would render
// a broken release.
func TestRenderRefusesBadValues(t *testing.T) {
	for _, values := range []string{
		"secretEnv: [{name: TOKEN, secretName: s}]", // no key
		"rbac: {namespace: [a]}",                    // misspelt
		"image: {digest: latest}",
		"config: {apiVersion: jibe.dev/v1alpha1, kind: AgentConfig, sources: []}",
	} {
		if _, err := Render(chartDir, Release{Name: "jibe", Namespace: "jibe"}, []byte(values)); err == nil {
			t.Errorf("values %q: rendered, want a schema error", values)
		}
	}
}

func render(t *testing.T, values string) string {
	t.Helper()
	out, err := Render(chartDir, Release{Name: "jibe", Namespace: "jibe"}, []byte(values))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
