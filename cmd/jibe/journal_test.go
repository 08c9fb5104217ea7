package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/kubernetes/kubejournal"
	"github.com/jibe-dev/jibe/reconcile"
)

// `jibe journal migrate` copies the state directory's journal to the
// cluster and back, refuses a destination that holds records (unless
// --force) and a journal an agent holds, and says what it copied.
func TestJournalMigrate(t *testing.T) {
	c := kube.Shared(t)
	ns := c.NewNamespace(t)
	dir := t.TempDir()
	agentConfig := func(name, stateDir string) string {
		path := filepath.Join(dir, name)
		writeFile(t, path, fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
stateDir: %q
sources: [{name: shop, dir: {path: repo}, allow: {clusters: [test], namespaces: ["*"]}}]
kubernetes:
  clusters: [{name: test, kubeconfig: {path: %q}}]
state:
  kubernetes: {cluster: test, namespace: %s, identity: migrate-test}
`, stateDir, c.Kubeconfig(), ns))
		return path
	}
	from, back := agentConfig("from.yaml", filepath.Join(dir, "state")), agentConfig("back.yaml", filepath.Join(dir, "back"))
	app := reconcile.AppID{Source: "shop", Name: "web"}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	j, err := reconcile.OpenJournal(filepath.Join(dir, "state", "journal.db"), reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := j.Start(app, "abc1234", reconcile.EnvPlan{Name: "production", Steps: []reconcile.Step{{Kind: reconcile.StepApply, Target: "web"}}})
	if err == nil {
		_, err = j.Record(r.ID, reconcile.StepOutcome{Step: 0, Kind: reconcile.StepApply})
	}
	if err != nil {
		t.Fatal(err)
	}

	migrate := func(config string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"journal", "migrate", "--config", config}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := migrate(from, "--to", "kubernetes"); code != exitUsage || !strings.Contains(out, "an agent") {
		t.Errorf("while the agent holds the journal: exit %d\n%s", code, out)
	}
	j.Close()
	code, out := migrate(from, "--to", "kubernetes")
	if code != exitOK || !strings.Contains(out, "copied 2 records in 1 parts") || !strings.Contains(out, "rollouts 1") {
		t.Fatalf("to kubernetes: exit %d\n%s", code, out)
	}
	t.Log(out)
	if code, out := migrate(from, "--to", "kubernetes"); code != exitUsage || !strings.Contains(out, "already holds records") {
		t.Errorf("again: exit %d, want a refusal\n%s", code, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30e9)
	defer cancel()
	s, err := kubejournal.Open(ctx, c.Clientset(), ns, "jibe", kubejournal.Options{Identity: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cur, err := reconcile.NewJournal(s, reconcile.JournalOptions{}).Current(app, "production"); err != nil || cur.Next != 1 {
		t.Errorf("the cluster's journal: current rollout %+v, %v", cur, err)
	}
	if code, out := migrate(back, "--to", "local"); code != exitOK || !strings.Contains(out, "copied 2 records") {
		t.Fatalf("to local: exit %d\n%s", code, out)
	}
	j, err = reconcile.OpenJournal(filepath.Join(dir, "back", "journal.db"), reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if cur, err := j.Current(app, "production"); err != nil || cur.ID != r.ID || cur.Next != 1 {
		t.Errorf("the journal copied back: current rollout %+v, %v", cur, err)
	}
}
