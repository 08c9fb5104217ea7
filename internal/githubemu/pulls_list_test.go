package githubemu_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

func TestListPullRequestsFilters(t *testing.T) {
	e := setup(t, githubemu.Options{})
	ctx := t.Context()
	mustOpen := func(head, base string) int {
		t.Helper()
		if err := e.SetBranch(fullName, "release", shaB); err != nil {
			t.Fatal(err)
		}
		n, err := e.CreatePullRequest(ctx, fullName, githubemu.NewPullRequest{Author: "dev", Head: head, HeadSHA: shaA, Base: base})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	one, two, three := mustOpen("f1", ""), mustOpen("f2", "release"), mustOpen("f3", "")
	if err := e.MergePullRequest(ctx, fullName, three, "alice", shaM); err != nil {
		t.Fatal(err)
	}
	c := client(t, e, botToken)

	for _, tc := range []struct {
		name string
		opts github.PullRequestListOptions
		want []int
	}{
		{"default is open, newest first", github.PullRequestListOptions{}, []int{two, one}},
		{"base", github.PullRequestListOptions{Base: "main"}, []int{one}},
		{"closed", github.PullRequestListOptions{State: "closed"}, []int{three}},
		{"all ascending", github.PullRequestListOptions{State: "all", Direction: "asc"}, []int{one, two, three}},
		{"head user:ref", github.PullRequestListOptions{Head: "acme:f2"}, []int{two}},
		{"head of another user", github.PullRequestListOptions{Head: "someone:f2"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prs, _, err := c.PullRequests.List(ctx, owner, repoName, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, p := range prs {
				got = append(got, p.GetNumber())
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("numbers = %v, want %v", got, tc.want)
			}
		})
	}
	_, _, err := c.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{State: "merged"})
	errorResponse(t, err, 422)
}

func TestListPullRequestsPaginatesAndRevalidates(t *testing.T) {
	e := setup(t, githubemu.Options{})
	for range 3 {
		openPR(t, e)
	}
	c := client(t, e, botToken)
	opts := &github.PullRequestListOptions{ListOptions: github.ListOptions{PerPage: 2}}
	var got []int
	for {
		prs, resp, err := c.PullRequests.List(t.Context(), owner, repoName, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prs {
			got = append(got, p.GetNumber())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if want := []int{3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("paginated numbers = %v, want %v", got, want)
	}

	first := rawGet(t, e, "/repos/acme/app/pulls", "token "+botToken)
	again := conditionalGet(t, e, "/repos/acme/app/pulls", first.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidating the list: %d, want 304", again.StatusCode)
	}
}

// TestConditionalRequestsOnPolledEndpoints covers the endpoints an approval
// gate polls every minute: an unchanged answer is a 304 that does not count
// against the rate limit, and a change gives a new ETag.
func TestConditionalRequestsOnPolledEndpoints(t *testing.T) {
	e := setup(t, githubemu.Options{})
	n := openPR(t, e)
	submit(t, e, n, "alice", githubemu.ReviewApproved)
	if err := e.SetPermission(fullName, "alice", githubemu.PermissionWrite); err != nil {
		t.Fatal(err)
	}
	e.AddTeamMember(owner, "sre", "alice", githubemu.TeamMember)
	if _, _, err := client(t, e, botToken).Issues.CreateComment(t.Context(), owner, repoName, n, &github.IssueComment{Body: github.String("plan")}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/repos/acme/app/commits/" + shaA + "/pulls",
		"/repos/acme/app/pulls/1/reviews",
		"/repos/acme/app/collaborators/alice/permission",
		"/orgs/acme/teams/sre/memberships/alice",
		"/repos/acme/app/issues/1/comments",
		"/repos/acme/app/pulls?state=open&base=main",
	} {
		t.Run(path, func(t *testing.T) {
			first := rawGet(t, e, path, "token "+botToken)
			tag := first.Header.Get("ETag")
			if first.StatusCode != http.StatusOK || tag == "" {
				t.Fatalf("first GET: %d with ETag %q, want 200 with an ETag", first.StatusCode, tag)
			}
			used := first.Header.Get("X-RateLimit-Used")
			again := conditionalGet(t, e, path, tag)
			if again.StatusCode != http.StatusNotModified || again.Header.Get("X-RateLimit-Used") != used {
				t.Fatalf("revalidation: %d, used %s → %s; want an uncounted 304",
					again.StatusCode, used, again.Header.Get("X-RateLimit-Used"))
			}
		})
	}
	tag := rawGet(t, e, "/repos/acme/app/pulls/1/reviews", "token "+botToken).Header.Get("ETag")
	submit(t, e, n, "bob", githubemu.ReviewApproved)
	if got := conditionalGet(t, e, "/repos/acme/app/pulls/1/reviews", tag).StatusCode; got != http.StatusOK {
		t.Fatalf("reviews after a new review: %d, want 200", got)
	}
}

func TestApprovalAfterMerge(t *testing.T) {
	e := setup(t, githubemu.Options{})
	n := openPR(t, e)
	if err := e.MergePullRequest(t.Context(), fullName, n, "alice", shaM); err != nil {
		t.Fatal(err)
	}
	submit(t, e, n, "alice", githubemu.ReviewApproved)
	reviews, _, err := client(t, e, botToken).PullRequests.ListReviews(t.Context(), owner, repoName, n, nil)
	if err != nil || len(reviews) != 1 || reviews[0].GetState() != "APPROVED" || reviews[0].GetCommitID() != shaA {
		t.Fatalf("reviews of the merged PR = %v, %v; want alice's approval of the head %s", reviews, err, shaA)
	}
}

// conditionalGet performs a GET as the bot with If-None-Match: etag.
func conditionalGet(t *testing.T, e *githubemu.Emulator, path, etag string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+botToken)
	req.Header.Set("If-None-Match", etag)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
