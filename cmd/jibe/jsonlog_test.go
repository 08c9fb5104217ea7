package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// `jibe agent` in JSON mode writes nothing but JSON lines to its stderr,
// from start to stop: its own log, client-go's (klog) while it deploys to
// Kubernetes, the AWS SDK's while it deploys a Lambda function with the
// default credential chain, the Git source's polls. The agent runs as its
// own process, so that whatever writes to the real stderr is caught.
func TestAgentLogIsJSON(t *testing.T) {
	t.Parallel() // it runs in real time, beside the other real-time tests of this package
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	env := awsemutest.Start(t, awsemu.Options{Speed: 20})
	srv := gitserver.New(t)
	url := srv.CreateRepo("shop")
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, cfg, fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: state
server: {listen: %q}
sources:
  - name: shop
    git: {url: %q, pollInterval: 5s}
    allow: {clusters: [test], namespaces: ["*"], accounts: [dev]}
kubernetes:
  clusters:
    - {name: test, kubeconfig: {path: %q}}
aws:
  accounts:
    - {name: dev, region: %s, endpoint: %s}
log: {format: json, level: debug}
`, addr, url, c.Kubeconfig(), env.Region, env.URL))
	srv.Repo("shop").Commit(gitserver.Commit{Files: map[string]string{
		"apps/web/jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: web}
spec:
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments: [{name: production, kubernetes: {cluster: test, namespace: ` + ns + `}}]
`,
		"apps/web/k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n",
		"apps/fn/jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: fn}
spec:
  targets: [{name: fn, lambda: {function: fn.yaml}}]
  environments: [{name: production, aws: {account: dev}}]
`,
		"apps/fn/fn.yaml": "FunctionName: hello\nRole: arn:aws:iam::123456789012:role/r\nPackageType: Image\nCode: {ImageUri: x/y:1}\n",
	}})

	var stderr syncBuffer
	cmd := exec.Command(os.Args[0], "agent", "--config", cfg)
	// The default credential chain: the SDK's own configuration path.
	cmd.Env = append(os.Environ(), "JIBE_TEST_MAIN=1", "AWS_ACCESS_KEY_ID="+env.AccessKey, "AWS_SECRET_ACCESS_KEY="+env.SecretKey,
		"AWS_REGION="+env.Region, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for !allSucceeded(addr, 2) {
		if time.Now().After(deadline) {
			t.Fatalf("the rollouts did not succeed within 2 minutes; log:\n%s", stderr.String())
		}
		<-time.After(100 * time.Millisecond) // polling a condition with a deadline
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the agent did not stop cleanly: %v", err)
	}

	lines := bytes.Split(bytes.TrimSpace([]byte(stderr.String())), []byte("\n"))
	for i, l := range lines {
		var v map[string]any
		if err := json.Unmarshal(l, &v); err != nil || v["msg"] == nil || v["level"] == nil {
			t.Errorf("line %d is not a JSON log line: %q", i+1, l)
		}
	}
	if len(lines) < 5 || !strings.Contains(stderr.String(), `"msg":"agent stopped"`) {
		t.Errorf("the log is missing the agent's own lines:\n%s", stderr.String())
	}
}

// allSucceeded reports whether the agent's API shows n applications whose
// every environment succeeded.
func allSucceeded(addr string, n int) bool {
	resp, err := http.Get("http://" + addr + "/api/v1/applications")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var apps []struct{ Environments []struct{ State string } }
	if json.NewDecoder(resp.Body).Decode(&apps) != nil || len(apps) != n {
		return false
	}
	for _, a := range apps {
		for _, e := range a.Environments {
			if e.State != "succeeded" {
				return false
			}
		}
	}
	return true
}
