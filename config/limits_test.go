package config_test

import (
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/spec"
)

const limitsConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: local
    dir: {path: apps}
    allow: {clusters: [kind], namespaces: ["*"]}
kubernetes:
  clusters:
    - {name: kind, inCluster: true}
`

// The limits section changes the limits it names; the others keep their
// defaults, and a negative limit is refused at its line.
func TestLimits(t *testing.T) {
	c, err := config.Parse("agent.yaml", []byte(limitsConfig+"limits: {environments: 500, bytesPerFile: 1048576}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Limits.Spec()
	want := spec.Limits{Environments: 500, BytesPerFile: 1 << 20}.WithDefaults()
	if got != want || got.Targets != spec.DefaultTargets {
		t.Errorf("limits = %+v, want %+v", got, want)
	}
	if c, err := config.Parse("agent.yaml", []byte(limitsConfig)); err != nil || c.Limits.Spec() != (spec.Limits{}).WithDefaults() {
		t.Errorf("without a limits section: %+v, %v", c, err)
	}
	_, err = config.Parse("agent.yaml", []byte(limitsConfig+"limits:\n  targets: -1\n"))
	if err == nil || !strings.Contains(err.Error(), "agent.yaml:11:12: limits.targets: -1 is negative") {
		t.Errorf("negative limit: %v", err)
	}
}
