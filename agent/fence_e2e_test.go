package agent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/kubernetes/kubejournal"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// pollWith polls g and hands the updates to a.
func (e *e2e) pollWith(a *Agent, g *sources.Git) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	updates, err := g.PollOnce(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range updates {
		a.Handle(u)
	}
}

// drainAgent processes what a has queued, as drain does for e.agent.
func (e *e2e) drainAgent(a *Agent) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for a.queue.Len() > 0 {
		a.processNext(ctx)
	}
	if err := e.reporter.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// appKey is the queue key of the shop application of e2e tests.
const appKey = "shop/apps/shop"

// kubeJournal opens the journal in namespace ns of e's cluster as
// identity writes it.
func (e *e2e) kubeJournal(ns, identity string) *reconcile.Journal {
	e.t.Helper()
	client, err := kubernetes.NewForConfig(e.cluster.RESTConfig())
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := kubejournal.Open(ctx, client, ns, "jibe", kubejournal.Options{Identity: identity})
	if err != nil {
		e.t.Fatal(err)
	}
	j := reconcile.NewJournal(s, reconcile.JournalOptions{Clock: e.clock})
	e.t.Cleanup(func() { j.Close() })
	return j
}

// An agent that goes on acting after another one took its application
// over (a stale leader) has its next journal write refused: it stops
// acting on the application at once, with no failure reported and
// nothing rolled back, and logs it once; the new owner finishes the
// rollout.
func TestE2EFencedAgentStopsActing(t *testing.T) {
	var logs syncLog
	var journalNS string
	e := newE2EWith(t, func(h *harness, o *Options) {
		journalNS = kube.Shared(t).NewNamespace(t)
		client, err := kubernetes.NewForConfig(kube.Shared(t).RESTConfig())
		if err != nil {
			t.Fatal(err)
		}
		s, err := kubejournal.Open(t.Context(), client, journalNS, "jibe", kubejournal.Options{Identity: "agent-a"})
		if err != nil {
			t.Fatal(err)
		}
		h.journal = reconcile.NewJournal(s, reconcile.JournalOptions{})
		o.Journal = h.journal
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	v2, before := e.pausedCanary()

	// Agent b takes the application over: it claims its records.
	jb := e.kubeJournal(journalNS, "agent-b")
	gb := sources.NewGit(sources.GitOptions{StateDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := gb.Add(e.cfg.Sources[0]); err != nil {
		t.Fatal(err)
	}
	b := withStatuses(New(Options{Config: e.agent.config(), Journal: jb, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock: e.clock, Platforms: e.agent.opts.Platforms, Capabilities: builtin}), e.reporter)
	e.pollWith(b, gb)
	e.drainAgent(b)

	// The pause ends; the former owner goes first and is refused.
	statuses := len(e.emu.Statuses("acme/shop", v2))
	e.clock.Step(11 * time.Minute)
	e.agent.queue.Add(appKey)
	e.drain()
	e.agent.queue.Add(appKey)
	e.drain()
	after, _ := jb.Current(shopApp, "production")
	if after.Next != before.Next || after.State != reconcile.RolloutRunning || after.RollingBack {
		t.Fatalf("the fenced agent changed the rollout: next %d → %d, %s, rolling back %v", before.Next, after.Next, after.State, after.RollingBack)
	}
	if n := len(e.emu.Statuses("acme/shop", v2)); n != statuses {
		t.Errorf("the fenced agent posted %d commit statuses", n-statuses)
	}
	if n := strings.Count(logs.String(), "another agent has taken over an application"); n != 1 {
		t.Errorf("the fence was logged %d times, want once:\n%s", n, logs.String())
	}
	if got := e.image(e.production, "web"); got != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("the fenced agent went on to deploy: production runs %s", got)
	}

	// The new owner finishes the rollout.
	e.harness.agent, e.harness.journal, e.git = b, jb, gb
	e.settle("v2 in production under agent b", e.final("production", v2))
}

// syncLog is a log written by several goroutines.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
