package github

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Approvals evaluates approval rules against pull-request reviews. Build
// its client on a ConditionalTransport: a waiting gate is evaluated every
// minute, and with the transport an unchanged answer costs no rate limit.
// Safe for concurrent use.
type Approvals struct {
	client *github.Client
}

// NewApprovals returns an Approvals reading reviews through client.
func NewApprovals(client *github.Client) *Approvals {
	return &Approvals{client: client}
}

// Evaluate decides whether rule is met for revision, a commit of
// owner/repo's deployed branch.
//
// The revision is approved by the merged pull request that brought it (its
// merge commit, or its head for fast-forward and rebase merges) when at
// least rule.Reviews distinct reviewers approved it: the latest review of
// each reviewer counts, the author's own approval never does, an approval
// of an older head does not unless rule.AllowStaleReviews, and the reviewer
// must be one of rule.From at the time of the evaluation. A revision no
// merged pull request brought is held, unless rule.AllowLaterApproval: then
// approvals on any open or merged pull request containing it count.
//
// The verdict's Reason says who approved or who is still needed. Errors
// carry their retry policy: reconcile.Stalled when the repository is not
// visible or the credentials lack permissions, a plain error for rate
// limits, server errors and network failures.
func (a *Approvals) Evaluate(ctx context.Context, owner, repo, revision string, rule *spec.Approval) (reconcile.Verdict, error) {
	ev := newEvaluation(a.client, owner, repo, rule)
	prs, err := ev.pullsWithCommit(ctx, revision)
	if err != nil {
		return reconcile.Verdict{}, err
	}
	if pr := pullThatBrought(prs, revision); pr != nil {
		t, err := ev.tally(ctx, pr)
		if err != nil {
			return reconcile.Verdict{}, err
		}
		return t.verdict(ev.rule), nil
	}
	if !ev.rule.AllowLaterApproval {
		return reconcile.Verdict{Reason: noPullRequest(revision)}, nil
	}
	return ev.laterApproval(ctx, prs, revision)
}

// Required returns who may approve under rule, as a phrase for reasons:
// "alice, bob or team acme/sre or users with write permission". A nil
// rule or From means users with write permission.
func Required(rule *spec.Approval) string {
	from := normalize(rule).From
	var parts []string
	if len(from.Users) > 0 {
		parts = append(parts, strings.Join(from.Users, ", "))
	}
	switch len(from.Teams) {
	case 0:
	case 1:
		parts = append(parts, "team "+from.Teams[0])
	default:
		parts = append(parts, "teams "+strings.Join(from.Teams, ", "))
	}
	if from.Permission != "" {
		parts = append(parts, fmt.Sprintf("users with %s permission", from.Permission))
	}
	return strings.Join(parts, " or ")
}

// normalize returns a copy of rule with its defaults filled in: one review,
// from users with write permission when From names nobody.
func normalize(rule *spec.Approval) *spec.Approval {
	r := spec.Approval{}
	if rule != nil {
		r = *rule
	}
	r.Reviews = max(r.Reviews, 1)
	if r.From == nil || (len(r.From.Users) == 0 && len(r.From.Teams) == 0 && r.From.Permission == "") {
		r.From = &spec.Approvers{Permission: spec.PermissionWrite}
	}
	return &r
}

func noPullRequest(revision string) string {
	return "waiting: no approved pull request for " + reconcile.ShortRevision(revision)
}

// pullThatBrought returns the merged pull request whose merge commit is
// sha, else one whose head is sha (fast-forward and rebase merges), else
// nil.
func pullThatBrought(prs []*github.PullRequest, sha string) *github.PullRequest {
	for _, pr := range prs {
		if pr.MergedAt != nil && strings.EqualFold(pr.GetMergeCommitSHA(), sha) {
			return pr
		}
	}
	for _, pr := range prs {
		if pr.MergedAt != nil && strings.EqualFold(pr.GetHead().GetSHA(), sha) {
			return pr
		}
	}
	return nil
}

// laterApproval looks for an approved pull request among the open and
// merged ones containing the revision. Without one, the reason is that of
// the pull request closest to approval.
func (ev *evaluation) laterApproval(ctx context.Context, prs []*github.PullRequest, revision string) (reconcile.Verdict, error) {
	var best *tally
	for _, pr := range prs {
		if pr.GetState() != "open" && pr.MergedAt == nil {
			continue // closed without merging
		}
		t, err := ev.tally(ctx, pr)
		if err != nil {
			return reconcile.Verdict{}, err
		}
		if len(t.approvers) >= ev.rule.Reviews {
			return t.verdict(ev.rule), nil
		}
		if best == nil || len(t.approvers) > len(best.approvers) {
			best = &t
		}
	}
	if best == nil {
		return reconcile.Verdict{Reason: noPullRequest(revision)}, nil
	}
	return best.verdict(ev.rule), nil
}
