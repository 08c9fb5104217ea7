package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/config"
	"k8s.io/klog/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const dirAgentConfig = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: state
server: {listen: "ADDR"}
sources:
  - name: local
    dir: {path: apps}
    allow: {accounts: [dev]}
aws:
  accounts:
    - {name: dev, region: eu-west-1}
log: {format: text}
`

// `jibe agent` serves its API, finds the applications of a folder source,
// deploys them (here a Lambda function, to the AWS emulator) and stops
// cleanly on cancellation.
func TestAgentCommand(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	// Emulated time runs 20 times faster, so that Lambda creates the
	// function within one of the agent's 5s waits.
	env := awsemutest.Start(t, awsemu.Options{Speed: 20})
	t.Setenv("JIBE_TEST_KEY_ID", env.AccessKey)
	t.Setenv("JIBE_TEST_SECRET", env.SecretKey)
	// Secrets in force never reach the log, even at debug level.
	const hookSecret = "agent-command-webhook-secret-value"
	t.Setenv("JIBE_TEST_WEBHOOK_SECRET", hookSecret)
	cfg := strings.Replace(dirAgentConfig, `server: {listen: "ADDR"}`,
		`server: {listen: "ADDR", webhookSecret: {env: JIBE_TEST_WEBHOOK_SECRET}}`, 1)
	cfg = strings.Replace(cfg, "log: {format: text}", "log: {format: text, level: debug}", 1)
	cfg = strings.Replace(cfg, "- {name: dev, region: eu-west-1}", "- {name: dev, region: "+env.Region+", endpoint: "+env.URL+
		", credentials: {accessKeyID: {env: JIBE_TEST_KEY_ID}, secretAccessKey: {env: JIBE_TEST_SECRET}}}", 1)
	writeFile(t, filepath.Join(dir, "agent.yaml"), strings.Replace(cfg, "ADDR", addr, 1))
	writeFile(t, filepath.Join(dir, "apps/hello/jibe.yaml"), `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: hello}
spec:
  targets: [{name: fn, lambda: {function: fn.yaml}}]
  environments: [{name: dev, aws: {account: dev}}]
`)
	writeFile(t, filepath.Join(dir, "apps/hello/fn.yaml"), "FunctionName: hello\nRole: arn:aws:iam::123456789012:role/r\nPackageType: Image\nCode: {ImageUri: x/y:1}\n")

	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"agent", "--config", filepath.Join(dir, "agent.yaml")}, io.Discard, &stderr)
	}()

	var apps []struct{ Name, Folder, Error string }
	var alias *lambda.GetAliasOutput
	deadline := time.Now().Add(60 * time.Second)
	for alias == nil {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("the agent did not deploy the function within 60s; apps %+v\n%s", apps, stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("the agent exited with %d:\n%s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get("http://" + addr + "/api/v1/applications"); err == nil {
			json.NewDecoder(resp.Body).Decode(&apps)
			resp.Body.Close()
		}
		alias, _ = env.Lambda().GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("hello"), Name: aws.String("live")})
	}
	if len(apps) != 1 || apps[0].Name != "hello" || apps[0].Error != "" {
		t.Errorf("applications = %+v", apps)
	}
	if v := aws.ToString(alias.FunctionVersion); v != "1" {
		t.Errorf("alias live at version %s, want 1", v)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after stop:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "agent stopped") {
		t.Errorf("no orderly stop in the log:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "state/journal.db")); err != nil {
		t.Errorf("no journal under the state directory: %v", err)
	}
	if strings.Contains(stderr.String(), hookSecret) {
		t.Errorf("the log reveals the webhook secret:\n%s", stderr.String())
	}
}

func TestAgentCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "apiVersion: jibe.dev/v1alpha1\nkind: AgentConfig\nsources: []\n")
	secret := filepath.Join(dir, "secret.yaml")
	writeFile(t, secret, strings.Replace(dirAgentConfig, "ADDR", "127.0.0.1:0", 1)+"github: {token: {env: JIBE_TEST_UNSET_TOKEN}}\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"agent"}, "--config is required"},
		{[]string{"agent", "--config", bad}, "bad.yaml:3:10: sources: needs at least 1 item"},
		{[]string{"agent", "--config", secret}, "github.token: environment variable JIBE_TEST_UNSET_TOKEN is not set"},
	}
	for _, tt := range tests {
		code, _, errOut := jibe(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("jibe %v: exit %d, stderr %q; want %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestPlanCommandErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, cfg, strings.Replace(dirAgentConfig, "ADDR", "127.0.0.1:0", 1))
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plan", "../../examples/lambda-api"}, exitUsage, "--config is required"},
		{[]string{"plan", "--config", cfg, "../../spec/testdata/invalid/many-errors"}, exitProblems, ""},
		{[]string{"plan", "--config", cfg, "--env", "qa", "../../examples/lambda-api"}, exitUsage, "has no environment qa (it has staging, production)"},
		{[]string{"plan", "--config", cfg, "--source", "local", "../../examples/lambda-api"}, exitProblems, `staging: could not be planned: environment staging, target api: source local may not deploy to AWS account "staging"`},
	}
	for _, tt := range tests {
		code, out, errOut := jibe(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut+out, tt.want) {
			t.Errorf("jibe %v: exit %d, stderr %q; want exit %d with %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

// ghToken is a GitHub token pasted where a name belongs.
const ghToken = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"

// A token pasted as the name of a variable or file, or as the whole
// configuration file, is refused without being printed: not by `jibe
// agent`, not by `jibe validate`.
func TestAgentNeverEchoesPastedSecrets(t *testing.T) {
	dir := t.TempDir()
	base := strings.Replace(dirAgentConfig, "ADDR", "127.0.0.1:0", 1)
	tests := []struct {
		name, content, want string
	}{
		{"token as variable name", base + "github: {token: {env: " + ghToken + "}}\n",
			"agent.yaml:13:23: github.token.env: the value looks like a credential, not a variable name: put the token in an environment variable or file and name that here"},
		{"token as file name", base + "github: {token: {file: " + ghToken + "}}\n",
			"agent.yaml:13:24: github.token.file: the value looks like a credential, not a file path: put the token in an environment variable or file and name that here"},
		{"token as the whole file", ghToken + "\n", "agent.yaml:1:1: expected a mapping, got a string"},
	}
	for _, tt := range tests {
		file := filepath.Join(dir, tt.name, "agent.yaml")
		writeFile(t, file, tt.content)
		code, _, errOut := jibe(t, "agent", "--config", file)
		if code != exitUsage || strings.Contains(errOut, ghToken) || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: jibe agent: exit %d, stderr:\n%s\nwant exit %d, %q and no token", tt.name, code, errOut, exitUsage, tt.want)
		}
		code, out, errOut := jibe(t, "validate", file)
		if code == exitOK || strings.Contains(out+errOut, ghToken) {
			t.Errorf("%s: jibe validate: exit %d, output:\n%s%s", tt.name, code, out, errOut)
		}
	}
}

// In JSON mode every line the agent writes is JSON, including what
// client-go (klog) and the standard log package print.
func TestLibraryLogsAreJSON(t *testing.T) {
	var buf syncBuffer
	routeLibraryLogs(newLogger(config.Log{Format: "json", Level: "info"}, &buf))
	t.Cleanup(func() { routeLibraryLogs(slog.New(slog.NewTextHandler(os.Stderr, nil))) })
	klog.InfoS("Caches are synced", "controller", "test")
	klog.ErrorS(errors.New("boom"), "Unhandled Error")
	klog.Warningf("W1205 style line %d", 1)
	stdlog.Print("a standard log line")
	klog.Flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 lines, got %d:\n%s", len(lines), buf.String())
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil || v["msg"] == nil {
			t.Errorf("not a JSON log line: %q (%v)", l, err)
		}
	}
}

// syncBuffer is a bytes.Buffer that goroutines may write concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
