package github

import (
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// The review states of the REST API.
const (
	reviewApproved         = "APPROVED"
	reviewChangesRequested = "CHANGES_REQUESTED"
	reviewCommented        = "COMMENTED"
	reviewDismissed        = "DISMISSED"
	reviewPending          = "PENDING"
)

// Why an approval does not count, as shown in reasons.
const (
	whyOwn              = "own pull request"
	whyStale            = "stale, given before the last push"
	whyDismissed        = "dismissed"
	whyChangesRequested = "changes requested"
)

// discard is a reviewer whose review does not count, and why.
type discard struct {
	login, why string
}

func (d discard) String() string { return d.login + ": " + d.why }

// tally is the outcome of a pull request's reviews under a rule.
type tally struct {
	approvers []string  // whose approvals count, in order of review
	discards  []discard // reviewers with a non-counting approval or a change request
}

// verdict turns the tally into the gate's decision and reason.
func (t tally) verdict(rule *spec.Approval) reconcile.Verdict {
	if len(t.approvers) >= rule.Reviews {
		return reconcile.Verdict{Approved: true, Reason: "approved by " + strings.Join(t.approvers, ", ")}
	}
	reason := fmt.Sprintf("waiting for approval: %d of %d approving reviews from %s", len(t.approvers), rule.Reviews, Required(rule))
	if len(t.discards) > 0 {
		why := make([]string, len(t.discards))
		for i, d := range t.discards {
			why[i] = d.String()
		}
		reason += " (" + strings.Join(why, "; ") + ")"
	}
	return reconcile.Verdict{Reason: reason}
}

// latestReviews returns the review that stands for each reviewer, in order
// of their first review: the latest approval, change request or dismissal.
// A comment does not replace an earlier approval or change request, as on
// GitHub, and pending reviews are ignored.
func latestReviews(reviews []*github.PullRequestReview) []*github.PullRequestReview {
	var order []string
	latest := map[string]*github.PullRequestReview{}
	for _, rv := range reviews {
		login := strings.ToLower(rv.GetUser().GetLogin())
		prev, seen := latest[login]
		switch {
		case rv.GetState() == reviewPending:
			continue
		case rv.GetState() == reviewCommented && seen && prev.GetState() != reviewCommented:
			continue
		case !seen:
			order = append(order, login)
		}
		latest[login] = rv
	}
	out := make([]*github.PullRequestReview, len(order))
	for i, login := range order {
		out[i] = latest[login]
	}
	return out
}

// screen splits the standing reviews of pr into candidate approvals, still
// to be checked against the rule's approvers, and discards.
func screen(pr *github.PullRequest, standing []*github.PullRequestReview, allowStale bool) ([]string, []discard) {
	author := pr.GetUser().GetLogin()
	var candidates []string
	var discards []discard
	for _, rv := range standing {
		login := rv.GetUser().GetLogin()
		switch state := rv.GetState(); {
		case state == reviewChangesRequested:
			discards = append(discards, discard{login, whyChangesRequested})
		case state == reviewDismissed:
			discards = append(discards, discard{login, whyDismissed})
		case state != reviewApproved:
		case strings.EqualFold(login, author):
			discards = append(discards, discard{login, whyOwn})
		case !allowStale && !strings.EqualFold(rv.GetCommitID(), pr.GetHead().GetSHA()):
			discards = append(discards, discard{login, whyStale})
		default:
			candidates = append(candidates, login)
		}
	}
	return candidates, discards
}

// notAllowed says why login is not one of from, given the alternatives
// they failed: "not in team acme/sre, has read permission".
func notAllowed(from *spec.Approvers, perm spec.Permission) string {
	var parts []string
	switch len(from.Teams) {
	case 0:
	case 1:
		parts = append(parts, "not in team "+from.Teams[0])
	default:
		parts = append(parts, "not in teams "+strings.Join(from.Teams, ", "))
	}
	if from.Permission != "" {
		if perm == "" {
			parts = append(parts, "no permission")
		} else {
			parts = append(parts, fmt.Sprintf("has %s permission", perm))
		}
	}
	if len(parts) == 0 {
		return "not listed"
	}
	return strings.Join(parts, ", ")
}
