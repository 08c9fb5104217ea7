package agent

import (
	"fmt"
	"strings"
	"testing"
)

// The agent loads specs within the limits of its configuration: a spec
// with more environments than limits.environments is refused with one
// failure status naming the limit, not one status per environment.
func TestConfiguredLimitsApply(t *testing.T) {
	h := newHarnessWith(t, agentConfig+"limits: {environments: 2}\n", nil)
	var envs strings.Builder
	for i := range 5 {
		fmt.Fprintf(&envs, "    - name: env-%d\n      kubernetes: {cluster: staging}\n", i)
	}
	spec := strings.Replace(validSpec, "    - name: staging\n      kubernetes: {cluster: staging}\n", envs.String(), 1)
	sha := h.push(map[string]string{"apps/shop/jibe.yaml": spec, "apps/shop/k8s/cm.yaml": configMap})
	statuses := h.statuses(sha)
	s, ok := statuses["jibe/shop/spec"]
	if len(statuses) != 1 || !ok {
		t.Fatalf("want one status jibe/shop/spec, got %+v", statuses)
	}
	if s.State != "failure" || !strings.Contains(s.Description, "the spec has 5 environments, above the limit of 2 (limits.environments)") {
		t.Errorf("status = %s %q", s.State, s.Description)
	}
}
