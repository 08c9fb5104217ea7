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
	{name: "ha", file: "testdata/ha.yaml", namespace: "jibe-ha", values: `
image: {tag: v1.2.3}
rbac: {namespaces: [team-c]}
ha: {enabled: true, replicas: 3, sharding: true, leaseDuration: 20s}
config:
  apiVersion: jibe.dev/v1alpha1
  kind: AgentConfig
  kubernetes: {clusters: [{name: local, inCluster: true}]}
  sources:
    - name: apps
      git: {url: "https://github.com/acme/apps.git"}
      allow: {clusters: [local], namespaces: [team-c]}
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
		"ha: {enabled: true}\npersistence: {enabled: true}",
		"ha: {leaseDuration: 1500ms}", // a Lease records whole seconds
		"ha: {replicas: 0}",
		"rbac: {namespace: [a]}", // misspelt
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

// TestRenderHA: with ha, the agent configuration's state.kubernetes in the
// release's namespace, several replicas rolling one at a time, the pod's
// name and address from the downward API, the state on an emptyDir, and a
// Role for Leases and ConfigMaps in the release's namespace.
func TestRenderHA(t *testing.T) {
	out, err := Render(chartDir, Release{Name: "jibe", Namespace: "ops"}, []byte(`
ha: {enabled: true, replicas: 3, sharding: true, retryPeriod: 1s}
persistence: {enabled: false, size: 5Gi}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"    state:\n      kubernetes:\n        leaseDuration: 15s\n        name: jibe\n        namespace: ops\n        renewDeadline: 10s\n        retryPeriod: 1s\n        sharding: true\n",
		"  replicas: 3\n", "maxUnavailable: 0",
		"- name: POD_NAME\n              valueFrom:\n                fieldRef:\n                  fieldPath: metadata.name",
		"- name: POD_IP\n              valueFrom:\n                fieldRef:\n                  fieldPath: status.podIP",
		"name: state\n          emptyDir: {}",
		"kind: Role\nmetadata:\n  name: jibe-ha\n  namespace: ops\n",
		"resources: [leases]\n    verbs: [get, list, watch, create, update, delete]",
		"kind: PodDisruptionBudget", "maxUnavailable: 1",
		"podAntiAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:", "topologyKey: kubernetes.io/hostname",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendering lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "PersistentVolumeClaim") {
		t.Error("ha renders a PersistentVolumeClaim")
	}
	if def := render(t, ""); strings.Contains(def, "POD_NAME") || strings.Contains(def, "state:") || strings.Contains(def, "jibe-ha") || strings.Contains(def, "PodDisruptionBudget") || strings.Contains(def, "podAntiAffinity") {
		t.Error("without ha, the rendering holds HA settings")
	}
}
