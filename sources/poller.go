package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"k8s.io/utils/clock"
)

// gitSource is one configured source served by a poller.
type gitSource struct {
	name   string
	filter appFilter
}

// poller polls one repository and branch for every source configured on
// it. Polls are serialized; Status and Trigger may be called at any time.
type poller struct {
	url      string
	branch   string
	repoName string // GitHub "owner/name", lower case, "" if unknown
	store    gitStore
	creds    *credentials
	interval time.Duration
	sources  []gitSource
	env      *pollEnv
	trigger  chan struct{}

	mu       sync.Mutex // serializes polls; guards the fields below
	last     plumbing.Hash
	reported bool // an Update was produced since the process started
	deleted  bool // the branch deletion was reported

	statusMu sync.Mutex
	status   Status
}

// pollEnv is what every poller shares.
type pollEnv struct {
	clock         clock.Clock
	log           *slog.Logger
	polls         chan struct{} // semaphore bounding concurrent polls
	fetches       chan struct{} // semaphore bounding concurrent fetches
	ancestryDepth int
	pollTimeout   time.Duration
	maxBackoff    time.Duration
	jitter        float64
	maxPacks      int
	// onStatus, when set, is told each poll's outcome (Git.OnStatus).
	onStatus     atomic.Pointer[func(Status)]
	maxFileBytes int64
}

// poll asks the server where the branch is and, when it moved, fetches the
// new commit and returns one Update per source. A triggered poll (a
// webhook said the branch moved) fetches at once instead: the fetch's own
// advertisement says where the branch is, so a push costs one request
// less, and nothing new costs that advertisement alone.
func (p *poller) poll(ctx context.Context, triggered bool) ([]Update, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	release, err := acquire(ctx, p.env.polls)
	if err != nil {
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, p.env.pollTimeout)
	defer cancel()
	auth, err := p.creds.method(ctx)
	if err != nil {
		return nil, err
	}
	if triggered {
		return p.fetchFirst(ctx, auth)
	}
	head, err := p.lsRemote(ctx, auth)
	if errors.Is(err, errBranchMissing) {
		return p.branchDeleted(), &BranchDeletedError{URL: redactURL(p.url), Branch: p.branch, LastCommit: hashString(p.last)}
	}
	if err != nil {
		return nil, p.creds.classify(err)
	}
	p.deleted = false
	if p.reported && head == p.last {
		return nil, nil
	}
	return p.advance(ctx, auth, false)
}

// fetchFirst is a triggered poll: the fetch, then the Updates when the
// branch moved.
func (p *poller) fetchFirst(ctx context.Context, auth transport.AuthMethod) ([]Update, error) {
	updates, err := p.advance(ctx, auth, true)
	if errors.Is(err, errBranchMissing) {
		return p.branchDeleted(), &BranchDeletedError{URL: redactURL(p.url), Branch: p.branch, LastCommit: hashString(p.last)}
	}
	if err == nil {
		p.deleted = false
	}
	return updates, err
}

// lsRemoteTimeout bounds the one request of an unchanged poll, so that a
// server that stops answering does not hold a poll slot for PollTimeout.
const lsRemoteTimeout = time.Minute

// lsRemote returns the branch's tip on the server.
func (p *poller) lsRemote(ctx context.Context, auth transport.AuthMethod) (plumbing.Hash, error) {
	ctx, cancel := context.WithTimeout(ctx, min(lsRemoteTimeout, p.env.pollTimeout))
	defer cancel()
	return lsRemote(ctx, p.url, p.branch, auth)
}

// acquire takes a slot of the semaphore sem, or fails when ctx is done.
func acquire(ctx context.Context, sem chan struct{}) (release func(), err error) {
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// branchDeleted returns the Updates reporting the branch's deletion, once.
// Should the branch come back, it is reported afresh, as after a restart.
func (p *poller) branchDeleted() []Update {
	if p.deleted {
		return nil
	}
	p.deleted, p.reported = true, false
	out := make([]Update, 0, len(p.sources))
	for _, s := range p.sources {
		out = append(out, Update{Source: s.name, URL: redactURL(p.url), Branch: p.branch,
			Previous: hashString(p.last), Transition: TransitionBranchDeleted})
	}
	return out
}

// advance fetches the branch's new tip and describes it. With unknown
// set, the caller has not asked where the branch is: a tip already
// reported describes nothing, and a branch the server lacks is
// errBranchMissing.
func (p *poller) advance(ctx context.Context, auth transport.AuthMethod, unknown bool) ([]Update, error) {
	release, err := acquire(ctx, p.env.fetches)
	if err != nil {
		return nil, err
	}
	defer release()
	p.store.lock.Lock()
	defer p.store.lock.Unlock()
	repo, st, err := p.store.openRepo(p.url)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := fetch(ctx, repo, p.branch, 1, auth); err != nil {
		if unknown && branchMissing(err) {
			return nil, errBranchMissing
		}
		return nil, p.creds.classify(err)
	}
	st.Reindex()
	ref, err := st.Reference(remoteRef(p.branch))
	if err != nil {
		return nil, fmt.Errorf("reading the fetched branch: %w", err)
	}
	if unknown && p.reported && ref.Hash() == p.last {
		return nil, nil
	}
	deepen := func(depth int) error {
		if err := fetch(ctx, repo, p.branch, depth, auth); err != nil {
			return p.creds.classify(err)
		}
		st.Reindex()
		return nil
	}
	return p.describe(st, deepen, ref.Hash())
}

// describe builds the Updates for the new commit and records it as the
// last one reported.
func (p *poller) describe(st *filesystem.Storage, deepen func(depth int) error, head plumbing.Hash) ([]Update, error) {
	prev := p.previous(st)
	transition, err := p.transition(st, deepen, prev, head)
	if err != nil {
		return nil, err
	}
	if transition == TransitionInitial {
		prev = plumbing.ZeroHash
	}
	updates, err := p.updates(st, prev, head, transition)
	if err != nil {
		return nil, err
	}
	if err := st.SetReference(plumbing.NewHashReference(lastRef, head)); err != nil {
		return nil, fmt.Errorf("recording the last commit: %w", err)
	}
	if err := compact(st, p.env.maxPacks); err != nil {
		p.env.log.Warn("compacting the clone failed", "url", redactURL(p.url), "error", err)
	}
	p.last, p.reported = head, true
	return updates, nil
}

// previous returns the commit to compare with: the last one reported, or
// after a restart the one recorded in the clone.
func (p *poller) previous(st *filesystem.Storage) plumbing.Hash {
	if p.reported {
		return p.last
	}
	if ref, err := st.Reference(lastRef); err == nil {
		return ref.Hash()
	}
	return plumbing.ZeroHash
}

// transition finds out how the branch went from prev to head. The usual
// case (head's parent is prev) needs only head's object. When the shallow
// clone does not reach prev, it checks whether the branch moved back, then
// deepens the history step by step up to ancestryDepth commits.
func (p *poller) transition(st *filesystem.Storage, deepen func(depth int) error, prev, head plumbing.Hash) (Transition, error) {
	if prev.IsZero() || (prev == head && !p.reported) {
		return TransitionInitial, nil
	}
	found, err := findAncestor(st, head, prev, p.env.ancestryDepth)
	if err != nil || found == walkFound {
		return TransitionFastForward, err
	}
	// A branch moved back to an older commit: prev's local history reaches head.
	if back, err := findAncestor(st, prev, head, p.env.ancestryDepth); err != nil || back == walkFound {
		return TransitionRewritten, err
	}
	for depth := 10; found == walkIncomplete; depth *= 10 {
		if depth/10 >= p.env.ancestryDepth {
			return TransitionUnverified, nil
		}
		if err := deepen(min(depth, p.env.ancestryDepth)); err != nil {
			return 0, err
		}
		if found, err = findAncestor(st, head, prev, p.env.ancestryDepth); err != nil {
			return 0, err
		}
	}
	if found == walkFound {
		return TransitionFastForward, nil
	}
	return TransitionRewritten, nil
}

// updates describes head, compared with prev, for every source.
func (p *poller) updates(st *filesystem.Storage, prev, head plumbing.Hash, transition Transition) ([]Update, error) {
	commit, err := object.GetCommit(st, head)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", head, err)
	}
	newTree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	oldTree, err := treeOf(st, prev)
	if err != nil {
		return nil, err
	}
	out := make([]Update, 0, len(p.sources))
	for _, s := range p.sources {
		u, err := p.update(st, s, commit, oldTree, newTree)
		if err != nil {
			return nil, err
		}
		u.Previous, u.Transition = hashString(prev), transition
		out = append(out, u)
	}
	return out, nil
}

// treeOf returns the tree of commit h, or nil for the zero hash.
func treeOf(st *filesystem.Storage, h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return nil, nil
	}
	c, err := object.GetCommit(st, h)
	if err != nil {
		return nil, fmt.Errorf("reading previous commit %s: %w", h, err)
	}
	return c.Tree()
}

// revision is application folder app of source at the commit described by
// info, whose folder tree is root.
func (p *poller) revision(source, app string, info Commit, root plumbing.Hash) *Revision {
	return &Revision{Source: source, App: app, Commit: info.SHA, Digest: root.String(), PullRequest: info.PullRequest,
		Files: newTreeFS(p.store, root, info.Time, p.env.maxFileBytes)}
}

// update compares the applications of one source in two trees.
func (p *poller) update(st *filesystem.Storage, s gitSource, c *object.Commit, oldTree, newTree *object.Tree) (Update, error) {
	next, err := scanTree(st, newTree, s.filter)
	if err != nil {
		return Update{}, err
	}
	prev := map[string]string{}
	if oldTree != nil {
		if prev, err = scanTree(st, oldTree, s.filter); err != nil {
			return Update{}, err
		}
	}
	info := commitInfo(c)
	u := Update{Source: s.name, URL: redactURL(p.url), Branch: p.branch, Commit: info}
	for _, ch := range diffApps(prev, next) {
		au := AppUpdate{App: ch.app, Change: ch.change}
		if ch.change != ChangeRemoved {
			au.Revision = p.revision(s.name, ch.app, info, plumbing.NewHash(next[ch.app]))
		}
		u.Apps = append(u.Apps, au)
	}
	return u, nil
}

func commitInfo(c *object.Commit) Commit {
	return Commit{
		SHA: c.Hash.String(), Message: c.Message, Time: c.Committer.When,
		Author:      fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
		PullRequest: pullRequestOf(c.Message),
	}
}

func hashString(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}
