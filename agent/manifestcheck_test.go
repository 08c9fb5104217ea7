package agent

import (
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/spec/kubecheck"
)

// With a manifest check (as jibe agent runs kubecheck.Check), a manifest
// the cluster would refuse fails the commit at load, naming file, line
// and field; nothing is planned or applied.
func TestManifestCheckFailsTheCommit(t *testing.T) {
	h := newHarnessWith(t, agentConfig, func(_ *harness, o *Options) { o.ManifestCheck = kubecheck.Check })
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\nbinaryDatta: {}\n"
	sha := h.push(map[string]string{"apps/shop/jibe.yaml": validSpec, "apps/shop/k8s/cm.yaml": bad})
	s, ok := h.statuses(sha)["jibe/shop/staging"]
	if !ok {
		t.Fatalf("no status for jibe/shop/staging: %+v", h.statuses(sha))
	}
	want := `invalid spec: apps/shop/k8s/cm.yaml:5:1: binaryDatta: unknown field "binaryDatta" in v1 ConfigMap; did you mean "binaryData"?`
	if s.State != "failure" || !strings.HasPrefix(s.Description, want) {
		t.Errorf("status = %s %q, want failure starting %q", s.State, s.Description, want)
	}
	if _, err := h.journal.Current(shopApp, "staging"); err == nil {
		t.Error("a refused manifest must not start a rollout")
	}
}
