package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// agentConfigTemplate is the agent configuration of the demo. Secrets are
// files in secrets/, named relative to the configuration file as an
// operator would; %[n]s are filled in by writeAgentConfig.
const agentConfigTemplate = `# The agent configuration of jibe demo, generated at start. The agent runs
# with it exactly as ` + "`jibe agent --config`" + ` would.
apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: .
server:
  listen: %[1]s
  externalURL: http://%[1]s
  webhookSecret: {file: secrets/webhook-secret}
sources:
  - name: shop
    git:
      url: %[2]s
      repository: %[3]s
      pollInterval: 5s
      auth:
        token: {file: secrets/git-token}
    allow:
      accounts: [staging, production]
      # The staging health check requests the demo's own health endpoint on
      # loopback, which checks reach only when listed.
      checkHosts: ["127.0.0.1"]
    # An application removed from Git is deleted (quote's function, once
    # /api/quote has moved to quote-service).
    prune: true
    # Images newer than jibe.yaml's, per its update policies, become pull
    # requests (POST /hooks/artifact reads a registry at once).
    artifactUpdates: {interval: 5m}
aws:
  accounts:
%[4]sgithub:
  apiURL: %[5]s/
  token: {file: secrets/github-token}
notifications:
  slack:
    - name: deploys
      url: {file: secrets/slack-webhook-url}
      events: [waiting, succeeded, rolledBack]
log:
  level: info
  format: text
`

const accountTemplate = `    - name: %[1]s
      accountID: "%[2]s"
      region: %[3]s
      endpoint: %[4]s
      credentials:
        accessKeyID: {file: secrets/%[1]s-access-key-id}
        secretAccessKey: {file: secrets/%[1]s-secret-access-key}
`

// writeAgentConfig writes the agent's configuration and secrets into the
// state directory for an agent listening on addr, and returns the
// configuration's path.
func (e *Env) writeAgentConfig(addr string) (string, error) {
	secrets := map[string]string{
		"webhook-secret": hookSecret, "git-token": gitToken, "github-token": githubToken, "slack-webhook-url": e.Slack.URL,
	}
	var accts strings.Builder
	for _, a := range e.Accounts {
		fmt.Fprintf(&accts, accountTemplate, a.Name, a.ID, region, e.AWSURL)
		secrets[a.Name+"-access-key-id"], secrets[a.Name+"-secret-access-key"] = a.AccessKey, a.SecretKey
	}
	if err := os.MkdirAll(e.SecretsDir(), 0o700); err != nil {
		return "", err
	}
	for name, value := range secrets {
		if err := os.WriteFile(filepath.Join(e.SecretsDir(), name), []byte(value+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	path := filepath.Join(e.Dir, "agent.yaml")
	cfg := fmt.Sprintf(agentConfigTemplate, addr, e.Repo.URL(), repoName, accts.String(), e.GitHub.URL())
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}
