package githubemu_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

// receiver is a webhook endpoint that validates signatures like Jibe must.
type receiver struct {
	secret []byte
	mu     sync.Mutex
	events []any
	kinds  []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	payload, err := github.ValidatePayload(r, rc.secret)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	ev, err := github.ParseWebHook(github.WebHookType(r), payload)
	if err != nil || r.Header.Get("X-GitHub-Delivery") == "" {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.events = append(rc.events, ev)
	rc.kinds = append(rc.kinds, github.WebHookType(r))
	w.WriteHeader(http.StatusNoContent)
}

// received returns the event kinds and parsed events so far.
func (rc *receiver) received() ([]string, []any) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.kinds...), append([]any(nil), rc.events...)
}

func TestWebhooksAreSignedAndShapedLikeGitHub(t *testing.T) {
	e := setup(t, githubemu.Options{})
	rc := &receiver{secret: []byte("s3cret")}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	e.AddWebhook(fullName, srv.URL, "s3cret")
	ctx := t.Context()

	n := openPR(t, e)
	id := submit(t, e, n, "alice", githubemu.ReviewApproved)
	if err := e.DismissReview(ctx, fullName, n, id, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := e.Push(ctx, fullName, githubemu.Push{Branch: "feature", After: shaB, Pusher: "dev",
		Commits: []githubemu.PushCommit{{SHA: shaB, Message: "bump", Author: "dev", Modified: []string{"app.yaml"}}}}); err != nil {
		t.Fatal(err)
	}

	kinds, events := rc.received()
	want := []string{"pull_request", "pull_request_review", "pull_request_review", "push", "pull_request"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("delivered %v, want %v", kinds, want)
	}
	opened := events[0].(*github.PullRequestEvent)
	if opened.GetAction() != "opened" || opened.GetPullRequest().GetHead().GetSHA() != shaA || opened.GetRepo().GetFullName() != fullName {
		t.Errorf("opened event = %v", opened)
	}
	submitted := events[1].(*github.PullRequestReviewEvent)
	if submitted.GetAction() != "submitted" || submitted.GetReview().GetState() != "approved" ||
		submitted.GetReview().GetUser().GetLogin() != "alice" || submitted.GetPullRequest().GetNumber() != n {
		t.Errorf("submitted event = action %q state %q", submitted.GetAction(), submitted.GetReview().GetState())
	}
	if ev := events[2].(*github.PullRequestReviewEvent); ev.GetAction() != "dismissed" || ev.GetReview().GetState() != "dismissed" {
		t.Errorf("dismissed event = action %q state %q", ev.GetAction(), ev.GetReview().GetState())
	}
	push := events[3].(*github.PushEvent)
	if push.GetRef() != "refs/heads/feature" || push.GetBefore() != shaA || push.GetAfter() != shaB ||
		push.GetHeadCommit().GetID() != shaB || len(push.Commits) != 1 || push.GetRepo().GetFullName() != fullName {
		t.Errorf("push event = ref %q %s..%s", push.GetRef(), push.GetBefore(), push.GetAfter())
	}
	if ev := events[4].(*github.PullRequestEvent); ev.GetAction() != "synchronize" || ev.GetPullRequest().GetHead().GetSHA() != shaB {
		t.Errorf("synchronize event = %q head %q", ev.GetAction(), ev.GetPullRequest().GetHead().GetSHA())
	}
	for _, d := range e.Deliveries() {
		if d.Status != http.StatusNoContent {
			t.Errorf("delivery %s of %s: status %d err %q, want 204", d.ID, d.Event, d.Status, d.Err)
		}
	}
}

func TestWebhookWithWrongSecretFailsValidation(t *testing.T) {
	e := setup(t, githubemu.Options{})
	srv := httptest.NewServer(&receiver{secret: []byte("expected")})
	t.Cleanup(srv.Close)
	e.AddWebhook(fullName, srv.URL, "other", githubemu.EventPullRequest)

	openPR(t, e)
	ds := e.Deliveries()
	if len(ds) != 1 || ds[0].Status != http.StatusUnauthorized {
		t.Fatalf("deliveries = %+v, want one rejected with 401", ds)
	}
}

func TestAppWebhookNamesTheInstallation(t *testing.T) {
	e := setup(t, githubemu.Options{})
	if err := e.AddRepo("other/repo"); err != nil {
		t.Fatal(err)
	}
	app, inst := appSetup(t, e)
	rc := &receiver{secret: []byte("app-secret")}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	if _, err := e.AddAppWebhook(app.ID, srv.URL, "app-secret", githubemu.EventPullRequest); err != nil {
		t.Fatal(err)
	}

	openPR(t, e)
	if _, err := e.CreatePullRequest(t.Context(), "other/repo", githubemu.NewPullRequest{Author: "x", Head: "f", HeadSHA: shaB}); err != nil {
		t.Fatal(err)
	}
	_, events := rc.received()
	if len(events) != 1 {
		t.Fatalf("app received %d events, want 1 (only from the account it is installed on)", len(events))
	}
	if got := events[0].(*github.PullRequestEvent).GetInstallation().GetID(); got != inst {
		t.Fatalf("installation.id = %d, want %d", got, inst)
	}
}

func TestFaultInjectionAndRequestLog(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	e.InjectFault(githubemu.Fault{Method: "POST", Path: "/repos/*/*/statuses/*", Times: 2, Status: 502})

	for range 2 {
		_, _, err := createStatus(t.Context(), c, shaA, "pending", "jibe", "")
		errorResponse(t, err, 502)
	}
	mustCreateStatus(t, c, shaA, "pending", "jibe")
	if got := e.CountRequests("POST", "/repos/*/*/statuses/*"); got != 3 {
		t.Fatalf("logged %d status posts, want 3", got)
	}
	if got := len(e.Statuses(fullName, shaA)); got != 1 {
		t.Fatalf("stored %d statuses, want 1 (faulted requests have no effect)", got)
	}
	reqs := e.Requests()
	if last := reqs[len(reqs)-1]; last.Status != 201 || last.Identity != "jibe-bot" {
		t.Fatalf("last request = %+v, want 201 by jibe-bot", last)
	}
}
