package github

import (
	"context"

	"github.com/google/go-github/v60/github"
)

// PullRequests is what plan previews need of GitHub: the open pull
// requests of a branch, and one comment per pull request kept up to date.
// Build its client on a ConditionalTransport.
type PullRequests struct {
	client   *github.Client
	comments *Comments
}

// NewPullRequests returns a PullRequests working through client.
func NewPullRequests(client *github.Client) *PullRequests {
	return &PullRequests{client: client, comments: NewComments(client)}
}

// OpenPullRequests lists the open pull requests of owner/repo against base.
func (p *PullRequests) OpenPullRequests(ctx context.Context, owner, repo, base string) ([]PullRequest, error) {
	return OpenPullRequests(ctx, p.client, owner, repo, base)
}

// UpsertComment edits pull request number's comment holding marker in
// place, or creates it (see Comments.Upsert).
func (p *PullRequests) UpsertComment(ctx context.Context, owner, repo string, number int, marker, body string) error {
	_, _, err := p.comments.Upsert(ctx, owner, repo, number, marker, body)
	return err
}
