package githubemu_test

import (
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
	"github.com/jibe-dev/jibe/internal/testenv/gitserver"
)

func newPull(title, head, base string) *github.NewPullRequest {
	return &github.NewPullRequest{Title: &title, Head: &head, Base: &base, Body: github.String("body")}
}

func TestCreatePullRequestThroughTheAPI(t *testing.T) {
	e := setup(t, githubemu.Options{})
	e.SetBranch(fullName, "main", shaA)
	e.SetBranch(fullName, "jibe/bump/web", shaB)
	c := client(t, e, botToken)
	ctx := t.Context()

	pr, resp, err := c.PullRequests.Create(ctx, owner, repoName, newPull("Bump web", "acme:jibe/bump/web", "main"))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v", err)
	}
	if pr.GetHead().GetSHA() != shaB || pr.GetBase().GetRef() != "main" || pr.GetUser().GetLogin() != "jibe-bot" || pr.GetBody() != "body" {
		t.Fatalf("created %+v", pr)
	}
	_, _, err = c.PullRequests.Create(ctx, owner, repoName, newPull("Again", "jibe/bump/web", "main"))
	if er := errorResponse(t, err, http.StatusUnprocessableEntity); er.Errors[0].Message != "A pull request already exists for acme:jibe/bump/web." {
		t.Fatalf("duplicate: %+v", er.Errors)
	}
	_, _, err = c.PullRequests.Create(ctx, owner, repoName, newPull("Missing", "no-such-branch", "main"))
	if er := errorResponse(t, err, http.StatusUnprocessableEntity); er.Errors[0].Field != "head" {
		t.Fatalf("missing head: %+v", er.Errors)
	}
	list, _, err := c.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{Head: "acme:jibe/bump/web", State: "open"})
	if err != nil || len(list) != 1 || list[0].GetNumber() != pr.GetNumber() {
		t.Fatalf("list by head: %v %v", list, err)
	}
}

func TestUpdateCloseAndReopenAPullRequest(t *testing.T) {
	e := setup(t, githubemu.Options{})
	e.SetBranch(fullName, "main", shaA)
	e.SetBranch(fullName, "topic", shaB)
	c := client(t, e, botToken)
	ctx := t.Context()
	pr, _, err := c.PullRequests.Create(ctx, owner, repoName, newPull("One", "topic", "main"))
	if err != nil {
		t.Fatal(err)
	}
	n := pr.GetNumber()
	pr, _, err = c.PullRequests.Edit(ctx, owner, repoName, n, &github.PullRequest{Title: github.String("Two"), Body: github.String("new")})
	if err != nil || pr.GetTitle() != "Two" || pr.GetBody() != "new" {
		t.Fatalf("edit: %v %v", pr, err)
	}
	pr, _, err = c.PullRequests.Edit(ctx, owner, repoName, n, &github.PullRequest{State: github.String("closed")})
	if err != nil || pr.GetState() != "closed" {
		t.Fatalf("close: %v %v", pr.GetState(), err)
	}
	if _, _, err := c.PullRequests.Create(ctx, owner, repoName, newPull("Three", "topic", "main")); err != nil {
		t.Fatalf("a closed pull request must not block a new one: %v", err)
	}
	_, _, err = c.PullRequests.Edit(ctx, owner, repoName, n, &github.PullRequest{State: github.String("open")})
	errorResponse(t, err, http.StatusUnprocessableEntity)

	e.AddUser("stranger")
	e.AddToken("ghp_stranger", "stranger")
	_, _, err = client(t, e, "ghp_stranger").PullRequests.Edit(ctx, owner, repoName, n, &github.PullRequest{Title: github.String("x")})
	errorResponse(t, err, http.StatusForbidden)
}

func TestMergeFollowsBranchProtection(t *testing.T) {
	e := setup(t, githubemu.Options{})
	e.SetBranch(fullName, "main", shaA)
	e.SetBranch(fullName, "topic", shaB)
	if err := e.ProtectBranch(fullName, "main", githubemu.BranchProtection{RequiredApprovals: 1}); err != nil {
		t.Fatal(err)
	}
	e.SetPermission(fullName, "jibe-bot", githubemu.PermissionWrite)
	e.SetPermission(fullName, "alice", githubemu.PermissionWrite)
	c := client(t, e, botToken)
	ctx := t.Context()
	pr, _, err := c.PullRequests.Create(ctx, owner, repoName, newPull("One", "topic", "main"))
	if err != nil {
		t.Fatal(err)
	}
	n := pr.GetNumber()
	_, _, err = c.PullRequests.Merge(ctx, owner, repoName, n, "", nil)
	if er := errorResponse(t, err, http.StatusMethodNotAllowed); er.Message != "At least 1 approving review is required by reviewers with write access." {
		t.Fatalf("unapproved merge: %q", er.Message)
	}
	if _, err := e.SubmitReview(ctx, fullName, n, githubemu.Review{User: "alice", State: githubemu.ReviewApproved}); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.PullRequests.Merge(ctx, owner, repoName, n, "", &github.PullRequestOptions{SHA: shaA})
	errorResponse(t, err, http.StatusConflict)
	res, _, err := c.PullRequests.Merge(ctx, owner, repoName, n, "", &github.PullRequestOptions{SHA: shaB})
	if err != nil || !res.GetMerged() {
		t.Fatalf("approved merge: %v %v", res, err)
	}
	got, _ := e.PullRequest(fullName, n)
	if !got.Merged || got.Open || got.MergeCommitSHA != res.GetSHA() {
		t.Fatalf("after merge: %+v", got)
	}
	_, _, err = c.PullRequests.Merge(ctx, owner, repoName, n, "", nil)
	errorResponse(t, err, http.StatusMethodNotAllowed)
}

func TestLinkedGitRepository(t *testing.T) {
	e := setup(t, githubemu.Options{})
	e.SetPermission(fullName, "jibe-bot", githubemu.PermissionWrite)
	srv := gitserver.New(t)
	srv.CreateRepo("app")
	repo := srv.Repo("app")
	base := repo.Commit(gitserver.Commit{Files: map[string]string{"jibe.yaml": "a: 1\n"}})
	first := repo.Commit(gitserver.Commit{Branch: "topic", Parent: base, Files: map[string]string{"jibe.yaml": "a: 2\n"}})
	if err := e.LinkGit(fullName, repo); err != nil {
		t.Fatal(err)
	}
	c := client(t, e, botToken)
	ctx := t.Context()
	pr, _, err := c.PullRequests.Create(ctx, owner, repoName, newPull("One", "topic", "main"))
	if err != nil {
		t.Fatal(err)
	}
	refs, _ := repo.Branches()
	if pr.GetHead().GetSHA() != first || refs["topic"] != first {
		t.Fatalf("head %s, want %s", pr.GetHead().GetSHA(), first)
	}
	if got := gitRef(t, repo, "refs/pull/1/head"); got != first {
		t.Fatalf("refs/pull/1/head = %s, want %s", got, first)
	}

	second := repo.Commit(gitserver.Commit{Branch: "topic", Files: map[string]string{"jibe.yaml": "a: 3\n"}})
	if err := e.SyncGit(ctx, fullName); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.PullRequest(fullName, 1); got.HeadSHA != second {
		t.Fatalf("head after a push = %s, want %s", got.HeadSHA, second)
	}
	if got := gitRef(t, repo, "refs/pull/1/head"); got != second {
		t.Fatalf("refs/pull/1/head after a push = %s, want %s", got, second)
	}
	res, _, err := c.PullRequests.Merge(ctx, owner, repoName, 1, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if repo.Head("main") != res.GetSHA() {
		t.Fatalf("main = %s, want the merge commit %s", repo.Head("main"), res.GetSHA())
	}
}

// gitRef returns where ref points in the repository.
func gitRef(t *testing.T, repo *gitserver.Repo, ref string) string {
	t.Helper()
	sha, err := repo.Ref(ref)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}
