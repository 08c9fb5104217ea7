package agent

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/providers/kubernetes/coord"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// replica is one more agent sharing e's journal, Git repository, cluster
// and commit statuses, with its own clone and its own coordinator.
type replica struct {
	agent  *Agent
	git    *sources.Git
	leader *coord.Leader
	stop   context.CancelFunc
	done   chan error
}

// leaderElection returns a coord.Leader of the election named name on
// e's cluster, running until the test ends or stop is called.
func (e *e2e) candidate(name, identity string) (*coord.Leader, context.CancelFunc, chan error) {
	e.t.Helper()
	client, err := kubernetes.NewForConfig(e.cluster.RESTConfig())
	if err != nil {
		e.t.Fatal(err)
	}
	l := coord.NewLeader(client, coord.Config{Namespace: e.staging, Name: name, Identity: identity,
		LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
	return l, cancel, done
}

// leads waits until l grants keys.
func (e *e2e) leads(what string, l *coord.Leader) {
	e.t.Helper()
	agentproc.Poll(e.t, 30*time.Second, what+": leading", func() (bool, string) {
		release, ok := l.Acquire(OwnerSource)
		if ok {
			release()
		}
		return ok, "grants no key"
	})
}

// replica starts another agent on e's journal, standing by for the
// election name.
func (e *e2e) replica(name, identity string) *replica {
	e.t.Helper()
	l, stop, done := e.candidate(name, identity)
	g := sources.NewGit(sources.GitOptions{StateDir: e.t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := g.Add(e.cfg.Sources[0]); err != nil {
		e.t.Fatal(err)
	}
	a := withStatuses(New(Options{Config: e.agent.config(), Journal: e.journal, Logger: e.agent.log, Clock: e.clock,
		Platforms: e.agent.opts.Platforms, Capabilities: builtin, Ownership: l}), e.reporter)
	return &replica{agent: a, git: g, leader: l, stop: stop, done: done}
}

// With leader election, a standby shares the journal and the sources but
// acts on nothing: its views show the leader's rollouts as the journal
// holds them. When the leader steps down in a canary's pause, the standby
// takes over at the next change of its ownership and resumes the rollout
// from the journaled step: the pause keeps its start, no step runs twice.
func TestE2EStandbyTakesOverAtTheJournaledStep(t *testing.T) {
	e := newE2E(t)
	leaderA, stopA, doneA := e.candidate("shop-ha", "agent-a")
	e.agent.opts.Ownership = leaderA
	e.leads("agent-a", leaderA)
	b := e.replica("shop-ha", "agent-b")

	v2, before := e.pausedCanary()
	statuses := len(e.emu.Statuses("acme/shop", v2))

	// The standby polls and reconciles: it loads the spec (for its views)
	// and stops there, reporting nothing.
	var mu sync.Mutex
	var reported []reconcile.Event
	b.agent.Subscribe(reconcile.SubscriberFunc(func(ev reconcile.Event) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, ev)
	}))
	e.pollWith(b.agent, b.git)
	e.drainAgent(b.agent)
	mu.Lock()
	if len(reported) > 0 {
		t.Errorf("the standby reported %d events, e.g. %s %s: only the owner reports", len(reported), reported[0].Kind, reported[0].Message)
	}
	mu.Unlock()
	if now, _ := e.journal.Current(shopApp, "production"); now.Updated != before.Updated {
		t.Fatalf("the standby acted on the leader's rollout: updated %s → %s", before.Updated, now.Updated)
	}
	if n := len(e.emu.Statuses("acme/shop", v2)); n != statuses {
		t.Errorf("the standby posted %d commit statuses; only the owner reports", n-statuses)
	}
	view, ok := b.agent.Application(shopApp)
	if !ok || len(view.Environments) != 2 || view.Environments[1].Rollout == nil || view.Environments[1].Rollout.Revision != v2 {
		t.Fatalf("the standby's view misses the leader's rollout: %+v", view)
	}

	// The leader steps down (its lease released at a step boundary); the
	// standby is elected and queues every application.
	stopA()
	if err := <-doneA; err != nil {
		t.Fatalf("the leader's clean exit: %v", err)
	}
	doneA <- nil // for the cleanup
	e.leads("agent-b", b.leader)
	e.agent.queue.Add(appKey)
	e.drain()
	if now, _ := e.journal.Current(shopApp, "production"); now.Updated != before.Updated {
		t.Fatalf("the former leader acted after stepping down")
	}
	select {
	case <-b.leader.Changes():
	case <-time.After(30 * time.Second):
		t.Fatal("no change of ownership reached the new leader")
	}
	b.agent.ownershipChanged()
	e.harness.agent = b.agent
	e.git = b.git
	e.drain()
	e.finishResumed(t, before, v2, "the new leader")
}
