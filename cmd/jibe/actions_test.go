package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

const actionsAgentConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
server:
  tokens:
    - {name: ci, scope: write, secret: {env: JIBE_TEST_CLI_WRITE}}
sources:
  - name: shop
    dir: {path: repo}
    allow: {clusters: [test], namespaces: ["*"]}
kubernetes:
  clusters:
    - {name: test, kubeconfig: {path: kubeconfig}}
`

const actionsApp = `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: web}
spec:
  targets:
    - name: web
      kubernetes: {manifests: k8s}
  environments:
    - name: staging
      kubernetes: {cluster: test, namespace: staging}
    - name: production
      kubernetes: {cluster: test, namespace: production}
`

// actionsAgent starts a real agent (no platform: its application loads,
// and stalls before any rollout) on a folder source, serves its API over
// HTTP, and points the CLI at it with a write token.
func actionsAgent(t *testing.T) *agent.Agent {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("repo/web/jibe.yaml", actionsApp)
	write("repo/web/k8s/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n")
	t.Setenv("JIBE_TEST_CLI_WRITE", "w-0123456789abcdef0123456789abcdef")
	cfg, err := config.Parse(filepath.Join(dir, "agent.yaml"), []byte(actionsAgentConfig))
	if err != nil {
		t.Fatal(err)
	}
	j, err := reconcile.OpenJournal(filepath.Join(dir, "journal.db"), reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, err := sources.NewDir(cfg.Sources[0], sources.DirOptions{Logger: quiet, MinQuiet: time.Millisecond, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a := agent.New(agent.Options{Config: cfg, Journal: j, Capabilities: builtinPlatforms(), Sources: []agent.Source{src}, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// The agent's own server, with its limits, as jibe agent serves it.
	srv, err := agent.NewServer("127.0.0.1:0", a.Handler(nil), agent.LimitsOf(cfg.Server))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	t.Setenv(envServer, "http://"+srv.Addr().String())
	t.Setenv(envToken, "w-0123456789abcdef0123456789abcdef")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, ok := a.Application(reconcile.AppID{Source: "shop", Name: "web"}); ok && len(v.Environments) == 2 {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not load the application: %+v", a.Applications())
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-t.Context().Done():
		}
	}
}

// The action verbs talk to a real agent's API and print its answer, or
// its refusal with what would apply; a missing --reason or --to is
// caught before asking.
func TestActionVerbs(t *testing.T) {
	actionsAgent(t)
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, errOut string
	}{
		{[]string{"pause", "web", "--reason", "incident 7"}, exitOK, "pause shop/web by ci at ", ""},
		{[]string{"pause", "shop/web"}, exitUsage, "", "the agent answered 409: shop/web is already paused, by ci"},
		{[]string{"resume", "web"}, exitOK, "shop/web resumed (paused by ci since", ""},
		{[]string{"pause", "--source", "shop", "--reason", "release"}, exitOK, "pause source shop by ci", ""},
		{[]string{"resume", "--source", "shop"}, exitOK, "source shop resumed", ""},
		{[]string{"refresh", "web"}, exitOK, "refreshing shop/web", ""},
		{[]string{"pause", "web", "--source", "shop"}, exitUsage, "", "name an application (APP) or a source (--source SOURCE), not both"},
		{[]string{"abort", "web", "staging"}, exitUsage, "", "the agent answered 409: staging has no rollout yet: nothing to abort"},
		{[]string{"abort", "web", "qa"}, exitUsage, "", "the agent answered 404: application shop/web has no environment qa"},
		{[]string{"retry", "web", "production"}, exitUsage, "", "cannot be retried"},
		{[]string{"promote", "web", "production", "--force"}, exitUsage, "", "promote --force needs --reason"},
		{[]string{"approve", "web", "production"}, exitUsage, "", "approve needs --reason"},
		{[]string{"approve", "web", "production", "--reason", "hotfix"}, exitUsage, "", "the agent answered 403: break-glass is not enabled for source shop"},
		{[]string{"rollback", "web", "production"}, exitUsage, "", "rollback needs --to REVISION"},
		{[]string{"rollback", "web", "production", "--to", "abc1234"}, exitUsage, "", "the agent answered 404: no rollout of shop/web to abc1234 succeeded in production"},
		{[]string{"abort", "nope", "staging"}, exitUsage, "", "no application nope on the agent"},
	} {
		code, out, errOut := jibe(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.errOut) {
			t.Errorf("jibe %s: exit %d\n%s%s\nwant exit %d, stdout with %q, stderr with %q", strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.stdout, tc.errOut)
		}
	}
}

// Without a write token, an action says which token to set.
func TestActionVerbNeedsAWriteToken(t *testing.T) {
	actionsAgent(t)
	t.Setenv(envToken, "")
	code, _, errOut := jibe(t, "pause", "shop/web")
	if code != exitUsage || !strings.Contains(errOut, "answered 401") || !strings.Contains(errOut, envToken) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
