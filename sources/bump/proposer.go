package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v60/github"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// Mode is how a proposal reaches the source's branch.
type Mode int

// The modes.
const (
	// ModePullRequest commits on a bump branch and opens (or updates) a
	// pull request into the source's branch, for review.
	ModePullRequest Mode = iota
	// ModeCommit commits directly on the source's branch.
	ModeCommit
)

// String names the mode.
func (m Mode) String() string {
	if m == ModeCommit {
		return "commit"
	}
	return "pullRequest"
}

// Grouping is how changes are gathered into branches and pull requests.
type Grouping int

// The groupings.
const (
	// PerApplication proposes each application's changes on its own
	// branch, jibe/bump/<app>.
	PerApplication Grouping = iota
	// PerSource proposes every change of the source on one branch,
	// jibe/bump/all.
	PerSource
)

// BranchPrefix starts the name of every branch Jibe proposes bumps on.
const BranchPrefix = "jibe/bump/"

// Default author of bump commits.
const (
	DefaultAuthorName  = "Jibe"
	DefaultAuthorEmail = "jibe@users.noreply.github.com"
)

// Options configures a Proposer. Source, Credentials and, in
// ModePullRequest, GitHub are required.
type Options struct {
	// Source is the source's name, for logs and errors.
	Source string
	// Credentials are the source's own: its repository URL, branch,
	// GitHub repository and authentication (sources.Git.Credentials).
	// Pushing needs write access (a token with contents:write).
	Credentials *sources.Credentials
	// GitHub is a client of the GitHub API able to open, edit, comment on
	// and close the repository's pull requests (pull requests: write).
	GitHub *github.Client
	// Mode is ModePullRequest (the default) or ModeCommit.
	Mode Mode
	// Group is PerApplication (the default) or PerSource.
	Group Grouping
	// AuthorName and AuthorEmail sign bump commits. Default
	// DefaultAuthorName and DefaultAuthorEmail.
	AuthorName, AuthorEmail string
	// Clock dates commits. Default the wall clock.
	Clock clock.PassiveClock
	// Logger receives what was proposed. Default slog.Default().
	Logger *slog.Logger
}

// Proposer turns artifact changes into commits on a source's repository
// and pull requests (or direct commits). Propose calls must not overlap.
type Proposer struct {
	opts        Options
	owner, repo string
}

// New returns a Proposer, or an error naming a missing option.
func New(opts Options) (*Proposer, error) {
	if opts.Credentials == nil {
		return nil, errors.New("bump: Options.Credentials is required")
	}
	owner, repo, ok := strings.Cut(opts.Credentials.Repository, "/")
	if opts.Mode == ModePullRequest && (opts.GitHub == nil || !ok) {
		return nil, reconcile.Stalled(fmt.Errorf("source %q: proposing pull requests needs the github settings and a GitHub repository (git.repository, owner/name)", opts.Source))
	}
	if opts.AuthorName == "" {
		opts.AuthorName = DefaultAuthorName
	}
	if opts.AuthorEmail == "" {
		opts.AuthorEmail = DefaultAuthorEmail
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Proposer{opts: opts, owner: owner, repo: repo}, nil
}

// Branch returns the branch a change is proposed on.
func (p *Proposer) Branch(c Change) string {
	if p.opts.Group == PerSource {
		return BranchPrefix + "all"
	}
	return BranchPrefix + c.App
}

// Propose proposes changes. In ModePullRequest each group of changes is
// committed on its bump branch (force-pushed: it is Jibe's) on top of the
// source's branch, and its pull request is opened or updated; changes an
// open bump pull request already proposes are kept unless a change to the
// same artifact replaces them. A change the source's branch no longer
// holds the From value of (changed by hand, or already applied) is
// dropped, and a bump pull request left with no change is closed with a
// comment saying why. In ModeCommit each group becomes one commit on the
// source's branch, retried once if the branch moved meanwhile. Errors of
// groups are joined; the other groups are still proposed.
func (p *Proposer) Propose(ctx context.Context, changes []Change) error {
	if p.opts.Mode == ModeCommit {
		return p.commitAll(ctx, changes)
	}
	open, err := p.openBumps(ctx)
	if err != nil {
		return err
	}
	groups := p.groups(changes, open)
	if len(groups) == 0 {
		return nil
	}
	ws, err := p.clone(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, branch := range slices.Sorted(maps.Keys(groups)) {
		errs = append(errs, p.proposeGroup(ctx, ws, branch, groups[branch], open[branch]))
	}
	return errors.Join(errs...)
}

// groups gathers the changes by branch, adding each open bump pull
// request's recorded changes that no new change replaces.
func (p *Proposer) groups(changes []Change, open map[string]*bumpPull) map[string][]Change {
	groups := map[string][]Change{}
	for _, c := range changes {
		b := p.Branch(c)
		groups[b] = replace(groups[b], c)
	}
	for branch, pr := range open {
		merged := slices.Clone(pr.changes)
		for _, c := range groups[branch] {
			merged = replace(merged, c)
		}
		groups[branch] = merged
	}
	return groups
}

// replace returns list with c replacing the change to the same field, or
// appended.
func replace(list []Change, c Change) []Change {
	for i, o := range list {
		if o.key() == c.key() {
			out := slices.Clone(list)
			out[i] = c
			return out
		}
	}
	return append(list, c)
}

// key identifies the field a change edits.
func (c Change) key() string {
	return specFile(c.Folder) + "\x00" + c.Artifact + "\x00" + c.Path
}

// clone makes the workspace: the source's branch, shallow, in memory.
func (p *Proposer) clone(ctx context.Context) (*workspace, error) {
	cr := p.opts.Credentials
	auth, err := cr.Method(ctx)
	if err != nil {
		return nil, err
	}
	ws, err := cloneBranch(ctx, cr.URL, cr.Branch, auth)
	if err != nil {
		return nil, fmt.Errorf("bump: cloning branch %s: %w", cr.Branch, cr.Classify(err))
	}
	return ws, nil
}

// outcome is what a group's changes do to the workspace's base.
type outcome struct {
	files   map[string][]byte
	applied []Change
	gone    []*SupersededError
}

// apply edits each change's jibe.yaml in turn. Superseded changes are
// set aside; other edit errors are returned joined.
func apply(ws *workspace, changes []Change) (outcome, error) {
	out := outcome{files: map[string][]byte{}}
	var errs []error
	for _, c := range changes {
		f := specFile(c.Folder)
		content, ok := out.files[f]
		if !ok {
			var err error
			if content, err = ws.read(f); err != nil {
				out.gone = append(out.gone, &SupersededError{Change: c, Missing: true})
				continue
			}
		}
		edited, err := Edit(content, c)
		var s *SupersededError
		switch {
		case errors.As(err, &s):
			out.gone = append(out.gone, s)
		case err != nil:
			errs = append(errs, reconcile.Stalled(err))
		default:
			out.files[f], out.applied = edited, append(out.applied, c)
		}
	}
	return out, errors.Join(errs...)
}

// proposeGroup commits a group's changes on its branch and opens or
// updates its pull request, or closes the pull request when none of its
// changes applies any longer.
func (p *Proposer) proposeGroup(ctx context.Context, ws *workspace, branch string, changes []Change, pr *bumpPull) error {
	out, editErr := apply(ws, changes)
	if len(out.applied) == 0 {
		if pr == nil {
			return editErr
		}
		return errors.Join(editErr, p.closeSuperseded(ctx, pr, out.gone))
	}
	if pr != nil && sameChanges(pr.changes, out.applied) {
		return editErr // the pull request proposes exactly this already
	}
	commit, err := ws.commit(out.files, commitMessage(out.applied), p.signature())
	if err == nil {
		err = p.push(ctx, ws, branch, commit, true)
	}
	if err == nil {
		err = p.upsertPull(ctx, branch, pr, out.applied)
	}
	return errors.Join(editErr, err)
}

// commitAll commits each group on the source's branch.
func (p *Proposer) commitAll(ctx context.Context, changes []Change) error {
	groups := p.groups(changes, nil)
	if len(groups) == 0 {
		return nil
	}
	ws, err := p.clone(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, branch := range slices.Sorted(maps.Keys(groups)) {
		next, err := p.commitGroup(ctx, ws, groups[branch])
		if next != nil {
			ws = next
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// commitGroup commits changes on the source's branch and returns the
// workspace at the new commit. When the push fails because the branch
// moved meanwhile, it clones again and retries once.
func (p *Proposer) commitGroup(ctx context.Context, ws *workspace, changes []Change) (*workspace, error) {
	for attempt := 0; ; attempt++ {
		commit, pushErr, editErr := p.commitOnBase(ctx, ws, changes)
		if pushErr == nil || attempt == 1 || !p.moved(ctx, ws) {
			return p.advance(ws, commit), errors.Join(editErr, pushErr)
		}
		p.opts.Logger.Info("source branch moved during a bump commit, retrying", "source", p.opts.Source, "branch", p.opts.Credentials.Branch)
		var err error
		if ws, err = p.clone(ctx); err != nil {
			return nil, err
		}
	}
}

// commitOnBase edits, commits and pushes on the source's branch. It
// returns the commit pushed (zero when nothing applies), the push's error
// and the edits' errors.
func (p *Proposer) commitOnBase(ctx context.Context, ws *workspace, changes []Change) (plumbing.Hash, error, error) {
	out, editErr := apply(ws, changes)
	p.logGone(out.gone)
	if len(out.applied) == 0 {
		return plumbing.ZeroHash, nil, editErr
	}
	commit, err := ws.commit(out.files, commitMessage(out.applied), p.signature())
	if err == nil {
		err = p.push(ctx, ws, p.opts.Credentials.Branch, commit, false)
	}
	if err != nil {
		return plumbing.ZeroHash, err, editErr
	}
	p.opts.Logger.Info("artifact bump committed", "source", p.opts.Source, "branch", p.opts.Credentials.Branch, "commit", commit.String(), "changes", len(out.applied))
	return commit, nil, editErr
}

func (p *Proposer) logGone(gone []*SupersededError) {
	for _, g := range gone {
		p.opts.Logger.Info("artifact bump superseded", "source", p.opts.Source, "app", g.Change.App, "artifact", g.Change.Artifact, "reason", g.Error())
	}
}

// moved reports whether the source's branch is no longer at the
// workspace's base commit on the server.
func (p *Proposer) moved(ctx context.Context, ws *workspace) bool {
	refs, err := ws.repo.Remotes()
	if err != nil || len(refs) == 0 {
		return false
	}
	list, err := refs[0].ListContext(ctx, &git.ListOptions{Auth: ws.auth})
	if err != nil {
		return false
	}
	want := plumbing.NewBranchReferenceName(p.opts.Credentials.Branch)
	for _, r := range list {
		if r.Name() == want {
			return r.Hash() != ws.base.Hash
		}
	}
	return true
}

// advance returns the workspace based on commit, when one was made.
func (p *Proposer) advance(ws *workspace, commit plumbing.Hash) *workspace {
	if ws == nil || commit.IsZero() {
		return ws
	}
	c, err := ws.repo.CommitObject(commit)
	if err != nil {
		return ws
	}
	tree, err := c.Tree()
	if err != nil {
		return ws
	}
	return &workspace{repo: ws.repo, auth: ws.auth, base: c, tree: tree}
}

func (p *Proposer) signature() object.Signature {
	return signature(p.opts.AuthorName, p.opts.AuthorEmail, p.opts.Clock.Now())
}

// push pushes the commit to branch and explains a refusal.
func (p *Proposer) push(ctx context.Context, ws *workspace, branch string, commit plumbing.Hash, force bool) error {
	err := ws.push(ctx, branch, commit, force)
	if err == nil {
		return nil
	}
	cr := p.opts.Credentials
	if refused(err) {
		return reconcile.Stalled(&PushError{Source: p.opts.Source, URL: sources.RedactURL(cr.URL), Branch: branch, Err: err})
	}
	return fmt.Errorf("bump: pushing %s to %s: %w", branch, sources.RedactURL(cr.URL), cr.Classify(err))
}

// commitMessage is the bump commit's message: a title and a line per
// change.
func commitMessage(changes []Change) string {
	var b strings.Builder
	b.WriteString(title(changes) + "\n\n")
	for _, c := range changes {
		fmt.Fprintf(&b, "%s: artifact %s %s %s -> %s\n", c.App, c.Artifact, c.Path, c.From, c.To)
	}
	return b.String()
}
