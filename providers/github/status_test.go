package github

import (
	"context"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/clockstep"
)

const sha = "4f2c9a1b7e3d5c6a8b9f0e1d2c3b4a5f6e7d8c9b"

type fixture struct {
	emu   *githubemu.Emulator
	clock *clockstep.Stepper
	r     *Reporter
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	// The emulator and the reporter share the clock; every wait the
	// reporter asks for passes at once and moves the clock on.
	c := clockstep.Start(t, clocktesting.NewFakeClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)), time.Second)
	emu := githubemu.Start(t, githubemu.Options{Now: c.Clock.Now})
	if err := emu.AddRepo("acme/shop"); err != nil {
		t.Fatal(err)
	}
	emu.AddToken("ghp_jibe", "jibe-bot")
	gh := github.NewClient(nil).WithAuthToken("ghp_jibe")
	gh.BaseURL, _ = url.Parse(emu.URL() + "/")
	return &fixture{emu: emu, clock: c, r: NewReporter(gh, ReporterOptions{Clock: c.Clock})}
}

// run posts every queued status.
func (f *fixture) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.r.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if n := f.r.Pending(); n != 0 {
		t.Fatalf("%d statuses still pending", n)
	}
}

func status(ctx string, state State, desc string) Status {
	return Status{Owner: "acme", Repo: "shop", SHA: sha, Context: ctx, State: state, Description: desc,
		TargetURL: "https://jibe.example.com/apps/shop"}
}

func TestReporterPostsStatuses(t *testing.T) {
	f := newFixture(t)
	f.r.Post(status("jibe/shop/staging", StateSuccess, "rolled out in 42s"))
	f.r.Post(status("jibe/shop/production", StatePending, "waiting for 1 approving review from team acme/sre"))
	f.run(t)
	got := f.emu.Statuses("acme/shop", sha)
	if len(got) != 2 {
		t.Fatalf("statuses = %+v", got)
	}
	byContext := map[string]githubemu.Status{}
	for _, s := range got {
		byContext[s.Context] = s
	}
	if s := byContext["jibe/shop/production"]; s.State != "pending" || s.Description != "waiting for 1 approving review from team acme/sre" || s.TargetURL != "https://jibe.example.com/apps/shop" {
		t.Errorf("production status = %+v", s)
	}
}

// Only the latest status of a context matters on GitHub, so queued
// statuses are coalesced, and a repeat of the last posted one is skipped.
func TestReporterCoalescesAndSkipsRepeats(t *testing.T) {
	f := newFixture(t)
	for _, step := range []string{"apply web", "wait-healthy web", "shift-traffic web to 10%"} {
		f.r.Post(status("jibe/shop/production", StatePending, step))
	}
	f.r.Post(status("jibe/shop/production", StateSuccess, "done"))
	f.run(t)
	f.r.Post(status("jibe/shop/production", StateSuccess, "done"))
	f.run(t)
	if n := f.emu.CountRequests("POST", "/repos/acme/shop/statuses/*"); n != 1 {
		t.Errorf("posted %d statuses, want 1", n)
	}
	if got := f.emu.Statuses("acme/shop", sha); len(got) != 1 || got[0].State != "success" {
		t.Errorf("statuses = %+v", got)
	}
}

// GitHub refuses descriptions over 140 characters; the reporter cuts them.
func TestReporterTruncatesDescriptions(t *testing.T) {
	f := newFixture(t)
	long := "verification failed: " + strings.Repeat("canary 5xx rate 3.2% above 1% ", 10)
	f.r.Post(status("jibe/shop/production", StateFailure, long))
	f.run(t)
	got := f.emu.Statuses("acme/shop", sha)
	if len(got) != 1 || len([]rune(got[0].Description)) != MaxDescription || !strings.HasSuffix(got[0].Description, "…") {
		t.Fatalf("statuses = %+v", got)
	}
}

// Server errors are retried with backoff until the status is posted.
func TestReporterRetriesServerErrors(t *testing.T) {
	f := newFixture(t)
	f.emu.InjectFault(githubemu.Fault{Method: "POST", Path: "/repos/*/*/statuses/*", Times: 3, Status: 502})
	f.r.Post(status("jibe/shop/staging", StateSuccess, "ok"))
	f.run(t)
	if got := f.emu.Statuses("acme/shop", sha); len(got) != 1 {
		t.Fatalf("statuses = %+v", got)
	}
	if w := f.clock.Waits(); len(w) != 3 {
		t.Errorf("waits = %v, want 3 backoffs", w)
	}
}

// An exhausted rate limit is waited out until its reset, not hammered.
func TestReporterWaitsOutRateLimit(t *testing.T) {
	f := newFixture(t)
	f.emu.SetRateLimit(1)
	f.r.Post(status("jibe/shop/staging", StateSuccess, "ok"))
	f.r.Post(status("jibe/shop/production", StateSuccess, "ok"))
	f.run(t)
	if got := f.emu.Statuses("acme/shop", sha); len(got) != 2 {
		t.Fatalf("statuses = %+v", got)
	}
	w := f.clock.Waits()
	if len(w) != 1 || w[0] < 30*time.Minute {
		t.Errorf("waits = %v, want one wait until the hourly reset", w)
	}
}

// A status GitHub rejects as invalid is dropped, not retried forever.
func TestReporterDropsInvalidStatuses(t *testing.T) {
	f := newFixture(t)
	f.r.Post(Status{Owner: "acme", Repo: "shop", SHA: sha, Context: "jibe/shop/staging", State: "done"})
	f.r.Post(status("jibe/shop/production", StateSuccess, "ok"))
	f.run(t)
	got := f.emu.Statuses("acme/shop", sha)
	if len(got) != 1 || got[0].Context != "jibe/shop/production" {
		t.Errorf("statuses = %+v", got)
	}
	if w := f.clock.Waits(); len(w) != 0 {
		t.Errorf("an invalid status must not be retried, waits = %v", w)
	}
	// Counted: two queued, one posted, one dropped, none pending.
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.r.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		counts[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	want := map[string]float64{"jibe_github_statuses_queued_total": 2, "jibe_github_statuses_posted_total": 1,
		"jibe_github_statuses_dropped_total": 1, "jibe_github_statuses_pending": 0}
	if !maps.Equal(counts, want) {
		t.Errorf("metrics = %v, want %v", counts, want)
	}
}

func TestStatusContext(t *testing.T) {
	if got := StatusContext("jibe/{app}/{env}", "team-a", "shop", "production"); got != "jibe/shop/production" {
		t.Errorf("got %q", got)
	}
	if got := StatusContext("jibe/{source}/{app}/{env}", "team-a", "shop", "production"); got != "jibe/team-a/shop/production" {
		t.Errorf("with {source}: got %q", got)
	}
}

// Run posts what is queued while it runs, and stops with its context.
func TestReporterRun(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.r.Run(ctx) }()
	f.r.Post(status("jibe/shop/staging", StateSuccess, "ok"))
	deadline := time.After(10 * time.Second)
	for len(f.emu.Statuses("acme/shop", sha)) == 0 {
		select {
		case <-deadline:
			t.Fatal("status not posted within 10s")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v", err)
	}
}
