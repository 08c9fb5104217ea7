package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/config"
)

const bumpAgentConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: STATE
sources:
  - name: shop
    git: {url: https://git.example.com/acme/shop.git}
    allow: {accounts: [dev]}
    artifactUpdates: {group: source}
  - name: tools
    git: {url: https://git.example.com/acme/tools.git, repository: acme/tools-deploy}
    allow: {accounts: [dev]}
    artifactUpdates: {mode: commit}
  - name: quiet
    git: {url: https://git.example.com/acme/quiet.git}
    allow: {accounts: [dev]}
aws:
  accounts:
    - {name: dev, region: eu-west-1}
github:
  token: {env: JIBE_TEST_GITHUB_TOKEN}
`

// `jibe agent` gives the artifact watch a proposer for each Git source
// with artifactUpdates, in the mode the source sets and its GitHub
// repository, and none to the others.
func TestWireProposesArtifactUpdatesPerSource(t *testing.T) {
	t.Setenv("JIBE_TEST_GITHUB_TOKEN", "ghp_test")
	cfg, err := config.Parse(t.TempDir()+"/agent.yaml", []byte(strings.Replace(bumpAgentConfig, "STATE", t.TempDir(), 1)))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	w, err := wire(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	p, err := w.proposers(cfg, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || p["shop"] == nil || p["tools"] == nil {
		t.Fatalf("proposers %v, want shop and tools", p)
	}
	for _, want := range []string{
		`msg="artifact updates are proposed" source=shop mode=pullRequest repository=acme/shop branch=main`,
		`msg="artifact updates are proposed" source=tools mode=commit repository=acme/tools-deploy branch=main`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "source=quiet mode") {
		t.Errorf("a source without artifactUpdates has a proposer:\n%s", logs.String())
	}
	if err := p.Propose(t.Context(), "quiet", nil); err == nil || !strings.Contains(err.Error(), "restart the agent") {
		t.Errorf("proposing for a source without a proposer: %v", err)
	}
}
