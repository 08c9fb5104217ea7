package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

const (
	repoFull  = "acme/app"
	botToken  = "ghp_jibe"
	directSHA = "abc1234def5678abc1234def5678abc1234def56"
)

// reviewFixture is an emulated GitHub with people in acme/app:
// dev (write, the usual author), bob (write), dave (write, team acme/sre),
// carol (read), tina (triage), mona (maintain) and stranger (no access).
type reviewFixture struct {
	emu    *githubemu.Emulator
	client *github.Client
	cond   *ConditionalTransport
	next   int // SHA counter
}

func newReviewFixture(t testing.TB) *reviewFixture {
	t.Helper()
	c := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	emu := githubemu.Start(t, githubemu.Options{Now: c.Now})
	if err := emu.AddRepo(repoFull); err != nil {
		t.Fatal(err)
	}
	emu.AddToken(botToken, "jibe-bot")
	for login, p := range map[string]githubemu.Permission{
		"dev": githubemu.PermissionWrite, "bob": githubemu.PermissionWrite, "dave": githubemu.PermissionWrite,
		"carol": githubemu.PermissionRead, "tina": githubemu.PermissionTriage, "mona": githubemu.PermissionMaintain,
	} {
		if err := emu.SetPermission(repoFull, login, p); err != nil {
			t.Fatal(err)
		}
	}
	emu.AddUser("stranger")
	emu.AddTeamMember("acme", "sre", "dave", githubemu.TeamMember)
	cond := NewConditionalTransport(nil, 0)
	return &reviewFixture{emu: emu, client: emuClient(t, emu, cond, botToken), cond: cond}
}

// emuClient returns a go-github client for the emulator with token, on
// transport.
func emuClient(t testing.TB, emu *githubemu.Emulator, transport http.RoundTripper, token string) *github.Client {
	t.Helper()
	c := github.NewClient(&http.Client{Transport: transport}).WithAuthToken(token)
	u, err := url.Parse(emu.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

func (f *reviewFixture) sha() string {
	f.next++
	return fmt.Sprintf("%02dc0ffee", f.next) + strings.Repeat("0", 32)
}

// pr is a pull request a case builds: opened by author, reviewed, pushed
// to after some reviews, then merged or not.
type pr struct {
	author  string
	reviews []review
	merge   mergeKind
}

type mergeKind int

const (
	open        mergeKind = iota
	mergeCommit           // merged; the merge commit is the revision
	rebased               // merged; the head is the revision
)

// review is a review, or a push when push is set.
type review struct {
	user    string
	state   githubemu.ReviewState
	dismiss bool
	push    bool
}

func approve(user string) review { return review{user: user, state: githubemu.ReviewApproved} }

// build opens, reviews and merges p, returning the deployed revision.
func (f *reviewFixture) build(t testing.TB, p pr, head string) string {
	t.Helper()
	ctx := t.Context()
	branch := "feature-" + head[len(head)-4:]
	n, err := f.emu.CreatePullRequest(ctx, repoFull, githubemu.NewPullRequest{Author: p.author, Head: branch, HeadSHA: head})
	if err != nil {
		t.Fatal(err)
	}
	for _, rv := range p.reviews {
		if rv.push {
			head = f.sha()
			if err := f.emu.Push(ctx, repoFull, githubemu.Push{Branch: branch, After: head, Pusher: p.author}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		id, err := f.emu.SubmitReview(ctx, repoFull, n, githubemu.Review{User: rv.user, State: rv.state})
		if err != nil {
			t.Fatal(err)
		}
		if rv.dismiss {
			if err := f.emu.DismissReview(ctx, repoFull, n, id, "acme"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if p.merge == open {
		return head
	}
	mergeSHA := f.sha()
	if err := f.emu.MergePullRequest(ctx, repoFull, n, "bob", mergeSHA); err != nil {
		t.Fatal(err)
	}
	if p.merge == rebased {
		return head // a fast-forward or rebase merge deploys the head
	}
	return mergeSHA
}

func TestEvaluate(t *testing.T) {
	sre := &spec.Approvers{Teams: []string{"acme/sre"}}
	sreOrWrite := &spec.Approvers{Teams: []string{"acme/sre"}, Permission: spec.PermissionWrite}
	for _, tc := range []struct {
		name   string
		pr     *pr // nil: the revision was pushed directly
		rule   spec.Approval
		want   bool
		reason string
	}{
		{
			name: "approval from a user with write permission",
			pr:   &pr{author: "dev", reviews: []review{approve("bob")}, merge: mergeCommit},
			want: true, reason: "approved by bob",
		},
		{
			name: "rebase merge: the head is the revision",
			pr:   &pr{author: "dev", reviews: []review{approve("bob")}, merge: rebased},
			want: true, reason: "approved by bob",
		},
		{
			name:   "the author's own approval",
			pr:     &pr{author: "dev", reviews: []review{approve("dev")}, merge: mergeCommit},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (dev: own pull request)",
		},
		{
			name:   "dismissed approval",
			pr:     &pr{author: "dev", reviews: []review{{user: "bob", state: githubemu.ReviewApproved, dismiss: true}}, merge: mergeCommit},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (bob: dismissed)",
		},
		{
			name:   "stale approval",
			pr:     &pr{author: "dev", reviews: []review{approve("bob"), {push: true}}, merge: mergeCommit},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (bob: stale, given before the last push)",
		},
		{
			name: "stale approval allowed",
			pr:   &pr{author: "dev", reviews: []review{approve("bob"), {push: true}}, merge: mergeCommit},
			rule: spec.Approval{AllowStaleReviews: true},
			want: true, reason: "approved by bob",
		},
		{
			name:   "approval from outside the team",
			pr:     &pr{author: "dev", reviews: []review{approve("bob")}, merge: mergeCommit},
			rule:   spec.Approval{From: sre},
			reason: "waiting for approval: 0 of 1 approving reviews from team acme/sre (bob: not in team acme/sre)",
		},
		{
			name: "approval from a team member",
			pr:   &pr{author: "dev", reviews: []review{approve("dave")}, merge: mergeCommit},
			rule: spec.Approval{From: sre},
			want: true, reason: "approved by dave",
		},
		{
			name:   "team or permission, neither met",
			pr:     &pr{author: "dev", reviews: []review{approve("carol")}, merge: mergeCommit},
			rule:   spec.Approval{From: sreOrWrite},
			reason: "waiting for approval: 0 of 1 approving reviews from team acme/sre or users with write permission (carol: not in team acme/sre, has read permission)",
		},
		{
			name:   "read permission below the default write",
			pr:     &pr{author: "dev", reviews: []review{approve("carol")}, merge: mergeCommit},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (carol: has read permission)",
		},
		{
			name:   "triage permission below write",
			pr:     &pr{author: "dev", reviews: []review{approve("tina")}, merge: mergeCommit},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (tina: has triage permission)",
		},
		{
			name: "triage permission when the rule asks for triage",
			pr:   &pr{author: "dev", reviews: []review{approve("tina")}, merge: mergeCommit},
			rule: spec.Approval{From: &spec.Approvers{Permission: spec.PermissionTriage}},
			want: true, reason: "approved by tina",
		},
		{
			name:   "write below maintain",
			pr:     &pr{author: "dev", reviews: []review{approve("bob")}, merge: mergeCommit},
			rule:   spec.Approval{From: &spec.Approvers{Permission: spec.PermissionMaintain}},
			reason: "waiting for approval: 0 of 1 approving reviews from users with maintain permission (bob: has write permission)",
		},
		{
			name: "maintain meets maintain",
			pr:   &pr{author: "dev", reviews: []review{approve("mona")}, merge: mergeCommit},
			rule: spec.Approval{From: &spec.Approvers{Permission: spec.PermissionMaintain}},
			want: true, reason: "approved by mona",
		},
		{
			name:   "no access at all",
			pr:     &pr{author: "dev", reviews: []review{approve("stranger")}, merge: mergeCommit},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (stranger: no permission)",
		},
		{
			name: "listed user whatever the permission",
			pr:   &pr{author: "dev", reviews: []review{approve("carol")}, merge: mergeCommit},
			rule: spec.Approval{From: &spec.Approvers{Users: []string{"Carol"}}},
			want: true, reason: "approved by carol",
		},
		{
			name:   "user not listed",
			pr:     &pr{author: "dev", reviews: []review{approve("bob")}, merge: mergeCommit},
			rule:   spec.Approval{From: &spec.Approvers{Users: []string{"carol", "mona"}}},
			reason: "waiting for approval: 0 of 1 approving reviews from carol, mona (bob: not listed)",
		},
		{
			name: "latest review wins: changes requested after approval",
			pr: &pr{author: "dev", reviews: []review{
				approve("bob"), {user: "bob", state: githubemu.ReviewChangesRequested},
			}, merge: mergeCommit},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (bob: changes requested)",
		},
		{
			name: "latest review wins: approval after changes requested",
			pr: &pr{author: "dev", reviews: []review{
				{user: "bob", state: githubemu.ReviewChangesRequested}, approve("bob"),
			}, merge: mergeCommit},
			want: true, reason: "approved by bob",
		},
		{
			name: "a comment does not cancel an approval",
			pr: &pr{author: "dev", reviews: []review{
				approve("bob"), {user: "bob", state: githubemu.ReviewCommented}, {user: "carol", state: githubemu.ReviewPending},
			}, merge: mergeCommit},
			want: true, reason: "approved by bob",
		},
		{
			name:   "two reviews required, one given",
			pr:     &pr{author: "dev", reviews: []review{approve("bob"), approve("bob")}, merge: mergeCommit},
			rule:   spec.Approval{Reviews: 2},
			reason: "waiting for approval: 1 of 2 approving reviews from users with write permission",
		},
		{
			name: "two reviews required, two given",
			pr:   &pr{author: "dev", reviews: []review{approve("bob"), approve("dev"), approve("dave")}, merge: mergeCommit},
			rule: spec.Approval{Reviews: 2},
			want: true, reason: "approved by bob, dave",
		},
		{
			name:   "direct push",
			reason: "waiting: no approved pull request for abc1234",
		},
		{
			name:   "approvals on an open pull request do not count for a direct push",
			pr:     &pr{author: "dev", reviews: []review{approve("bob")}},
			reason: "waiting: no approved pull request for 01c0ffe",
		},
		{
			name: "direct push approved later on a pull request containing it",
			pr:   &pr{author: "dev", reviews: []review{approve("bob")}},
			rule: spec.Approval{AllowLaterApproval: true},
			want: true, reason: "approved by bob",
		},
		{
			name:   "direct push allowed later approval, not approved yet",
			pr:     &pr{author: "dev", reviews: []review{approve("dev")}},
			rule:   spec.Approval{AllowLaterApproval: true},
			reason: "waiting for approval: 0 of 1 approving reviews from users with write permission (dev: own pull request)",
		},
		{
			name:   "direct push allowed later approval, no pull request",
			rule:   spec.Approval{AllowLaterApproval: true},
			reason: "waiting: no approved pull request for abc1234",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newReviewFixture(t)
			revision := directSHA
			if tc.pr != nil {
				revision = f.build(t, *tc.pr, f.sha())
			}
			got, err := NewApprovals(f.client).Evaluate(t.Context(), "acme", "app", revision, &tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			if got.Approved != tc.want || got.Reason != tc.reason {
				t.Fatalf("verdict = %v %q\nwant       %v %q", got.Approved, got.Reason, tc.want, tc.reason)
			}
		})
	}
}

// TestEvaluateUnchangedIsConditional checks that a gate polled with
// nothing changed makes only 304s, which GitHub does not count against
// the rate limit, and that a new review is seen at once. (A 404, as for a
// non-member of a team, has no ETag and is counted, here as on GitHub.)
func TestEvaluateUnchangedIsConditional(t *testing.T) {
	f := newReviewFixture(t)
	rule := &spec.Approval{Reviews: 2, From: &spec.Approvers{Teams: []string{"acme/sre"}, Permission: spec.PermissionMaintain}}
	revision := f.build(t, pr{author: "dev", reviews: []review{approve("dave"), approve("dev")}, merge: mergeCommit}, f.sha())
	a := NewApprovals(f.client)
	evaluate := func() reconcile.Verdict {
		t.Helper()
		v, err := a.Evaluate(t.Context(), "acme", "app", revision, rule)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const waiting = "waiting for approval: 1 of 2 approving reviews from team acme/sre or users with maintain permission (dev: own pull request)"
	if v := evaluate(); v.Reason != waiting {
		t.Fatalf("first reason = %q, want %q", v.Reason, waiting)
	}
	used := rateUsed(t, f)
	f.emu.ResetRequests()

	if v := evaluate(); v.Approved || v.Reason != waiting {
		t.Fatalf("second verdict = %v %q, want the first", v.Approved, v.Reason)
	}
	reqs := f.emu.Requests()
	if len(reqs) != 4 {
		t.Fatalf("second evaluation made %d requests, want pulls, reviews, dave's permission and membership", len(reqs))
	}
	for _, r := range reqs {
		if r.Status != http.StatusNotModified {
			t.Errorf("%s %s → %d, want 304", r.Method, r.Path, r.Status)
		}
	}
	if got := rateUsed(t, f); got != used {
		t.Errorf("rate limit used %d → %d over an unchanged evaluation", used, got)
	}

	if _, err := f.emu.SubmitReview(t.Context(), repoFull, 1, githubemu.Review{User: "mona", State: githubemu.ReviewApproved}); err != nil {
		t.Fatal(err)
	}
	if v := evaluate(); !v.Approved || v.Reason != "approved by dave, mona" {
		t.Fatalf("after mona's approval: %v %q, want approved by dave, mona", v.Approved, v.Reason)
	}
}

// rateUsed returns the core requests used by the bot, read without
// counting.
func rateUsed(t testing.TB, f *reviewFixture) int {
	t.Helper()
	limits, _, err := f.client.RateLimit.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return limits.GetCore().Limit - limits.GetCore().Remaining
}

func TestEvaluateErrorsCarryRetryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(f *reviewFixture) (*github.Client, string)
		policy reconcile.Policy
		says   string
	}{
		{
			name:   "repository not visible",
			break_: func(f *reviewFixture) (*github.Client, string) { return f.client, "ghost" },
			policy: reconcile.PolicyStall, says: "cannot see repository acme/ghost",
		},
		{
			name: "bad credentials",
			break_: func(f *reviewFixture) (*github.Client, string) {
				return emuClient(t, f.emu, http.DefaultTransport, "ghp_revoked"), "app"
			},
			policy: reconcile.PolicyStall, says: "check the token's permissions (pull requests: read, and members: read for team approvers)",
		},
		{
			name: "rate limited",
			break_: func(f *reviewFixture) (*github.Client, string) {
				f.emu.SetRateLimit(0)
				return f.client, "app"
			},
			policy: reconcile.PolicyBackoff, says: "rate limit",
		},
		{
			name: "server error",
			break_: func(f *reviewFixture) (*github.Client, string) {
				f.emu.InjectFault(githubemu.Fault{Path: "/repos/acme/app/pulls/*/reviews", Status: http.StatusBadGateway})
				return f.client, "app"
			},
			policy: reconcile.PolicyBackoff, says: "502",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newReviewFixture(t)
			revision := f.build(t, pr{author: "dev", reviews: []review{approve("bob")}, merge: mergeCommit}, f.sha())
			client, repo := tc.break_(f)
			_, err := NewApprovals(client).Evaluate(context.Background(), "acme", repo, revision, &spec.Approval{})
			if got := reconcile.PolicyOf(err); got != tc.policy || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v (policy %s), want policy %s saying %q", err, got, tc.policy, tc.says)
			}
			if strings.Contains(err.Error(), "ghp_") {
				t.Fatalf("error %q shows a token", err)
			}
			var stalled *reconcile.StalledError
			if tc.policy == reconcile.PolicyStall && !errors.As(err, &stalled) {
				t.Fatalf("err = %T, want a *reconcile.StalledError", err)
			}
		})
	}
}

// BenchmarkEvaluateWaitingGate measures what a waiting gate costs at each
// poll when nothing changed: with the conditional transport every request
// is a 304, which costs no rate limit. It reports requests and rate limit
// used per evaluation.
func BenchmarkEvaluateWaitingGate(b *testing.B) {
	f := newReviewFixture(b)
	rule := &spec.Approval{Reviews: 2, From: &spec.Approvers{Teams: []string{"acme/sre"}, Permission: spec.PermissionMaintain}}
	revision := f.build(b, pr{author: "dev", reviews: []review{approve("dave"), approve("dev")}, merge: mergeCommit}, f.sha())
	a := NewApprovals(f.client)
	if _, err := a.Evaluate(b.Context(), "acme", "app", revision, rule); err != nil {
		b.Fatal(err)
	}
	used := rateUsed(b, f)
	f.emu.ResetRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Evaluate(b.Context(), "acme", "app", revision, rule); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(f.emu.Requests()))/float64(b.N), "requests/op")
	b.ReportMetric(float64(rateUsed(b, f)-used)/float64(b.N), "ratelimit/op")
}
