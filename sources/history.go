package sources

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Revision returns application folder app of the named Git source as it
// was at commit, which the source must have fetched before: clones keep
// every object they fetched. The agent uses it to restore the last good
// revision after a restart. It fails when the source, commit or folder is
// not known.
func (g *Git) Revision(source, app, commit string) (*Revision, error) {
	p := g.pollerOf(source)
	if p == nil {
		return nil, fmt.Errorf("no Git source named %q", source)
	}
	p.store.lock.RLock()
	defer p.store.lock.RUnlock()
	st := p.store.open()
	c, err := object.GetCommit(st, plumbing.NewHash(commit))
	if err != nil {
		return nil, fmt.Errorf("source %s: commit %s is not in the clone: %w", source, commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("source %s: reading commit %s: %w", source, commit, err)
	}
	root := tree.Hash
	if app != "." {
		sub, err := tree.Tree(app)
		if err != nil {
			return nil, fmt.Errorf("source %s: folder %s is not in commit %s: %w", source, app, commit, err)
		}
		root = sub.Hash
	}
	return p.revision(source, app, commitInfo(c), root), nil
}

// pollerOf returns the poller serving the named source, or nil.
func (g *Git) pollerOf(source string) *poller {
	for _, p := range g.snapshot() {
		for _, s := range p.sources {
			if s.name == source {
				return p
			}
		}
	}
	return nil
}
