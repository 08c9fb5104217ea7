package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/reconcile"
)

// TestMain runs the tests against one shared Kubernetes cluster. When
// JIBE_TEST_MAIN is set, the test binary is the jibe command instead: the
// SIGKILL test runs the agent as a separate process this way.
func TestMain(m *testing.M) {
	if os.Getenv("JIBE_TEST_MAIN") == "1" {
		main()
		return
	}
	setUpProcess()
	kube.Main(m, kube.Options{})
}

// startAgent runs `jibe agent` as its own process: this test binary,
// which is the jibe command when JIBE_TEST_MAIN is set.
func startAgent(t *testing.T, cfg, logPath string) *agentproc.Process {
	t.Helper()
	return agentproc.Start(t, agentproc.Options{Name: "jibe agent", Binary: os.Args[0],
		Args: []string{"agent", "--config", cfg}, Env: []string{"JIBE_TEST_MAIN=1"}, LogPath: logPath})
}

type apiEnv struct{ Name, Revision, State, Step string }

// production returns the production environment as the agent's API shows it.
func production(addr string) (apiEnv, bool) {
	resp, err := http.Get("http://" + addr + "/api/v1/applications")
	if err != nil {
		return apiEnv{}, false
	}
	defer resp.Body.Close()
	var apps []struct{ Environments []apiEnv }
	if json.NewDecoder(resp.Body).Decode(&apps) != nil || len(apps) == 0 {
		return apiEnv{}, false
	}
	for _, e := range apps[0].Environments {
		if e.Name == "production" {
			return e, true
		}
	}
	return apiEnv{}, false
}

// waitFor polls the agent's API until cond holds.
func waitFor(t *testing.T, addr, what, logPath string, cond func(apiEnv) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if e, ok := production(addr); ok && cond(e) {
			return
		}
		<-time.After(100 * time.Millisecond) // polling a condition with a deadline
	}
	logs, _ := os.ReadFile(logPath)
	e, _ := production(addr)
	t.Fatalf("%s: not within 2 minutes; production %+v; agent log:\n%s", what, e, logs)
}

// An agent killed with SIGKILL in the middle of a canary, then started
// again, finishes the rollout from where it was: steps that completed
// before the kill are not run again.
func TestAgentSurvivesSIGKILL(t *testing.T) {
	t.Parallel() // it runs in real time, beside the other real-time test of this package
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
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
    allow: {clusters: [test], namespaces: ["*"]}
kubernetes:
  clusters:
    - {name: test, kubeconfig: {path: %q}}
log: {format: text, level: debug}
`, addr, url, c.Kubeconfig()))
	release := func(image string) map[string]string {
		return map[string]string{
			"apps/shop/jibe.yaml": `apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  artifacts: {web: {image: "` + image + `"}}
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments:
    - name: production
      kubernetes: {cluster: test, namespace: ` + ns + `}
      strategy: {canary: {steps: [{setWeight: 50}, {pause: {duration: 20s}}]}}
`,
			"apps/shop/k8s/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "${artifacts.web}"}]
`,
		}
	}
	// The first deploy rolls out at once; the second runs the canary.
	v1 := srv.Repo("shop").Commit(gitserver.Commit{Files: release("registry.example.com/shop/web:1.0.0")})
	logPath := filepath.Join(dir, "agent.log")

	first := startAgent(t, cfg, logPath)
	waitFor(t, addr, "the first deploy", logPath, func(e apiEnv) bool { return e.Revision == v1 && e.State == "succeeded" })
	srv.Repo("shop").Commit(gitserver.Commit{Files: release("registry.example.com/shop/web:1.1.0")})
	waitFor(t, addr, "the canary pauses", logPath, func(e apiEnv) bool { return e.Step == "pause" })
	if err := first.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.Done()

	second := startAgent(t, cfg, logPath)
	waitFor(t, addr, "the rollout finishes after the restart", logPath, func(e apiEnv) bool { return e.State == "succeeded" })
	if err := second.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-second.Done()
	if err := second.Err(); err != nil {
		t.Errorf("the agent did not stop cleanly on SIGTERM: %v", err)
	}

	j, err := reconcile.OpenJournal(filepath.Join(dir, "state", "journal.db"), reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r, err := j.Current(reconcile.AppID{Source: "shop", Name: "shop"}, "production")
	if err != nil || r.State != reconcile.RolloutSucceeded {
		t.Fatalf("production rollout = %+v, %v", r, err)
	}
	done := map[reconcile.StepKind]int{}
	for _, o := range r.Outcomes {
		if o.Error == "" {
			done[o.Kind]++
		}
	}
	if done[reconcile.StepApply] != 1 || done[reconcile.StepPause] != 1 {
		t.Errorf("steps completed %v: apply and pause must each run once across the kill", done)
	}
	logs, _ := os.ReadFile(logPath)
	if n := strings.Count(string(logs), "agent started"); n != 2 {
		t.Errorf("%d agent starts in the log, want 2", n)
	}
}
