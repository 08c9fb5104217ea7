package sources

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// pullRef is where a fetched pull request's head is kept in the clone.
func pullRef(number int) plumbing.ReferenceName {
	return plumbing.ReferenceName(fmt.Sprintf("refs/jibe/pull/%d", number))
}

// PullRequest fetches the head of pull request number of the named
// source's repository (refs/pull/N/head, which GitHub keeps for every pull
// request) and describes it against the branch's latest commit: the
// Update lists every application of the source, with the revisions the
// pull request would deploy. Nothing is reconciled from it; it feeds plan
// previews. The source must have polled its branch once.
func (g *Git) PullRequest(ctx context.Context, source string, number int) (Update, error) {
	p := g.pollerOf(source)
	if p == nil {
		return Update{}, fmt.Errorf("no Git source named %q", source)
	}
	return p.pullRequest(ctx, source, number)
}

func (p *poller) pullRequest(ctx context.Context, source string, number int) (Update, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	release, err := acquire(ctx, p.env.fetches)
	if err != nil {
		return Update{}, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, p.env.pollTimeout)
	defer cancel()
	auth, err := p.creds.method(ctx)
	if err != nil {
		return Update{}, err
	}
	p.store.lock.Lock()
	defer p.store.lock.Unlock()
	repo, st, err := p.store.openRepo(p.url)
	if err != nil {
		return Update{}, err
	}
	defer st.Close()
	if err := fetchPull(ctx, repo, number, auth); err != nil {
		return Update{}, fmt.Errorf("fetching pull request #%d: %w", number, p.creds.classify(err))
	}
	st.Reindex()
	ref, err := st.Reference(pullRef(number))
	if err != nil {
		return Update{}, fmt.Errorf("reading the fetched pull request #%d: %w", number, err)
	}
	base := p.previous(st)
	if base.IsZero() {
		return Update{}, fmt.Errorf("source %s has not fetched branch %s yet", source, p.branch)
	}
	head, err := object.GetCommit(st, ref.Hash())
	if err != nil {
		return Update{}, err
	}
	for _, s := range p.sources {
		if s.name == source {
			return p.compare(st, s, base, head)
		}
	}
	return Update{}, fmt.Errorf("no Git source named %q", source)
}

// compare describes head against the commit base for source s.
func (p *poller) compare(st *filesystem.Storage, s gitSource, base plumbing.Hash, head *object.Commit) (Update, error) {
	newTree, err := head.Tree()
	if err != nil {
		return Update{}, err
	}
	oldTree, err := treeOf(st, base)
	if err != nil {
		return Update{}, err
	}
	u, err := p.update(st, s, head, oldTree, newTree)
	u.Previous = base.String()
	return u, err
}

// fetchPull fetches pull request number's head, shallow.
func fetchPull(ctx context.Context, repo *git.Repository, number int, auth transport.AuthMethod) error {
	spec := gitconfig.RefSpec(fmt.Sprintf("+refs/pull/%d/head:%s", number, pullRef(number)))
	err := repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: []gitconfig.RefSpec{spec},
		Depth: 1, Auth: auth, Tags: git.NoTags, Force: true})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}
