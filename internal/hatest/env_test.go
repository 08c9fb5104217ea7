package hatest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/kubernetes/kubejournal"
	"github.com/jibe-dev/jibe/reconcile"
)

func TestMain(m *testing.M) { kube.Main(m, kube.Options{}) }

// The coordination settings every test agent runs with: short, so that
// takeovers happen within seconds of real time.
const (
	leaseDuration = 3 * time.Second
	renewDeadline = 2 * time.Second
	retryPeriod   = 500 * time.Millisecond
)

const (
	// repository is the GitHub repository statuses go to.
	repository = "acme/apps"
	// ghToken is the agents' GitHub token in the emulator.
	ghToken = "ghp_hatest_agents"
	// hookSecret signs the emulator's webhook deliveries.
	hookSecret = "hatest-webhook-secret"
	// stateName is state.kubernetes.name.
	stateName = "jibe"
	// source is the one Git source's name.
	source = "apps"
)

// jibeBin is the jibe command, built once per test binary into the
// cluster's directory (removed when the cluster stops).
var jibeBin struct {
	once sync.Once
	path string
}

func binary(tb testing.TB) string {
	tb.Helper()
	c := kube.Shared(tb)
	jibeBin.once.Do(func() {
		dir := filepath.Join(c.Dir(), "hatest-bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		start := time.Now()
		jibeBin.path = agentproc.Build(tb, dir)
		tb.Logf("built %s in %s", agentproc.Package, time.Since(start).Round(time.Millisecond))
	})
	if jibeBin.path == "" {
		tb.Fatal("the jibe binary could not be built (see the first test's failure)")
	}
	return jibeBin.path
}

// envOptions describe one test's installation.
type envOptions struct {
	// Sharding spreads applications over the agents; otherwise one leads.
	Sharding bool
	// MaxConcurrentRollouts is reconcile.maxConcurrentRollouts; 0 leaves
	// the default.
	MaxConcurrentRollouts int
	// LogLevel is log.level; default info.
	LogLevel string
}

// env is one installation: a state namespace with the journal and the
// Leases, an application namespace, a Git repository, the GitHub emulator
// and the agents.
type env struct {
	t       testing.TB
	opts    envOptions
	cluster *kube.Cluster
	stateNS string
	appNS   string
	git     *gitserver.Server
	repo    *gitserver.Repo
	gh      *githubemu.Emulator
	dir     string
	bin     string
	agents  []*agent
}

// agent is one `jibe agent` process.
type agent struct {
	id   string
	addr string
	proc *agentproc.Process
}

func newEnv(tb testing.TB, opts envOptions) *env {
	tb.Helper()
	c := kube.Shared(tb)
	e := &env{t: tb, opts: opts, cluster: c, bin: binary(tb), dir: tb.TempDir()}
	e.stateNS, e.appNS = c.NewNamespace(tb), c.NewNamespace(tb)
	e.git = gitserver.New(tb)
	e.git.CreateRepo("apps")
	e.repo = e.git.Repo("apps")
	// The branch exists before any agent polls it.
	e.repo.Commit(gitserver.Commit{Files: map[string]string{"README.md": "applications\n"}})
	e.gh = githubemu.Start(tb, githubemu.Options{RateLimit: 1_000_000, HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if err := e.gh.AddRepo(repository); err != nil {
		tb.Fatal(err)
	}
	e.gh.AddToken(ghToken, "jibe-bot")
	return e
}

// config is the agent configuration of one agent.
func (e *env) config(id, addr string) string {
	level := e.opts.LogLevel
	if level == "" {
		level = "info"
	}
	reconcileCfg := ""
	if e.opts.MaxConcurrentRollouts > 0 {
		reconcileCfg = fmt.Sprintf("reconcile: {maxConcurrentRollouts: %d}\n", e.opts.MaxConcurrentRollouts)
	}
	return fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: state-%[1]s
server:
  listen: %[2]q
  webhookSecret: {env: JIBE_HATEST_WEBHOOK_SECRET}
state:
  kubernetes:
    cluster: test
    namespace: %[3]s
    name: %[4]s
    identity: %[1]s
    sharding: %[5]t
    leaseDuration: %[6]s
    renewDeadline: %[7]s
    retryPeriod: %[8]s
sources:
  - name: %[9]s
    git: {url: %[10]q, repository: %[11]s, pollInterval: 5s}
    allow: {clusters: [test], namespaces: [%[12]q], checkHosts: ["127.0.0.1"]}
kubernetes:
  clusters:
    - {name: test, kubeconfig: {path: %[13]q}}
github:
  apiURL: %[14]q
  token: {env: JIBE_HATEST_GITHUB_TOKEN}
%[15]slog: {format: json, level: %[16]s}
`, id, addr, e.stateNS, stateName, e.opts.Sharding, leaseDuration, renewDeadline, retryPeriod,
		source, e.repo.URL(), repository, e.appNS, e.cluster.Kubeconfig(), e.gh.URL()+"/", reconcileCfg, level)
}

// start starts an agent named id, its webhook registered in the emulator.
func (e *env) start(id string) *agent {
	e.t.Helper()
	addr := agentproc.FreeAddr(e.t)
	cfg := filepath.Join(e.dir, id+".yaml")
	if err := os.WriteFile(cfg, []byte(e.config(id, addr)), 0o644); err != nil {
		e.t.Fatal(err)
	}
	p := agentproc.Start(e.t, agentproc.Options{
		Name: "agent " + id, Binary: e.bin, Args: []string{"agent", "--config", cfg},
		LogPath: filepath.Join(e.dir, id+".log"),
		Env: []string{"JIBE_HATEST_WEBHOOK_SECRET=" + hookSecret, "JIBE_HATEST_GITHUB_TOKEN=" + ghToken,
			"POD_NAME=" + id, "POD_IP=127.0.0.1"},
	})
	e.gh.AddWebhook(repository, "http://"+addr+"/hooks/github", hookSecret, githubemu.EventPush)
	a := &agent{id: id, addr: addr, proc: p}
	e.agents = append(e.agents, a)
	return a
}

// waitReady waits until every agent answers /readyz with 200.
func (e *env) waitReady(agents ...*agent) {
	e.t.Helper()
	for _, a := range agents {
		agentproc.Poll(e.t, time.Minute, a.id+" ready", func() (bool, string) {
			if !a.proc.Running() {
				return true, ""
			}
			code, body, err := agentproc.Get("http://" + a.addr + "/readyz")
			return code == http.StatusOK, fmt.Sprintf("/readyz: %d %s %v", code, body, err)
		})
		if !a.proc.Running() {
			e.t.Fatalf("%s exited (%v) before it was ready", a.proc.Describe(), a.proc.Err())
		}
	}
}

// push commits files to the repository and tells the agents through a
// push webhook, as GitHub would.
func (e *env) push(files map[string]string, del ...string) string {
	e.t.Helper()
	sha := e.repo.Commit(gitserver.Commit{Files: files, Delete: del})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.gh.Push(ctx, repository, githubemu.Push{Branch: "main", After: sha, Pusher: "dev"}); err != nil {
		e.t.Fatal(err)
	}
	return sha
}

// leader returns the identity holding the leader Lease, "" for none.
func (e *env) leader() string {
	l, err := e.cluster.Clientset().CoordinationV1().Leases(e.stateNS).Get(context.Background(), stateName+"-leader", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// leaseLive reports whether l is held and was renewed within its duration.
func leaseLive(l *coordinationv1.Lease) bool {
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return false
	}
	return time.Since(l.Spec.RenewTime.Time) < time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second
}

// agentByID returns the agent named id.
func (e *env) agentByID(id string) *agent {
	for _, a := range e.agents {
		if a.id == id {
			return a
		}
	}
	e.t.Fatalf("no agent %q", id)
	return nil
}

// journal opens the installation's journal as a reader: its own cache of
// the journal's objects, an identity of its own, never claiming anything.
func (e *env) journal() *reconcile.Journal {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := kubejournal.Open(ctx, e.cluster.Clientset(), e.stateNS, stateName, kubejournal.Options{Identity: "hatest-reader"})
	if err != nil {
		e.t.Fatalf("open the journal in %s: %v", e.stateNS, err)
	}
	j := reconcile.NewJournal(s, reconcile.JournalOptions{})
	e.t.Cleanup(func() { j.Close() })
	return j
}

// writerAnnotation names the identity that claimed a journal part.
const writerAnnotation = kubejournal.AnnotationWriter

// parts returns the journal's objects that carry a writer, by name.
func (e *env) parts() (map[string]string, error) {
	list, err := e.cluster.Clientset().CoreV1().ConfigMaps(e.stateNS).List(context.Background(),
		metav1.ListOptions{LabelSelector: kubejournal.LabelJournal + "=" + stateName})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, cm := range list.Items {
		if w := cm.Annotations[writerAnnotation]; w != "" && cm.Labels[kubejournal.LabelSpill] != "true" {
			out[cm.Name] = w
		}
	}
	return out, nil
}

// writerOf returns the writer of the one journal part whose object
// holds a record of app (its name in a data key or a label), or "".
func (e *env) writerOf(app reconcile.AppID) string {
	list, err := e.cluster.Clientset().CoreV1().ConfigMaps(e.stateNS).List(context.Background(),
		metav1.ListOptions{LabelSelector: kubejournal.LabelJournal + "=" + stateName})
	if err != nil {
		return ""
	}
	for _, cm := range list.Items {
		if w := cm.Annotations[writerAnnotation]; w != "" && cm.Labels[kubejournal.LabelSpill] != "true" && partOf(&cm, app) {
			return w
		}
	}
	return ""
}

// partOf reports whether cm is app's part.
func partOf(cm *corev1.ConfigMap, app reconcile.AppID) bool {
	return cm.Annotations[kubejournal.AnnotationPart] == app.String()
}

// logsMention returns the agents whose logs contain text.
func (e *env) logsMention(text string) []string {
	var out []string
	for _, a := range e.agents {
		if strings.Contains(a.proc.Log(), text) {
			out = append(out, a.id)
		}
	}
	return out
}

// fencedText is what an agent logs when a journal write is refused
// (reconcile.ErrFenced's message).
var fencedText = reconcile.ErrFenced.Error()
