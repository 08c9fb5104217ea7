package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/config"
)

// A source allowed every namespace ("*") of the agent's own cluster could
// otherwise run a pod as the agent's service account in the agent's
// namespace (and so act with all of the agent's rights), rewrite the HA
// journal's ConfigMaps and Leases, or run pods as a controller's service
// account in kube-system. A glob never matches those namespaces: only an
// entry naming one exactly allows it.
func TestNamespaceGlobsNeverMatchTheAgentsOrSystemNamespaces(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "jibe-system")
	dir := t.TempDir()
	file := filepath.Join(dir, "agent.yaml")
	writeFile(t, file, `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: team
    dir: {path: apps}
    allow: {clusters: [home, remote], namespaces: ["*"]}
  - name: ops
    dir: {path: ops}
    allow: {clusters: [home], namespaces: ["jibe-state", "kube-system"]}
kubernetes:
  clusters:
    - name: home
      inCluster: true
    - name: remote
      kubeconfig: {path: kubeconfig}
state:
  kubernetes: {namespace: jibe-state}
`)
	c, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	team, ops := c.Source("team"), c.Source("ops")
	tests := []struct {
		src         *config.Source
		cluster, ns string
		ok          bool
	}{
		{team, "home", "shop", true},
		{team, "home", "jibe-system", false},  // the agent's own namespace
		{team, "home", "jibe-state", false},   // the journal and Leases
		{team, "home", "kube-system", false},  // Kubernetes' own
		{team, "home", "kube-public", false},  // Kubernetes' own
		{team, "remote", "jibe-system", true}, // another cluster
		{team, "remote", "jibe-state", true},
		{team, "remote", "kube-node-lease", false},
		{ops, "home", "jibe-state", true}, // named exactly
		{ops, "home", "kube-system", true},
	}
	for _, tt := range tests {
		err := tt.src.CheckCluster(tt.cluster, tt.ns)
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckCluster(%q, %q) = %v, want ok=%v", tt.src.Name, tt.cluster, tt.ns, err, tt.ok)
		}
		if err := tt.src.InCluster(tt.cluster).AllowNamespace(tt.ns); (err == nil) != tt.ok {
			t.Errorf("%s: AllowNamespace(%q) in %s = %v, want ok=%v", tt.src.Name, tt.ns, tt.cluster, err, tt.ok)
		}
	}
	err = team.CheckCluster("home", "jibe-system")
	var te *config.TenancyError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "never matches it") {
		t.Errorf("the refusal must say why a glob does not match: %v", err)
	}
	c.Sources[0].Allow.ClusterScoped = []string{"Namespace"}
	if err := c.Sources[0].CheckClusterScoped("home", "", "Namespace", "kube-system"); err == nil {
		t.Error("a Namespace kube-system was allowed by a glob")
	}
}
