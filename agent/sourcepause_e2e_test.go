package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/kubernetes/coord"
	"github.com/jibe-dev/jibe/providers/kubernetes/kubejournal"
	"github.com/jibe-dev/jibe/reconcile"
)

// shard starts member identity of the sharded installation in namespace
// ns of e's cluster, on the real clock, until the test ends.
func shard(t *testing.T, ns, identity string) *coord.Shards {
	t.Helper()
	client, err := kubernetes.NewForConfig(kube.Shared(t).RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := coord.NewShards(client, coord.Config{Namespace: ns, Identity: identity,
		LeaseDuration: 10 * time.Second, RenewDeadline: 5 * time.Second, RetryPeriod: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// openKubeJournal opens the journal in namespace ns of the test cluster
// as identity writes it, dating records by clk.
func openKubeJournal(t *testing.T, ns, identity string, clk clock.PassiveClock) *reconcile.Journal {
	t.Helper()
	client, err := kubernetes.NewForConfig(kube.Shared(t).RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	s, err := kubejournal.Open(t.Context(), client, ns, "jibe", kubejournal.Options{Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	j := reconcile.NewJournal(s, reconcile.JournalOptions{Clock: clk})
	t.Cleanup(func() { j.Close() })
	return j
}

// grants reports whether o grants key now, releasing it at once.
func grants(o Ownership, key string) bool {
	release, ok := o.Acquire(key)
	if ok {
		release()
	}
	return ok
}

// With sharding, the pause of a whole source is journaled by the agent
// owning OwnerSource; another agent's application is held at its next
// step boundary (its journal's copy holds the pause by then), and a
// resume lets it go on at once, as soon as that agent's journal shows
// it: the emulated clock does not move, so neither the paused recheck
// nor a resync is what moves the rollout on.
func TestE2ESourcePauseReachesOtherShards(t *testing.T) {
	t.Setenv("JIBE_TEST_WRITE", writeSecret)
	t.Setenv("JIBE_TEST_ONCALL", oncallSecret)
	t.Setenv("JIBE_TEST_READ", readSecret)
	journalNS := kube.Shared(t).NewNamespace(t)
	// Rendezvous hashing over {shard-a, shard-b} gives shop/shop to
	// shard-a and OwnerSource to shard-b.
	ownerShards, otherShards := shard(t, journalNS, "shard-a"), shard(t, journalNS, "shard-b")
	e := newE2EConfig(t, actionsConfig, func(h *harness, o *Options) {
		h.journal = openKubeJournal(t, journalNS, "shard-a", o.Clock)
		o.Journal, o.Ownership = h.journal, ownerShards
	})
	agentproc.Poll(t, 60*time.Second, "the shards settled", func() (bool, string) {
		ok := grants(ownerShards, shopApp.String()) && grants(otherShards, OwnerSource) && !grants(otherShards, shopApp.String())
		return ok, "shard-a does not grant shop/shop alone, or shard-b OwnerSource"
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.agent.followOwnership(ctx)

	// The other agent serves the API; it owns OwnerSource.
	other := New(Options{Config: e.agent.config(), Journal: e.kubeJournal(journalNS, "shard-b"), Ownership: otherShards,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: e.clock, Capabilities: builtin})
	srv := httptest.NewServer(other.Handler(nil))
	t.Cleanup(srv.Close)
	api := &actionsE2E{e2e: e, api: srv.URL + "/api/v1/applications/shop/shop"}

	// The owner's canary stands at its 10-minute pause.
	v2, before := e.pausedCanary()

	// The source is paused through the other agent; once the owner's
	// journal shows it, the canary's pause ends and the next step is held.
	api.mustAct(writeSecret, "/api/v1/sources/shop/pause", `{"reason":"release freeze"}`)
	sourcePause := reconcile.PauseKey(reconcile.AppID{Source: "shop"})
	agentproc.Poll(t, 30*time.Second, "the owner's journal shows the pause", func() (bool, string) {
		h, err := e.journal.Hold(sourcePause)
		return h != nil, fmt.Sprint(err)
	})
	e.drain()
	e.clock.Step(11 * time.Minute)
	e.awaitDue()
	e.drain()
	held, _ := e.journal.Current(shopApp, "production")
	if held.Next != before.Next+1 || held.State.Final() {
		t.Fatalf("production at step %d (%s) after the canary's pause; want held at step %d", held.Next, held.State, before.Next+1)
	}
	if hold := e.agent.Applications()[0].Environments[1].Hold; !strings.Contains(hold, "source shop was paused by ci") {
		t.Fatalf("the owner's view of production: hold %q", hold)
	}

	// Resumed through the other agent: the owner goes on at once, the
	// clock standing still (the paused recheck is 5 minutes away).
	api.mustAct(writeSecret, "/api/v1/sources/shop/resume", "")
	agentproc.Poll(t, 30*time.Second, "the owner goes on after the resume", func() (bool, string) {
		e.drain()
		now, _ := e.journal.Current(shopApp, "production")
		hold := e.agent.Applications()[0].Environments[1].Hold
		return now.Next > held.Next && hold == "", fmt.Sprintf("production at step %d, hold %q", now.Next, hold)
	})
	e.settle("v2 in production", e.final("production", v2))
}
