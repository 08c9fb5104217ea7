package githubemu

import (
	"context"
	"fmt"
	"slices"
)

// GitRepo is a real Git repository an emulated repository can be linked
// to (internal/testenv/gitserver's Repo is one), so that branches, pull
// request heads and merges happen in Git as on GitHub. Its methods may be
// called from any goroutine.
type GitRepo interface {
	// Branches returns every branch and its tip.
	Branches() (map[string]string, error)
	// SetRef points a reference (such as "refs/pull/3/head") at a commit.
	SetRef(ref, sha string) error
	// MergeBranches merges head into base with a merge commit and
	// returns it; it fails when they conflict.
	MergeBranches(base, head, message, author string) (string, error)
	// OnPush registers a function run after every push.
	OnPush(f func())
}

// LinkGit links the repository repoName to a Git repository: its branches
// are read from Git (after every push, and before pull requests are
// opened, edited or merged), pushes move open pull requests' heads
// (delivering pull_request "synchronize" and push events),
// refs/pull/N/head follows each pull request's head in Git as GitHub keeps
// it, and merges through the API make real merge commits.
func (e *Emulator) LinkGit(repoName string, g GitRepo) error {
	e.mu.Lock()
	rp, err := e.repoLocked(repoName)
	if err == nil {
		rp.git = g
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	g.OnPush(func() { e.SyncGit(context.Background(), repoName) })
	return e.SyncGit(context.Background(), repoName)
}

// SyncGit reads the linked repository's branches, as if each change had
// been pushed, and delivers the resulting webhooks. LinkGit makes every
// push over HTTP call it; call it after changing the repository by other
// means (gitserver's Commit helper) when the emulator must know at once.
func (e *Emulator) SyncGit(ctx context.Context, repoName string) error {
	e.mu.Lock()
	rp, err := e.repoLocked(repoName)
	var events []event
	if err == nil {
		events, err = e.syncLocked(rp)
	}
	e.mu.Unlock()
	e.deliverAll(ctx, events)
	return err
}

// syncLocked applies the linked repository's branch moves as pushes and
// points refs/pull/N/head at the heads of open pull requests.
func (e *Emulator) syncLocked(rp *repo) ([]event, error) {
	if rp.git == nil {
		return nil, nil
	}
	branches, err := rp.git.Branches()
	if err != nil {
		return nil, fmt.Errorf("githubemu: reading the branches of %s: %w", rp.fullName(), err)
	}
	var events []event
	for _, name := range changedBranches(rp.branches, branches) {
		events = append(events, e.applyPush(rp, Push{Branch: name, After: branches[name], Pusher: rp.owner.login})...)
	}
	return events, e.setPullRefs(rp)
}

// changedBranches lists, sorted, the branches created, moved or deleted
// between old and now.
func changedBranches(old, now map[string]string) []string {
	var out []string
	for name, sha := range now {
		if old[name] != sha {
			out = append(out, name)
		}
	}
	for name := range old {
		if _, ok := now[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// setPullRefs points refs/pull/N/head at every open pull request's head
// in the linked repository, if any.
func (e *Emulator) setPullRefs(rp *repo) error {
	if rp.git == nil {
		return nil
	}
	for _, p := range sortedPulls(rp) {
		if p.closed {
			continue
		}
		if err := rp.git.SetRef(fmt.Sprintf("refs/pull/%d/head", p.number), p.head.sha); err != nil {
			return fmt.Errorf("githubemu: %s: %w", rp.fullName(), err)
		}
	}
	return nil
}
