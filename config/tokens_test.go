package config_test

import (
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/config"
)

const tokensConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: state
server:
  tokens:
    - {name: ci, scope: write, secret: {env: JIBE_CI_TOKEN}}
    - {name: ci, scope: read, secret: {file: tokens/read}}
    - {name: dash, scope: admin, secret: {env: JIBE_DASH}}
sources:
  - name: local
    dir: {path: apps}
    allow: {accounts: [dev]}
aws:
  accounts:
    - {name: dev, region: eu-west-1}
`

// server.tokens are checked: names are unique, the scope is read or
// write, secrets are references (resolved against the file's folder and
// checked at start), and read is open only without tokens unless
// openRead says otherwise.
func TestServerTokens(t *testing.T) {
	_, err := config.Parse("/etc/jibe/agent.yaml", []byte(tokensConfig))
	if err == nil || !strings.Contains(err.Error(), `agent.yaml:8:27: server.tokens[2].scope: the value is not allowed; use one of "read", "write"`) {
		t.Errorf("scope admin: %v", err)
	}
	dup := strings.Replace(tokensConfig, "scope: admin", "scope: read", 1)
	if _, err := config.Parse("/etc/jibe/agent.yaml", []byte(dup)); err == nil || !strings.Contains(err.Error(), "server.tokens[1].name: another token has the same name") {
		t.Errorf("two tokens named ci: %v", err)
	}
	valid := strings.Replace(strings.Replace(tokensConfig, "{name: ci, scope: read", "{name: ro, scope: read", 1), "scope: admin", "scope: read", 1)
	c, err := config.Parse("/etc/jibe/agent.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Server.Tokens[1].Secret.File; got != "/etc/jibe/tokens/read" {
		t.Errorf("a relative token file resolves to %s", got)
	}
	if c.Server.ReadIsOpen() {
		t.Error("read is open with tokens configured and openRead unset")
	}
	err = c.CheckSecrets()
	if err == nil || !strings.Contains(err.Error(), "server.tokens[0].secret: environment variable JIBE_CI_TOKEN is not set") {
		t.Errorf("CheckSecrets = %v", err)
	}
	open := strings.Replace(valid, "server:\n", "server:\n  openRead: true\n", 1)
	if c, err := config.Parse("/etc/jibe/agent.yaml", []byte(open)); err != nil || !c.Server.ReadIsOpen() {
		t.Errorf("openRead: true: %v", err)
	}
	if c, err := config.Parse("/etc/jibe/agent.yaml", []byte(minimalConfig)); err == nil && !c.Server.ReadIsOpen() {
		t.Error("read is closed without any token")
	}
}
