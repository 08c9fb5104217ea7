package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// pageSize is the page size of list requests: GitHub's maximum.
const pageSize = 100

// newEvaluation starts an evaluation of rule on owner/repo.
func newEvaluation(client *github.Client, owner, repo string, rule *spec.Approval) *evaluation {
	return &evaluation{
		client: client, owner: owner, repo: repo, rule: normalize(rule),
		teams: map[string]bool{}, perms: map[string]spec.Permission{},
	}
}

// evaluation is one Evaluate call: the API reads it makes, with answers
// about people remembered for the call's duration.
type evaluation struct {
	client      *github.Client
	owner, repo string
	rule        *spec.Approval
	teams       map[string]bool            // lowercased "org/slug\x00login" → active member
	perms       map[string]spec.Permission // lowercased login → permission
}

// pullsWithCommit lists the pull requests containing sha, every page.
func (ev *evaluation) pullsWithCommit(ctx context.Context, sha string) ([]*github.PullRequest, error) {
	var all []*github.PullRequest
	opts := &github.ListOptions{PerPage: pageSize}
	for {
		prs, resp, err := ev.client.PullRequests.ListPullRequestsWithCommit(ctx, ev.owner, ev.repo, sha, opts)
		if err != nil {
			return nil, ev.classify(err, "listing the pull requests of "+reconcile.ShortRevision(sha))
		}
		all = append(all, prs...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// reviews lists the reviews of pull request number, every page.
func (ev *evaluation) reviews(ctx context.Context, number int) ([]*github.PullRequestReview, error) {
	var all []*github.PullRequestReview
	opts := &github.ListOptions{PerPage: pageSize}
	for {
		rvs, resp, err := ev.client.PullRequests.ListReviews(ctx, ev.owner, ev.repo, number, opts)
		if err != nil {
			return nil, ev.classify(err, fmt.Sprintf("listing the reviews of #%d", number))
		}
		all = append(all, rvs...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// tally counts the approvals of pr under the rule.
func (ev *evaluation) tally(ctx context.Context, pr *github.PullRequest) (tally, error) {
	reviews, err := ev.reviews(ctx, pr.GetNumber())
	if err != nil {
		return tally{}, err
	}
	candidates, discards := screen(pr, latestReviews(reviews), ev.rule.AllowStaleReviews)
	t := tally{discards: discards}
	for _, login := range candidates {
		why, err := ev.allowed(ctx, login)
		switch {
		case err != nil:
			return tally{}, err
		case why == "":
			t.approvers = append(t.approvers, login)
		default:
			t.discards = append(t.discards, discard{login, why})
		}
	}
	return t, nil
}

// allowed checks login against the rule's approvers: listed users, then
// the permission (answered 200 for anyone, so polling it again costs a
// free 304), then team memberships (answered 404 for non-members, which
// GitHub counts). It returns "" when login may approve, else why not.
func (ev *evaluation) allowed(ctx context.Context, login string) (string, error) {
	from := ev.rule.From
	for _, u := range from.Users {
		if strings.EqualFold(u, login) {
			return "", nil
		}
	}
	var perm spec.Permission
	if from.Permission != "" {
		var err error
		if perm, err = ev.permission(ctx, login); err != nil || perm.Rank() >= from.Permission.Rank() {
			return "", err
		}
	}
	for _, team := range from.Teams {
		member, err := ev.member(ctx, team, login)
		if err != nil || member {
			return "", err
		}
	}
	return notAllowed(from, perm), nil
}

// member reports whether login is an active member of team "org/slug".
// GitHub answers 404 for non-members, and for teams the credentials may
// not read.
func (ev *evaluation) member(ctx context.Context, team, login string) (bool, error) {
	key := strings.ToLower(team + "\x00" + login)
	if m, ok := ev.teams[key]; ok {
		return m, nil
	}
	org, slug, _ := strings.Cut(team, "/")
	m, _, err := ev.client.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return false, ev.classify(err, "reading the membership of team "+team)
	}
	active := err == nil && m.GetState() == "active"
	ev.teams[key] = active
	return active, nil
}

// permissionLevel is the answer of the collaborator permission endpoint;
// go-github v60 lacks role_name, which tells triage and maintain apart.
type permissionLevel struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
}

// level returns the repository permission: the role when it is a
// built-in one, else (custom roles) the base permission; "" for none.
func (p permissionLevel) level() spec.Permission {
	if r := spec.Permission(p.RoleName); r.Rank() > 0 {
		return r
	}
	return spec.Permission(p.Permission) // admin, write, read, or none (rank 0)
}

// permission returns login's permission on the repository; "" for none,
// including users GitHub does not know (404).
func (ev *evaluation) permission(ctx context.Context, login string) (spec.Permission, error) {
	key := strings.ToLower(login)
	if p, ok := ev.perms[key]; ok {
		return p, nil
	}
	u := fmt.Sprintf("repos/%v/%v/collaborators/%v/permission", ev.owner, ev.repo, login)
	req, err := ev.client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	var p permissionLevel
	_, err = ev.client.Do(ctx, req, &p)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return "", ev.classify(err, "reading the permission of "+login)
	}
	level := p.level()
	if level.Rank() == 0 {
		level = ""
	}
	ev.perms[key] = level
	return level, nil
}

// classify wraps err from doing what with its retry policy.
func (ev *evaluation) classify(err error, what string) error {
	return classify(err, ev.owner+"/"+ev.repo, what, permsToRead)
}

// The permissions GitHub tokens need, as named in errors.
const (
	permsToRead    = "pull requests: read, and members: read for team approvers"
	permsToComment = "pull requests: write"
)

// classify wraps err from doing what in repository full with its retry
// policy, naming the token permissions needed: stalled when the repository is not visible or the credentials
// are refused, plain (retried with backoff) for rate limits, server and
// network errors. Messages never include credentials.
func classify(err error, full, what, needs string) error {
	var rate *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rate), errors.As(err, &abuse):
		return fmt.Errorf("%s in %s: %w", what, full, err)
	case isStatus(err, http.StatusNotFound):
		return reconcile.Stalled(fmt.Errorf("%s: the GitHub token or app cannot see repository %s; check that it exists and that the token or app installation has access to it: %w", what, full, err))
	case isStatus(err, http.StatusUnauthorized), isStatus(err, http.StatusForbidden):
		return reconcile.Stalled(fmt.Errorf("%s in %s: GitHub refused the request; check the token's permissions (%s): %w", what, full, needs, err))
	}
	return fmt.Errorf("%s in %s: %w", what, full, err)
}

// isStatus reports whether err is GitHub's error answer with status code.
func isStatus(err error, code int) bool {
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == code
}
