package github

import (
	"context"

	"github.com/google/go-github/v60/github"
)

// PullRequest is an open pull request, as the plan preview needs it.
type PullRequest struct {
	// Number is the pull request number.
	Number int
	// HeadSHA and HeadRef are the tip and name of the source branch.
	HeadSHA, HeadRef string
	// BaseRef is the target branch.
	BaseRef string
	// Author is the login that opened it.
	Author string
	// Title is its title.
	Title string
}

// OpenPullRequests lists the open pull requests of owner/repo against the
// branch base, newest first, reading every page. With a client on a
// ConditionalTransport, unchanged pages cost no rate limit. Errors carry
// their retry policy as Approvals.Evaluate's do.
func OpenPullRequests(ctx context.Context, client *github.Client, owner, repo, base string) ([]PullRequest, error) {
	opts := &github.PullRequestListOptions{State: "open", Base: base, ListOptions: github.ListOptions{PerPage: pageSize}}
	var out []PullRequest
	for {
		prs, resp, err := client.PullRequests.List(ctx, owner, repo, opts)
		if err != nil {
			return nil, classify(err, owner+"/"+repo, "listing the open pull requests against "+base, permsToRead)
		}
		for _, pr := range prs {
			out = append(out, PullRequest{
				Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), HeadRef: pr.GetHead().GetRef(),
				BaseRef: pr.GetBase().GetRef(), Author: pr.GetUser().GetLogin(), Title: pr.GetTitle(),
			})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
