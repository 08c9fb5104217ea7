package githubemu_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/internal/githubemu"
)

// openPR opens a pull request from feature at shaA into main.
func openPR(t *testing.T, e *githubemu.Emulator) int {
	t.Helper()
	n, err := e.CreatePullRequest(t.Context(), fullName, githubemu.NewPullRequest{
		Title: "Scale web", Author: "dev", Head: "feature", HeadSHA: shaA,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func submit(t *testing.T, e *githubemu.Emulator, n int, login string, state githubemu.ReviewState) int64 {
	t.Helper()
	id, err := e.SubmitReview(t.Context(), fullName, n, githubemu.Review{User: login, State: state})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestReviewsChronologicalWithDismissal(t *testing.T) {
	e := setup(t, githubemu.Options{})
	if err := e.SetPermission(fullName, "alice", githubemu.PermissionWrite); err != nil {
		t.Fatal(err)
	}
	n := openPR(t, e)
	submit(t, e, n, "alice", githubemu.ReviewChangesRequested)
	submit(t, e, n, "bob", githubemu.ReviewCommented)
	approval := submit(t, e, n, "alice", githubemu.ReviewApproved)
	submit(t, e, n, "carol", githubemu.ReviewPending)
	c := client(t, e, botToken)
	ctx := t.Context()

	reviews, _, err := c.PullRequests.ListReviews(ctx, owner, repoName, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range reviews {
		states = append(states, r.GetUser().GetLogin()+":"+r.GetState())
	}
	if got, want := states, []string{"alice:CHANGES_REQUESTED", "bob:COMMENTED", "alice:APPROVED"}; !slices.Equal(got, want) {
		t.Fatalf("reviews = %v, want %v (pending hidden from others)", got, want)
	}
	last := reviews[2]
	if last.GetCommitID() != shaA || last.GetSubmittedAt().IsZero() || last.GetAuthorAssociation() != "COLLABORATOR" {
		t.Fatalf("approval = commit %q submitted %v association %q, want %s, set, COLLABORATOR",
			last.GetCommitID(), last.GetSubmittedAt(), last.GetAuthorAssociation(), shaA)
	}

	e.AddToken("ghp_carol", "carol")
	own, _, err := client(t, e, "ghp_carol").PullRequests.ListReviews(ctx, owner, repoName, n, nil)
	if err != nil || len(own) != 4 || own[3].GetState() != "PENDING" || own[3].SubmittedAt != nil {
		t.Fatalf("carol's view: %d reviews, err %v; want her pending review last without submitted_at", len(own), err)
	}

	dismissed, _, err := c.PullRequests.DismissReview(ctx, owner, repoName, n, approval,
		&github.PullRequestReviewDismissalRequest{Message: github.String("new commits pushed")})
	if err != nil || dismissed.GetState() != "DISMISSED" {
		t.Fatalf("dismiss approval: %v %v, want DISMISSED", dismissed.GetState(), err)
	}
	reviews, _, _ = c.PullRequests.ListReviews(ctx, owner, repoName, n, nil)
	if got := reviews[2].GetState(); got != "DISMISSED" {
		t.Fatalf("listed approval state = %q after dismissal, want DISMISSED", got)
	}
	_, _, err = c.PullRequests.DismissReview(ctx, owner, repoName, n, reviews[1].GetID(),
		&github.PullRequestReviewDismissalRequest{Message: github.String("x")})
	errorResponse(t, err, 422)
}

func TestPullRequestsForCommitAndMerge(t *testing.T) {
	e := setup(t, githubemu.Options{})
	n := openPR(t, e)
	c := client(t, e, botToken)
	ctx := t.Context()
	if err := e.Push(ctx, fullName, githubemu.Push{Branch: "feature", After: shaB, Pusher: "dev"}); err != nil {
		t.Fatal(err)
	}

	for _, sha := range []string{shaA, shaB} {
		prs, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx, owner, repoName, sha, nil)
		if err != nil || len(prs) != 1 || prs[0].GetNumber() != n {
			t.Fatalf("pulls for %s: %d, %v; want #%d", sha[:4], len(prs), err, n)
		}
		if prs[0].Merged != nil {
			t.Fatalf("list items carry merged = %v; GitHub's list shape has no merged field", *prs[0].Merged)
		}
	}
	pr, _, err := c.PullRequests.Get(ctx, owner, repoName, n)
	if err != nil || pr.GetHead().GetSHA() != shaB || pr.GetMerged() || pr.GetState() != "open" || pr.GetUser().GetLogin() != "dev" {
		t.Fatalf("open PR = head %q merged %v state %q user %q, %v", pr.GetHead().GetSHA(), pr.GetMerged(), pr.GetState(), pr.GetUser().GetLogin(), err)
	}

	if err := e.MergePullRequest(ctx, fullName, n, "alice", shaM); err != nil {
		t.Fatal(err)
	}
	pr, _, err = c.PullRequests.Get(ctx, owner, repoName, n)
	if err != nil || !pr.GetMerged() || pr.GetMergeCommitSHA() != shaM || pr.GetMergedBy().GetLogin() != "alice" ||
		pr.GetState() != "closed" || pr.GetMergedAt().IsZero() || pr.GetBase().GetRef() != "main" {
		t.Fatalf("merged PR = %+v, %v", pr, err)
	}
	prs, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx, owner, repoName, shaM, nil)
	if err != nil || len(prs) != 1 {
		t.Fatalf("pulls for the merge commit: %d, %v; want 1", len(prs), err)
	}
	if err := e.MergePullRequest(ctx, fullName, n, "alice", shaM); err == nil {
		t.Fatal("merging a merged pull request succeeded")
	}
	_, _, err = c.PullRequests.Get(ctx, owner, repoName, 99)
	errorResponse(t, err, 404)
	if _, err := e.SubmitReview(ctx, fullName, 99, githubemu.Review{User: "x"}); !errors.Is(err, githubemu.ErrNotFound) {
		t.Fatalf("review on a missing PR: %v, want ErrNotFound", err)
	}
}

func TestPlanCommentUpdatedInPlace(t *testing.T) {
	e := setup(t, githubemu.Options{})
	n := openPR(t, e)
	c := client(t, e, botToken)
	ctx := t.Context()

	created, resp, err := c.Issues.CreateComment(ctx, owner, repoName, n, &github.IssueComment{Body: github.String("plan v1")})
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create comment: %v", err)
	}
	edited, _, err := c.Issues.EditComment(ctx, owner, repoName, created.GetID(), &github.IssueComment{Body: github.String("plan v2")})
	if err != nil || edited.GetBody() != "plan v2" || edited.GetID() != created.GetID() {
		t.Fatalf("edit comment: %v %v", edited, err)
	}
	list, _, err := c.Issues.ListComments(ctx, owner, repoName, n, nil)
	if err != nil || len(list) != 1 || list[0].GetBody() != "plan v2" || list[0].GetUser().GetLogin() != "jibe-bot" {
		t.Fatalf("comments = %v, %v; want one updated comment by jibe-bot", list, err)
	}

	e.AddToken("ghp_reader", "reader")
	if err := e.SetPermission(fullName, "reader", githubemu.PermissionRead); err != nil {
		t.Fatal(err)
	}
	_, _, err = client(t, e, "ghp_reader").Issues.EditComment(ctx, owner, repoName, created.GetID(), &github.IssueComment{Body: github.String("hijack")})
	errorResponse(t, err, 403)
	_, _, err = c.Issues.CreateComment(ctx, owner, repoName, n, &github.IssueComment{Body: github.String("")})
	errorResponse(t, err, 422)
	if got := e.Comments(fullName, n); len(got) != 1 || got[0].Body != "plan v2" {
		t.Fatalf("stored comments = %+v", got)
	}
}

func TestPermissionsAndTeamMembership(t *testing.T) {
	e := setup(t, githubemu.Options{})
	c := client(t, e, botToken)
	ctx := t.Context()
	for login, p := range map[string]githubemu.Permission{
		"admin1": githubemu.PermissionAdmin, "maint": githubemu.PermissionMaintain,
		"writer": githubemu.PermissionWrite, "triager": githubemu.PermissionTriage,
	} {
		if err := e.SetPermission(fullName, login, p); err != nil {
			t.Fatal(err)
		}
	}
	e.AddUser("stranger")
	for login, want := range map[string]string{
		"acme": "admin", "admin1": "admin", "maint": "write", "writer": "write", "triager": "read", "stranger": "none",
	} {
		got, _, err := c.Repositories.GetPermissionLevel(ctx, owner, repoName, login)
		if err != nil || got.GetPermission() != want || got.GetUser().GetLogin() != login {
			t.Errorf("permission of %s = %q (%v), want %q", login, got.GetPermission(), err, want)
		}
	}
	_, _, err := c.Repositories.GetPermissionLevel(ctx, owner, repoName, "ghost")
	errorResponse(t, err, 404)
	if ok, _, err := c.Repositories.IsCollaborator(ctx, owner, repoName, "writer"); !ok || err != nil {
		t.Errorf("writer is collaborator = %v, %v", ok, err)
	}
	if ok, _, _ := c.Repositories.IsCollaborator(ctx, owner, repoName, "stranger"); ok {
		t.Error("stranger is a collaborator")
	}

	e.AddTeamMember(owner, "deployers", "alice", githubemu.TeamMaintainer)
	m, _, err := c.Teams.GetTeamMembershipBySlug(ctx, owner, "deployers", "alice")
	if err != nil || m.GetRole() != "maintainer" || m.GetState() != "active" {
		t.Fatalf("alice's membership = %v, %v; want active maintainer", m, err)
	}
	_, _, err = c.Teams.GetTeamMembershipBySlug(ctx, owner, "deployers", "writer")
	errorResponse(t, err, 404)
	_, _, err = c.Teams.GetTeamMembershipBySlug(ctx, owner, "no-team", "alice")
	errorResponse(t, err, 404)
}

// GitHub refuses comment bodies over 65,536 characters (counted as
// characters, not bytes) with a 422, on create and edit, in the shape it
// has answered since 2021 (field "data", code "unprocessable").
func TestCommentBodyLongerThanGitHubAllowsIsRefused(t *testing.T) {
	e := setup(t, githubemu.Options{})
	n := openPR(t, e)
	c := client(t, e, botToken)
	ctx := t.Context()

	longest := strings.Repeat("é", 65536)
	created, _, err := c.Issues.CreateComment(ctx, owner, repoName, n, &github.IssueComment{Body: &longest})
	if err != nil {
		t.Fatalf("comment of 65,536 characters: %v", err)
	}
	tooLong := longest + "x"
	for name, call := range map[string]func() error{
		"create": func() error {
			_, _, err := c.Issues.CreateComment(ctx, owner, repoName, n, &github.IssueComment{Body: &tooLong})
			return err
		},
		"edit": func() error {
			_, _, err := c.Issues.EditComment(ctx, owner, repoName, created.GetID(), &github.IssueComment{Body: &tooLong})
			return err
		},
	} {
		er := errorResponse(t, call(), 422)
		if er.Message != "Validation Failed" || len(er.Errors) != 1 || er.Errors[0].Resource != "IssueComment" ||
			er.Errors[0].Code != "unprocessable" || er.Errors[0].Field != "data" ||
			er.Errors[0].Message != "Body is too long (maximum is 65536 characters)" ||
			!strings.HasPrefix(er.DocumentationURL, "https://docs.github.com/rest/issues/comments#") {
			t.Errorf("%s: %+v; want Validation Failed naming the maximum", name, er)
		}
	}
	if got := e.Comments(fullName, n); len(got) != 1 || got[0].Body != longest {
		t.Fatalf("stored comments changed: %d", len(got))
	}
}
