package config_test

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadExample(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Load("../examples/agent.yaml")
	if err != nil {
		t.Fatalf("the example configuration must be valid:\n%v", err)
	}
	return c
}

func TestExampleConfig(t *testing.T) {
	c := loadExample(t)
	if c.Sources[0].Git.PollInterval.Duration.String() != "1m0s" || c.Sources[1].Git.Branch != "main" {
		t.Errorf("git defaults not applied: %+v", c.Sources[1].Git)
	}
	if c.GitHub.APIURL != config.DefaultGitHubAPIURL {
		t.Errorf("apiURL = %q", c.GitHub.APIURL)
	}
	if got := c.Notifications.Slack[0].Events; len(got) != 4 {
		t.Errorf("events = %v", got)
	}
	if c.Account("production").RoleARN == "" || c.Cluster("production").EKS == nil || c.Source("payments") == nil {
		t.Error("lookups by name failed")
	}
	if c.Account("nope") != nil || c.Cluster("nope") != nil || c.Source("nope") != nil {
		t.Error("lookups of unknown names must return nil")
	}
}

// Relative paths are anchored at the configuration file's folder, so the
// agent's working directory does not matter.
func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "agent.yaml")
	writeFile(t, file, `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: state
sources:
  - name: local
    dir: {path: apps}
    allow: {clusters: [kind], namespaces: ["*"]}
kubernetes:
  clusters:
    - name: kind
      kubeconfig: {path: kube/config}
github:
  token: {file: secrets/token}
`)
	c, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		c.StateDir:                               filepath.Join(dir, "state"),
		c.Sources[0].Dir.Path:                    filepath.Join(dir, "apps"),
		c.Kubernetes.Clusters[0].Kubeconfig.Path: filepath.Join(dir, "kube/config"),
		c.GitHub.Token.File:                      filepath.Join(dir, "secrets/token"),
	} {
		if got != want {
			t.Errorf("path = %q, want %q", got, want)
		}
	}
}

type patch struct{ old, new string }

// ruleCases has one case per validation rule of the agent configuration;
// their messages are in testdata/rules.golden.
var ruleCases = []struct {
	name    string
	patches []patch
}{
	{"unknown field", []patch{{"stateDir:", "stateDirectory: x\nstateDir:"}}},
	{"wrong kind", []patch{{"kind: AgentConfig", "kind: Application"}}},
	{"no sources", []patch{{"sources:\n  - name: payments", "sourcez:\n  - name: payments"}}},
	{"empty sources", []patch{{"sources:\n  - name: payments", "sources: []\nunused:\n  - name: payments"}}},
	{"secret written in place", []patch{{"token: {env: GITHUB_TOKEN}", "token: ghp_16C7e42F292c6912E7710c838347Ae178B4a"}}},
	{"secret reference with both env and file", []patch{{"{env: JIBE_WEBHOOK_SECRET}", "{env: JIBE_WEBHOOK_SECRET, file: /s}"}}},
	{"secret reference with bad variable name", []patch{{"{env: JIBE_WEBHOOK_SECRET}", "{env: JIBE-WEBHOOK}"}}},
	{"bad listen address", []patch{{`listen: ":8080"`, `listen: "8080"`}}},
	{"bad server limits", []patch{{`listen: ":8080"`, `listen: ":8080"` + "\n  readTimeout: 0s\n  maxConcurrentWebhooks: -1"}}},
	{"bad external URL", []patch{{"externalURL: https://jibe.example.com", "externalURL: jibe.example.com"}}},
	{"duplicate source", []patch{{"name: web-platform", "name: payments"}}},
	{"invalid source name", []patch{{"name: web-platform", "name: Web Platform"}}},
	{"source with git and dir", []patch{{"  - name: web-platform\n", "  - name: web-platform\n    dir: {path: /x}\n"}}},
	{"bad git URL", []patch{{"https://github.com/acme/payments-deploy.git", "github.com/acme/payments-deploy"}}},
	{"bad branch", []patch{{"branch: main", "branch: refs/heads/main"}}},
	{"poll interval too short", []patch{{"pollInterval: 1m", "pollInterval: 1s"}}},
	{"bad poll interval", []patch{{"pollInterval: 1m", "pollInterval: 1 minute"}}},
	{"two auth methods", []patch{{"        githubApp:\n", "        token: {env: T}\n        githubApp:\n"}}},
	{"ssh key with https URL", []patch{{"git@github.com:acme/web-platform.git", "https://github.com/acme/web-platform.git"}}},
	{"ssh URL without key", []patch{{"        sshKey: {file: /etc/jibe/deploy-key}\n        knownHosts: {file: /etc/jibe/known_hosts}\n", "        token: {env: T}\n"}}},
	{"ssh key without known hosts", []patch{{"        knownHosts: {file: /etc/jibe/known_hosts}\n", ""}}},
	{"bad application glob", []patch{{`applications: ["apps/*"]`, `applications: ["apps/[", "../other"]`}}},
	{"tenancy references", []patch{{"accounts: [staging, production]", "accounts: [staging, prod]"}, {"clusters: [staging, production]", "clusters: [staging, dev]"}}},
	{"clusters without namespaces", []patch{{`      namespaces: ["guestbook", "guestbook-*"]` + "\n", ""}}},
	{"source allowed nowhere", []patch{{"      accounts: [staging, production]\n", "      accounts: []\n"}}},
	{"bad namespace glob", []patch{{`"guestbook-*"`, `"guestbook/*"`}}},
	{"bad cluster-scoped kinds", []patch{{"clusterScoped: [Namespace]", `clusterScoped: [v1/Namespace, "rbac.authorization.k8s.io/v1/ClusterRole", "Gateway_Class", "Example.COM/Widget", "/Namespace"]`}}},
	{"cluster-scoped kinds without clusters", []patch{{"      accounts: [staging, production]\n", "      accounts: [staging, production]\n      clusterScoped: [Namespace]\n"}}},
	{"account fields", []patch{{`accountID: "111111111111"`, `accountID: 11111`}, {"region: eu-west-1\n      roleARN: arn:aws:iam::111111111111:role/jibe-deployer", "region: Ireland\n      roleARN: jibe-deployer"}}},
	{"role in another account", []patch{{"roleARN: arn:aws:iam::222222222222:role/jibe-deployer", "roleARN: arn:aws:iam::333333333333:role/jibe-deployer"}}},
	{"duplicate account", []patch{{"- name: production\n      accountID", "- name: staging\n      accountID"}}},
	{"cluster with two kinds", []patch{{"        context: staging\n", "        context: staging\n      inCluster: true\n"}}},
	{"EKS account not defined", []patch{{"account: production\n", "account: prod\n"}}},
	{"github token and app", []patch{{"  token: {env: GITHUB_TOKEN}\n", "  token: {env: GITHUB_TOKEN}\n  app: {appID: 1, installationID: 2, privateKey: {file: k}}\n"}}},
	{"status context without env", []patch{{"statusContext: jibe/{app}/{env}", "statusContext: jibe/{app}"}}},
	{"bad notification event", []patch{{"events: [started, waiting, failed, rolledBack]", "events: [started, finished]"}}},
	{"bad prometheus URL", []patch{{"url: http://prometheus.monitoring:9090", "url: prometheus:9090"}}},
	{"bad reconcile settings", []patch{{"maxConcurrentRollouts: 4", "maxConcurrentRollouts: -1"}, {"driftInterval: 5m", "driftInterval: 1s"}}},
	{"bad artifact updates", []patch{{"    allow:\n      accounts: [staging, production]\n", "    allow:\n      accounts: [staging, production]\n    artifactUpdates: {interval: 10s, mode: push, group: team}\n"}}},
	{"artifact updates interval too short", []patch{{"    allow:\n      accounts: [staging, production]\n", "    allow:\n      accounts: [staging, production]\n    artifactUpdates: {interval: 10s}\n"}}},
	{"artifact updates on a dir source", []patch{{"    git:\n      url: git@github.com:acme/web-platform.git\n      auth:\n        sshKey: {file: /etc/jibe/deploy-key}\n        knownHosts: {file: /etc/jibe/known_hosts}\n", "    dir: {path: /srv/apps}\n    artifactUpdates: {mode: commit}\n"}}},
	{"artifact pull requests without github", []patch{{"    allow:\n      accounts: [staging, production]\n", "    allow:\n      accounts: [staging, production]\n    artifactUpdates: {interval: 5m}\n"}, {"github:\n  token: {env: GITHUB_TOKEN}\n  statusContext: jibe/{app}/{env}\n", ""}}},
	{"bad state.kubernetes names", []patch{{"stateDir: /var/lib/jibe\n", "stateDir: /var/lib/jibe\nstate:\n  kubernetes: {cluster: dev, namespace: Jibe_System, name: -jibe, identity: Pod_1, advertiseURL: pod-1:8080}\n"}}},
	{"bad state.kubernetes durations", []patch{{"stateDir: /var/lib/jibe\n", "stateDir: /var/lib/jibe\nstate:\n  kubernetes: {namespace: jibe, leaseDuration: 10s, renewDeadline: 10s, retryPeriod: 0s}\n"}}},
	{"state.kubernetes retry period too long", []patch{{"stateDir: /var/lib/jibe\n", "stateDir: /var/lib/jibe\nstate:\n  kubernetes: {namespace: jibe, retryPeriod: 10s}\n"}}},
	{"bad log level", []patch{{"level: info", "level: verbose"}}},
}

func TestValidationRules(t *testing.T) {
	base, err := os.ReadFile("../examples/agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var golden strings.Builder
	for _, tc := range ruleCases {
		src := string(base)
		for _, p := range tc.patches {
			if !strings.Contains(src, p.old) {
				t.Fatalf("%s: patch target %q not found", tc.name, p.old)
			}
			src = strings.Replace(src, p.old, p.new, 1)
		}
		_, err := config.Parse("agent.yaml", []byte(src))
		if err == nil {
			t.Errorf("%s: want errors, got none", tc.name)
		}
		fmt.Fprintf(&golden, "== %s\n%v\n", tc.name, err)
	}
	got := golden.String()
	if strings.Contains(got, "ghp_16C7e42F292c6912E7710c838347Ae178B4a") {
		t.Error("an error message contains a secret written in the configuration")
	}
	checkGolden(t, "testdata/rules.golden", got)
}

func TestSecretRefResolve(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), "s3cr3t-value\n")
	writeFile(t, filepath.Join(dir, "empty"), "\n")
	t.Setenv("JIBE_TEST_SECRET", "env-s3cr3t")

	got, err := config.SecretRef{File: filepath.Join(dir, "token")}.Resolve()
	if err != nil || got.Reveal() != "s3cr3t-value" {
		t.Errorf("file secret = %q, %v", got.Reveal(), err)
	}
	got, err = config.SecretRef{Env: "JIBE_TEST_SECRET"}.Resolve()
	if err != nil || got.Reveal() != "env-s3cr3t" {
		t.Errorf("env secret = %q, %v", got.Reveal(), err)
	}
	for _, ref := range []config.SecretRef{
		{Env: "JIBE_TEST_UNSET_SECRET"},
		{File: filepath.Join(dir, "missing")},
		{File: filepath.Join(dir, "empty")},
	} {
		if _, err := ref.Resolve(); err == nil {
			t.Errorf("%v: want an error", ref)
		} else if !strings.Contains(err.Error(), ref.Env+ref.File) {
			t.Errorf("error %q does not name %v", err, ref)
		}
	}
}

// A Secret never prints its value: not with fmt, not in slog, not in JSON.
func TestSecretIsRedacted(t *testing.T) {
	t.Setenv("JIBE_TEST_SECRET", "hunter2")
	s, err := config.SecretRef{Env: "JIBE_TEST_SECRET"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("token", "value", s)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("token", "value", s)
	out := fmt.Sprint(s) + fmt.Sprintf("%v %+v %#v %s", s, s, s, s) + logged.String()
	if strings.Contains(out, "hunter2") {
		t.Fatalf("secret leaked: %s", out)
	}
}

func TestCheckSecrets(t *testing.T) {
	c := loadExample(t)
	err := c.CheckSecrets()
	if err == nil {
		t.Fatal("the example's secrets are not present here; want errors")
	}
	for _, want := range []string{
		"server.webhookSecret: environment variable JIBE_WEBHOOK_SECRET is not set",
		"sources[0].git.auth.githubApp.privateKey: cannot read secret file /etc/jibe/github-app.pem",
		"github.token: environment variable GITHUB_TOKEN is not set",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestTenancy(t *testing.T) {
	c := loadExample(t)
	payments, web := c.Source("payments"), c.Source("web-platform")
	var te *config.TenancyError
	if err := payments.CheckAccount("production"); err != nil {
		t.Errorf("payments may deploy to production: %v", err)
	}
	if err := web.CheckAccount("production"); !errors.As(err, &te) || te.What != "AWS account" {
		t.Errorf("web-platform owns no AWS account, got %v", err)
	}
	tests := []struct {
		cluster, ns string
		ok          bool
	}{
		{"staging", "guestbook", true},
		{"production", "guestbook-canary", true},
		{"production", "payments", false},
		{"other", "guestbook", false},
		{"staging", "", false},
	}
	for _, tt := range tests {
		err := web.CheckCluster(tt.cluster, tt.ns)
		if (err == nil) != tt.ok {
			t.Errorf("CheckCluster(%q, %q) = %v, want ok=%v", tt.cluster, tt.ns, err, tt.ok)
		}
	}
	if err := payments.CheckCluster("staging", "guestbook"); err == nil ||
		err.Error() != `source payments may not deploy to cluster "staging"; an operator can allow it under sources[].allow in the agent configuration` {
		t.Errorf("err = %v", err)
	}
}

// Cluster-scoped objects need their kind in allow.clusterScoped; a
// namespace glob of "*" allows none of them. A Namespace must also match
// allow.namespaces.
func TestClusterScopedTenancy(t *testing.T) {
	src := &config.Source{Name: "team-a", Allow: config.Tenancy{Clusters: []string{"prod"}, Namespaces: []string{"*"}}}
	tests := []struct {
		allow                      []string
		cluster, group, kind, name string
		ok                         bool
	}{
		{nil, "prod", "rbac.authorization.k8s.io", "ClusterRole", "reader", false},
		{nil, "prod", "", "Namespace", "team-a", false},
		{[]string{"Namespace"}, "prod", "", "Namespace", "team-a", true},
		{[]string{"Namespace"}, "prod", "example.com", "Namespace", "x", false},
		{[]string{"rbac.authorization.k8s.io/ClusterRole"}, "prod", "rbac.authorization.k8s.io", "ClusterRole", "reader", true},
		{[]string{"rbac.authorization.k8s.io/ClusterRole"}, "prod", "rbac.authorization.k8s.io", "ClusterRoleBinding", "reader", false},
		{[]string{"rbac.authorization.k8s.io/ClusterRole"}, "prod", "", "ClusterRole", "reader", false},
		{[]string{"gateway.networking.k8s.io/*"}, "prod", "gateway.networking.k8s.io", "GatewayClass", "shared", true},
		{[]string{"gateway.networking.k8s.io/*"}, "prod", "", "Namespace", "x", false},
		{[]string{"*"}, "prod", "node.k8s.io", "RuntimeClass", "gvisor", true},
		{[]string{"*"}, "prod", "", "Namespace", "team-b", true},
		{[]string{"*"}, "prod", "", "Namespace", "kube-system", false}, // no glob matches it
		{[]string{"*"}, "dev", "node.k8s.io", "RuntimeClass", "gvisor", false},
	}
	for _, tt := range tests {
		src.Allow.ClusterScoped = tt.allow
		err := src.InCluster(tt.cluster).AllowClusterScoped(tt.group, tt.kind, tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("allow %v: AllowClusterScoped(%q, %q, %q) in %s = %v, want ok=%v", tt.allow, tt.group, tt.kind, tt.name, tt.cluster, err, tt.ok)
		}
	}
	src.Allow.Namespaces = []string{"team-a-*"}
	src.Allow.ClusterScoped = []string{"Namespace"}
	if err := src.InCluster("prod").AllowClusterScoped("", "Namespace", "kube-system"); err == nil {
		t.Error("a Namespace outside allow.namespaces was allowed")
	}
	if err := src.InCluster("prod").AllowClusterScoped("", "Namespace", "team-a-dev"); err != nil {
		t.Errorf("Namespace team-a-dev: %v", err)
	}
	for _, ns := range []string{"", "team-b"} {
		if err := src.InCluster("prod").AllowNamespace(ns); err == nil {
			t.Errorf("AllowNamespace(%q) = nil", ns)
		}
	}
	src.Allow.Namespaces = []string{"*"}
	if err := src.CheckCluster("prod", ""); err == nil {
		t.Error(`CheckCluster with namespace "" passed the glob "*": cluster-scoped objects need allow.clusterScoped`)
	}
	err := src.InCluster("prod").AllowClusterScoped("rbac.authorization.k8s.io", "ClusterRole", "reader")
	want := `cluster-scoped kind "rbac.authorization.k8s.io/ClusterRole" is not allowed for source team-a; an operator can add it to allow.clusterScoped of source team-a in the agent configuration`
	var te *config.TenancyError
	if !errors.As(err, &te) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./config -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test ./config -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// leakedToken is a credential written where it does not belong; no error
// may contain it.
const leakedToken = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"

// Secret references whose name is a credential pasted by mistake are
// refused without the credential being shown, naming the field and its
// position.
func TestSecretRefNamesThatLookLikeCredentials(t *testing.T) {
	base := strings.Replace(minimalConfig, "WEBHOOK", "{env: JIBE_WEBHOOK_SECRET}", 1)
	tests := []struct {
		name, ref, field string
	}{
		{"GitHub token as variable", "{env: " + leakedToken + "}", "agent.yaml:4:48: server.webhookSecret.env: the value looks like a credential, not a variable name: put the token in an environment variable or file and name that here"},
		{"GitHub token as file", "{file: " + leakedToken + "}", "agent.yaml:4:49: server.webhookSecret.file: the value looks like a credential, not a file path: put the token in an environment variable or file and name that here"},
		{"token in a folder", "{file: secrets/" + leakedToken + "}", "server.webhookSecret.file: the value looks like a credential, not a file path"},
		{"AWS key as variable", "{env: AKIAIOSFODNN7EXAMPLE}", "server.webhookSecret.env: the value looks like a credential"},
		{"hex secret as variable", "{env: a3f9a1b2c4d5e6f708192a3b4c5d6e7f8}", "server.webhookSecret.env: the value looks like a credential"},
		{"Slack URL as file", "{file: 'https://hooks.slack.com/services/T0/B0/" + leakedToken + "'}", "server.webhookSecret.file: the value looks like a credential"},
		{"PEM as variable", "{env: '-----BEGIN PRIVATE KEY----- " + leakedToken + "'}", "server.webhookSecret.env: the value looks like a credential"},
		{"not a variable name", "{env: 'my token " + leakedToken + "'}", "server.webhookSecret.env: the value looks like a credential"},
		{"token as a key", "{" + leakedToken + "}", "server.webhookSecret: unknown field"},
	}
	for _, tt := range tests {
		src := strings.Replace(base, "{env: JIBE_WEBHOOK_SECRET}", tt.ref, 1)
		_, err := config.Parse("agent.yaml", []byte(src))
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, leakedToken) || strings.Contains(msg, "AKIAIOSFODNN7EXAMPLE") ||
			strings.Contains(msg, "a3f9a1b2c4d5e6f708192a3b4c5d6e7f8") || !strings.Contains(msg, tt.field) {
			t.Errorf("%s: error %q\nwant it to contain %q and no credential", tt.name, msg, tt.field)
		}
	}
}

const minimalConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: state
server: {listen: ":8080", webhookSecret: WEBHOOK}
sources:
  - name: local
    dir: {path: apps}
    allow: {accounts: [dev]}
aws:
  accounts:
    - {name: dev, region: eu-west-1}
`

// No configuration error quotes a value written in the file: a secret
// pasted anywhere, even as the whole file, is never echoed.
func TestConfigErrorsNeverEchoValues(t *testing.T) {
	base := strings.Replace(minimalConfig, "WEBHOOK", "{env: JIBE_WEBHOOK_SECRET}", 1)
	tests := []struct{ name, src string }{
		{"bare value", leakedToken + "\n"},
		{"bare quoted value", `"` + leakedToken + `"` + "\n"},
		{"list of values", "- " + leakedToken + "\n"},
		{"top-level key", leakedToken + ": x\n"},
		{"enum", strings.Replace(base, "kind: AgentConfig", "kind: "+leakedToken, 1)},
		{"wrong type for a list", strings.Replace(base, "accounts: [dev]", "accounts: "+leakedToken, 1)},
		{"wrong type for a mapping", strings.Replace(base, "dir: {path: apps}", "dir: "+leakedToken, 1)},
		{"integer", base + "reconcile: {maxConcurrentRollouts: " + leakedToken + "}\n"},
		{"boolean", base + "kubernetes: {clusters: [{name: k, inCluster: " + leakedToken + "}]}\n"},
		{"duration", base + "reconcile: {driftInterval: " + leakedToken + "}\n"},
		{"log level", base + "log: {level: " + leakedToken + "}\n"},
		{"listen address", strings.Replace(base, `":8080"`, leakedToken, 1)},
		{"external URL", strings.Replace(base, `listen: ":8080"`, "externalURL: "+leakedToken, 1)},
		{"name", strings.Replace(base, "name: local", "name: "+leakedToken, 1)},
		{"unknown account", strings.Replace(base, "accounts: [dev]", "accounts: ["+leakedToken+"]", 1)},
		{"region", strings.Replace(base, "region: eu-west-1", "region: "+leakedToken, 1)},
		{"account ID", strings.Replace(base, "region: eu-west-1", "region: eu-west-1, accountID: "+leakedToken, 1)},
		{"role ARN", strings.Replace(base, "region: eu-west-1", "region: eu-west-1, roleARN: "+leakedToken, 1)},
		{"role ARN in another account", strings.Replace(base, "region: eu-west-1", "region: eu-west-1, accountID: '222222222222', roleARN: 'arn:aws:iam::111111111111:role/"+leakedToken+"'", 1)},
		{"Git URL", strings.Replace(base, "dir: {path: apps}", "git: {url: "+leakedToken+"}", 1)},
		{"Git URL with credentials", strings.Replace(base, "dir: {path: apps}", "git: {url: 'ftp://x:"+leakedToken+"@host/r'}", 1)},
		{"branch", strings.Replace(base, "dir: {path: apps}", "git: {url: 'https://h/r.git', branch: '"+leakedToken+"..x'}", 1)},
		{"repository", strings.Replace(base, "dir: {path: apps}", "git: {url: 'https://h/r.git', repository: "+leakedToken+"}", 1)},
		{"application glob", strings.Replace(base, "dir: {path: apps}", "dir: {path: apps}\n    applications: ['../"+leakedToken+"']", 1)},
		{"namespace glob", strings.Replace(base, "allow: {accounts: [dev]}", "allow: {accounts: [dev], clusters: [k], namespaces: ['a/"+leakedToken+"']}", 1) + "kubernetes: {clusters: [{name: k, inCluster: true}]}\n"},
		{"check host", strings.Replace(base, "allow: {accounts: [dev]}", "allow: {accounts: [dev], checkHosts: ['"+leakedToken+"/x']}", 1)},
		{"status context", base + "github: {token: {env: T}, statusContext: " + leakedToken + "}\n"},
		{"GitHub API URL", base + "github: {token: {env: T}, apiURL: " + leakedToken + "}\n"},
		{"notification event", base + "notifications: {slack: [{name: s, url: {env: S}, events: [" + leakedToken + "]}]}\n"},
		{"Prometheus URL", base + "prometheus: [{name: p, url: " + leakedToken + "}]\n"},
		{"duplicate key", base + leakedToken + ": 1\n" + leakedToken + ": 2\n"},
		{"merge key", base + "log: {<<: " + leakedToken + "}\n"},
	}
	for _, tt := range tests {
		_, err := config.Parse("agent.yaml", []byte(tt.src))
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		if strings.Contains(err.Error(), leakedToken) || strings.Contains(err.Error(), leakedToken[4:]) {
			t.Errorf("%s: the error echoes the value:\n%v", tt.name, err)
		}
	}
}

// state.kubernetes takes its identity and advertised address from the
// pod (POD_NAME, POD_IP) and the listen port, and the lease timings of
// client-go's leader election.
func TestKubernetesStateDefaults(t *testing.T) {
	t.Setenv("POD_NAME", "jibe-7d9f-x2")
	t.Setenv("POD_IP", "10.1.2.3")
	base, err := os.ReadFile("../examples/agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(base), "stateDir: /var/lib/jibe\n", "stateDir: /var/lib/jibe\nstate:\n  kubernetes: {cluster: staging, namespace: jibe-system}\n", 1)
	src = strings.Replace(src, `listen: ":8080"`, `listen: ":9090"`, 1)
	c, err := config.Parse("agent.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	k := c.State.Kubernetes
	if k.Name != "jibe" || k.Identity != "jibe-7d9f-x2" || k.AdvertiseURL != "http://10.1.2.3:9090" {
		t.Errorf("name, identity, advertiseURL = %q, %q, %q", k.Name, k.Identity, k.AdvertiseURL)
	}
	if k.LeaseDuration.Duration != 15*time.Second || k.RenewDeadline.Duration != 10*time.Second || k.RetryPeriod.Duration != 2*time.Second {
		t.Errorf("durations = %s, %s, %s", k.LeaseDuration, k.RenewDeadline, k.RetryPeriod)
	}
	t.Setenv("POD_NAME", "")
	host, _ := os.Hostname()
	c, err = config.Parse("agent.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Kubernetes.Identity != host {
		t.Errorf("identity without POD_NAME = %q, want the host name %q", c.State.Kubernetes.Identity, host)
	}
}
