package sources

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
	"github.com/jibe-dev/jibe/internal/testenv/logbuf"
)

const hookSecret = "hook-s3cret-value"

// testMaxBody is the body limit of the test webhooks, smaller than the
// default so that the oversized delivery stays quick to send.
const testMaxBody = 1 << 20

type hookHarness struct {
	srv   *httptest.Server
	logs  *logbuf.Buffer
	mu    sync.Mutex
	hints []Hint
	// artifacts are the refs of the artifact deliveries accepted.
	artifacts []string
}

func (h *hookHarness) Hints() []Hint {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Hint(nil), h.hints...)
}

// startWebhook serves a Webhook for trigger at /github and /generic.
func startWebhook(t *testing.T, trigger Triggerer) *hookHarness {
	return startWebhookWith(t, trigger, newFakeClock())
}

// startWebhookWith is startWebhook on a clock the test advances.
func startWebhookWith(t *testing.T, trigger Triggerer, clock *clocktesting.FakeClock) *hookHarness {
	h := &hookHarness{logs: &logbuf.Buffer{}}
	secret, err := secretFile(t, hookSecret).Resolve()
	if err != nil {
		t.Fatal(err)
	}
	wh, err := NewWebhook(WebhookOptions{
		Secret: secret, Trigger: trigger, Clock: clock, MaxBodyBytes: testMaxBody,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnHint: func(hint Hint) { h.mu.Lock(); h.hints = append(h.hints, hint); h.mu.Unlock() },
		OnArtifact: func(ref string) bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.artifacts = append(h.artifacts, ref)
			return strings.Contains(ref, "web")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/github", wh.GitHub())
	mux.Handle("/generic", wh.Generic())
	mux.Handle("/artifact", wh.Artifact())
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() {
		if logs := h.logs.String(); strings.Contains(logs, hookSecret) || strings.Contains(logs, "sha256=") {
			t.Errorf("the logs reveal the secret or a signature:\n%s", logs)
		}
	})
	return h
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (h *hookHarness) post(t *testing.T, path string, body []byte, headers map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// countingTrigger records triggers.
type countingTrigger struct {
	mu    sync.Mutex
	calls []string
}

func (c *countingTrigger) Trigger(repo, branch string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, repo+"@"+branch)
	return 1
}

func (c *countingTrigger) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func TestWebhookPushPollsAtOnce(t *testing.T) {
	_, repo, first := newAppsRepo(t)
	clock := newFakeClock()
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{Clock: clock})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := make(chan Update)
	go g.Run(ctx, out)
	if u := receive(t, out, "the first update"); u.Commit.SHA != first {
		t.Fatalf("first update at %s", u.Commit.SHA)
	}

	h := startWebhook(t, g)
	gh := githubemu.Start(t, githubemu.Options{})
	if err := gh.AddRepo("acme/app"); err != nil {
		t.Fatal(err)
	}
	gh.AddWebhook("acme/app", h.srv.URL+"/github", hookSecret, githubemu.EventPush)

	second := repo.Commit(gitserver.Commit{Files: map[string]string{"apps/web/jibe.yaml": "name: web\n# v2\n"}})
	if err := gh.Push(t.Context(), "acme/app", githubemu.Push{Branch: "main", After: second, Pusher: "dev"}); err != nil {
		t.Fatal(err)
	}
	if d := gh.Deliveries(); len(d) != 1 || d[0].Status != http.StatusAccepted {
		t.Fatalf("deliveries = %+v, want one answered 202", d)
	}
	// No clock advance: the webhook alone made the poller poll.
	if u := receive(t, out, "the update after the push"); u.Commit.SHA != second {
		t.Fatalf("update at %s, want %s", u.Commit.SHA, second)
	}
}

func TestWebhookRejectsBadDeliveries(t *testing.T) {
	trig := &countingTrigger{}
	h := startWebhook(t, trig)
	push := []byte(`{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"acme/app"}}`)
	headers := func(id, sig string) map[string]string {
		m := map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": id}
		if sig != "" {
			m["X-Hub-Signature-256"] = sig
		}
		return m
	}
	big := append(append([]byte(`{"ref":"refs/heads/main","pad":"`), bytes.Repeat([]byte("x"), testMaxBody)...), `"}`...)
	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
		want    int
	}{
		{"unsigned", push, headers("d1", ""), http.StatusUnauthorized},
		{"wrong signature", push, headers("d2", sign([]byte("other body"))), http.StatusForbidden},
		{"malformed signature", push, headers("d3", "sha1=abc"), http.StatusForbidden},
		{"oversized", big, headers("d4", sign(big)), http.StatusRequestEntityTooLarge},
		{"valid", push, headers("d5", sign(push)), http.StatusAccepted},
		{"replayed", push, headers("d5", sign(push)), http.StatusConflict},
		{"not JSON", []byte("nope"), headers("d6", sign([]byte("nope"))), http.StatusBadRequest},
		{"ping", []byte(`{}`), map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d7", "X-Hub-Signature-256": sign([]byte(`{}`))}, http.StatusOK},
	}
	for _, tt := range tests {
		if got := h.post(t, "/github", tt.body, tt.headers); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	if calls := trig.Calls(); len(calls) != 1 || calls[0] != "acme/app@main" {
		t.Fatalf("triggers = %v, want only the valid delivery's", calls)
	}
	resp, err := http.Get(h.srv.URL + "/github")
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	for _, reason := range []string{"unsigned delivery", "signature does not match", "replay", "larger than the limit"} {
		if !strings.Contains(h.logs.String(), reason) {
			t.Errorf("no log line says %q", reason)
		}
	}
}

func TestWebhookGenericEndpoint(t *testing.T) {
	trig := &countingTrigger{}
	h := startWebhook(t, trig)
	body := []byte(`{"repository":"https://git.example.com/acme/app.git","branch":"main"}`)
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"token", map[string]string{"X-Jibe-Token": hookSecret}, http.StatusAccepted},
		{"signature", map[string]string{"X-Hub-Signature-256": sign(body), "X-Jibe-Delivery": "g1"}, http.StatusAccepted},
		{"replayed", map[string]string{"X-Hub-Signature-256": sign(body), "X-Jibe-Delivery": "g1"}, http.StatusConflict},
		{"wrong token", map[string]string{"X-Jibe-Token": "guess"}, http.StatusForbidden},
		{"nothing", nil, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		if got := h.post(t, "/generic", body, tt.headers); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	if n := len(trig.Calls()); n != 2 {
		t.Fatalf("%d triggers, want 2", n)
	}
	// The GitHub endpoint does not take tokens.
	if got := h.post(t, "/github", body, map[string]string{"X-Jibe-Token": hookSecret, "X-GitHub-Event": "push"}); got != http.StatusUnauthorized {
		t.Fatalf("token on the GitHub endpoint: status %d", got)
	}
}

func TestWebhookPublishesPullRequestHints(t *testing.T) {
	h := startWebhook(t, &countingTrigger{})
	gh := githubemu.Start(t, githubemu.Options{})
	if err := gh.AddRepo("acme/app"); err != nil {
		t.Fatal(err)
	}
	gh.AddWebhook("acme/app", h.srv.URL+"/github", hookSecret)
	head := strings.Repeat("a", 40)
	ctx := t.Context()
	n, err := gh.CreatePullRequest(ctx, "acme/app", githubemu.NewPullRequest{Author: "dev", Head: "feature", HeadSHA: head})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.SubmitReview(ctx, "acme/app", n, githubemu.Review{User: "alice", State: githubemu.ReviewApproved}); err != nil {
		t.Fatal(err)
	}
	merge := strings.Repeat("b", 40)
	if err := gh.MergePullRequest(ctx, "acme/app", n, "alice", merge); err != nil {
		t.Fatal(err)
	}

	hints := h.Hints()
	if len(hints) != 3 {
		t.Fatalf("%d hints, want 3: %+v", len(hints), hints)
	}
	opened, review, merged := hints[0], hints[1], hints[2]
	if opened.Kind != HintPullRequest || opened.Action != "opened" || opened.Number != n || opened.HeadSHA != head ||
		opened.HeadRef != "feature" || opened.BaseRef != "main" || opened.Repository != "acme/app" || opened.Delivery == "" {
		t.Errorf("opened hint = %+v", opened)
	}
	if review.Kind != HintPullRequestReview || review.Review == nil || review.Review.User != "alice" ||
		review.Review.State != "approved" || review.Review.CommitID != head {
		t.Errorf("review hint = %+v (review %+v)", review, review.Review)
	}
	if merged.Action != "closed" || !merged.Merged || merged.MergeCommitSHA != merge {
		t.Errorf("merged hint = %+v", merged)
	}
}

func TestTriggersWhilePendingAreMerged(t *testing.T) {
	srv, repo, _ := newAppsRepo(t)
	clock := newFakeClock()
	g := newTestGit(t, gitSourceFor(repo.URL()), GitOptions{Clock: clock})
	for range 5 {
		if n := g.Trigger(repo.URL(), "main"); n != 1 {
			t.Fatalf("Trigger by URL matched %d pollers", n)
		}
	}
	srv.ResetRequests()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go g.Run(ctx, make(chan Update, 10))
	// The first poll, then one for the five pending triggers.
	// Each wait registers a timer with the fake clock: two waits, two polls.
	eventually(t, "the poller waits after its second poll", func() bool { return clock.Waiters() == 2 })
	infoRefs := srv.CountRequests(func(r gitserver.Request) bool { return strings.HasSuffix(r.Path, "/info/refs") })
	// First poll: ls-remote + fetch's own advertisement; triggered poll: ls-remote.
	if infoRefs != 3 {
		t.Fatalf("%d info/refs requests, want 3 (two polls)", infoRefs)
	}
}

// A signed body is accepted once: posted again with a new delivery ID or
// with none, it is a replay and refused like a repeated ID. Another body
// is accepted, and the same body is accepted again once the replay window
// has passed.
func TestWebhookRefusesReplayedBodies(t *testing.T) {
	trig := &countingTrigger{}
	clock := newFakeClock()
	h := startWebhookWith(t, trig, clock)
	gh := githubemu.Start(t, githubemu.Options{})
	if err := gh.AddRepo("acme/app"); err != nil {
		t.Fatal(err)
	}
	gh.AddWebhook("acme/app", h.srv.URL+"/github", hookSecret, githubemu.EventPush)
	if err := gh.Push(t.Context(), "acme/app", githubemu.Push{Branch: "main", After: strings.Repeat("a", 40), Pusher: "dev"}); err != nil {
		t.Fatal(err)
	}
	sent := gh.Deliveries()
	if len(sent) != 1 || sent[0].Status != http.StatusAccepted {
		t.Fatalf("deliveries = %+v, want one answered 202", sent)
	}
	// What an eavesdropper captured: the signed body and its signature.
	body := sent[0].Payload
	replay := func(id string) map[string]string {
		m := map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(body)}
		if id != "" {
			m["X-GitHub-Delivery"] = id
		}
		return m
	}
	other := []byte(`{"ref":"refs/heads/main","after":"b","repository":{"full_name":"acme/app"}}`)
	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
		want    int
	}{
		{"same body, same ID", body, replay(sent[0].ID), http.StatusConflict},
		{"same body, new ID", body, replay("new-id"), http.StatusConflict},
		{"same body, no ID", body, replay(""), http.StatusConflict},
		{"other body, new ID", other, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "o1", "X-Hub-Signature-256": sign(other)}, http.StatusAccepted},
	}
	for _, tt := range tests {
		if got := h.post(t, "/github", tt.body, tt.headers); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	generic := []byte(`{"repository":"acme/app","branch":"main","commit":"c1"}`)
	for i, want := range []int{http.StatusAccepted, http.StatusConflict} {
		if got := h.post(t, "/generic", generic, map[string]string{"X-Hub-Signature-256": sign(generic)}); got != want {
			t.Errorf("generic signed body, post %d: status %d, want %d", i+1, got, want)
		}
	}
	if n := len(trig.Calls()); n != 3 {
		t.Errorf("%d triggers, want 3 (the first push, the other body, the first generic post)", n)
	}
	clock.Step(DefaultReplayWindow + time.Second)
	if got := h.post(t, "/github", body, replay("later")); got != http.StatusAccepted {
		t.Errorf("same body after the replay window: status %d, want 202", got)
	}
}

// The replay cache forgets entries older than the window and holds at
// most its capacity, oldest first out.
func TestReplayCacheIsBounded(t *testing.T) {
	c := newReplayCache(3)
	t0 := time.Unix(0, 0)
	window := time.Minute
	for i, key := range []string{"a", "b", "c"} {
		if !c.add([]string{key}, t0.Add(time.Duration(i)*time.Second), window) {
			t.Fatalf("%s refused", key)
		}
	}
	if c.add([]string{"x", "b"}, t0.Add(3*time.Second), window) {
		t.Error("a delivery with one known key was accepted")
	}
	if !c.add([]string{"d"}, t0.Add(4*time.Second), window) || c.len() != 3 {
		t.Errorf("after a fourth key: %d entries, want 3", c.len())
	}
	if !c.add([]string{"a"}, t0.Add(5*time.Second), window) {
		t.Error("the oldest key was not evicted at capacity")
	}
	if !c.add([]string{"e"}, t0.Add(2*time.Minute), window) || c.len() != 1 {
		t.Errorf("after the window: %d entries, want 1", c.len())
	}
}

// An "artifact pushed" delivery is authenticated like a generic one
// (signature or token, replays refused) and hands the image, or the
// repository, to the artifact watch; a body naming nothing is refused.
func TestWebhookArtifactEndpoint(t *testing.T) {
	h := startWebhook(t, &countingTrigger{})
	image := []byte(`{"image":"111111111111.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.2.0"}`)
	repo := []byte(`{"repository":"shop/web","tag":"1.2.0"}`)
	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
		want    int
	}{
		{"signed image", image, map[string]string{"X-Hub-Signature-256": sign(image)}, http.StatusAccepted},
		{"replayed", image, map[string]string{"X-Hub-Signature-256": sign(image)}, http.StatusConflict},
		{"token and repository", repo, map[string]string{"X-Jibe-Token": hookSecret}, http.StatusAccepted},
		{"bad signature", repo, map[string]string{"X-Hub-Signature-256": sign(image)}, http.StatusForbidden},
		{"unsigned", repo, nil, http.StatusUnauthorized},
		{"names nothing", []byte(`{"tag":"1"}`), map[string]string{"X-Jibe-Token": hookSecret}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		if got := h.post(t, "/artifact", tt.body, tt.headers); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	h.mu.Lock()
	got := strings.Join(h.artifacts, " ")
	h.mu.Unlock()
	if want := "111111111111.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.2.0 shop/web"; got != want {
		t.Errorf("refs handed to the watch %q, want %q", got, want)
	}
}
