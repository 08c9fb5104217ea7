package sources

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Applications returns the application folders of the named Git source as
// they were at the last commit it reported, which its clone records: what
// the source held when the agent last stopped, known at start before any
// poll. It returns none when the source has reported no commit yet.
func (g *Git) Applications(source string) ([]*Revision, error) {
	p := g.pollerOf(source)
	if p == nil {
		return nil, fmt.Errorf("no Git source named %q", source)
	}
	filter := p.filterOf(source)
	p.store.lock.RLock()
	defer p.store.lock.RUnlock()
	st := p.store.open()
	ref, err := st.Reference(lastRef)
	if err != nil {
		return nil, nil // Never polled, or a fresh state directory.
	}
	c, err := object.GetCommit(st, ref.Hash())
	if err != nil {
		return nil, fmt.Errorf("source %s: reading the last commit %s: %w", source, ref.Hash(), err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("source %s: reading commit %s: %w", source, ref.Hash(), err)
	}
	apps, err := scanTree(st, tree, filter)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", source, err)
	}
	info := commitInfo(c)
	out := make([]*Revision, 0, len(apps))
	for _, ch := range diffApps(nil, apps) {
		out = append(out, p.revision(source, ch.app, info, plumbing.NewHash(apps[ch.app])))
	}
	return out, nil
}

// filterOf returns the application filter of the named source.
func (p *poller) filterOf(source string) appFilter {
	for _, s := range p.sources {
		if s.name == source {
			return s.filter
		}
	}
	return appFilter{}
}
