package githubemu

import (
	"context"
	"fmt"
	"time"
)

// NewPullRequest describes a pull request opened by CreatePullRequest.
type NewPullRequest struct {
	// Title and Body are the pull request's text.
	Title, Body string
	// Author is the login opening the pull request (created if new).
	Author string
	// Head is the branch to merge; HeadSHA its tip (the branch's current
	// SHA when empty). The branch is set to HeadSHA.
	Head    string
	HeadSHA string
	// Base is the target branch; the repository's default branch when empty.
	Base string
	// Draft opens the pull request as a draft.
	Draft bool
}

// Review is a pull request review as submitted through SubmitReview and
// returned by Reviews.
type Review struct {
	// ID is set by the emulator; it is ignored by SubmitReview.
	ID int64
	// User is the reviewer's login (created if new).
	User string
	// State is ReviewApproved, ReviewChangesRequested, ReviewCommented or
	// ReviewPending (a review started but not submitted).
	State ReviewState
	// Body is the review text.
	Body string
	// CommitID is the reviewed commit; the pull request's head when empty.
	CommitID string
	// SubmittedAt is zero for pending reviews.
	SubmittedAt time.Time
}

// PullRequest is a pull request's state as seen by the emulator.
type PullRequest struct {
	// Number is the pull request number.
	Number int
	// Title is the pull request title.
	Title string
	// Author is the login that opened it.
	Author string
	// Head and HeadSHA are the source branch and its current tip.
	Head, HeadSHA string
	// Base and BaseSHA are the target branch and its tip when the pull
	// request was opened.
	Base, BaseSHA string
	// Open is false once closed or merged.
	Open bool
	// Merged and MergeCommitSHA are set by MergePullRequest.
	Merged         bool
	MergeCommitSHA string
}

// pullLocked returns the repository and pull request; e.mu must be held.
func (e *Emulator) pullLocked(repoName string, number int) (*repo, *pull, error) {
	rp, err := e.repoLocked(repoName)
	if err != nil {
		return nil, nil, err
	}
	p := rp.pulls[number]
	if p == nil {
		return nil, nil, fmt.Errorf("pull request %s#%d: %w", repoName, number, ErrNotFound)
	}
	return rp, p, nil
}

// CreatePullRequest opens a pull request, delivers pull_request "opened"
// and returns its number. Issues and pull requests share numbers.
func (e *Emulator) CreatePullRequest(ctx context.Context, repoName string, np NewPullRequest) (int, error) {
	e.mu.Lock()
	rp, err := e.repoLocked(repoName)
	if err != nil {
		e.mu.Unlock()
		return 0, err
	}
	p, err := e.openPull(rp, np)
	if err != nil {
		e.mu.Unlock()
		return 0, err
	}
	events := e.pullEvent(rp, p, "opened", p.author)
	e.mu.Unlock()
	e.deliverAll(ctx, events)
	return p.number, nil
}

func (e *Emulator) openPull(rp *repo, np NewPullRequest) (*pull, error) {
	if np.HeadSHA == "" {
		np.HeadSHA = rp.branches[np.Head]
	}
	if np.Head == "" || np.HeadSHA == "" {
		return nil, fmt.Errorf("githubemu: pull request needs a head branch with a SHA")
	}
	if np.Base == "" {
		np.Base = rp.defaultBranch
	}
	rp.branches[np.Head] = np.HeadSHA
	rp.nextNumber++
	now := e.now()
	p := &pull{
		id: e.state.id(), number: rp.nextNumber, title: np.Title, body: np.Body,
		author: e.state.userByLogin(np.Author), draft: np.Draft, created: now, updated: now,
		head: branchRef{ref: np.Head, sha: np.HeadSHA}, base: branchRef{ref: np.Base, sha: rp.branches[np.Base]},
		headSHAs: []string{np.HeadSHA},
	}
	rp.pulls[p.number] = p
	return p, nil
}

// PullRequest returns the pull request's current state.
func (e *Emulator) PullRequest(repoName string, number int) (PullRequest, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, p, err := e.pullLocked(repoName, number)
	if err != nil {
		return PullRequest{}, err
	}
	return PullRequest{
		Number: p.number, Title: p.title, Author: p.author.login, Head: p.head.ref, HeadSHA: p.head.sha,
		Base: p.base.ref, BaseSHA: p.base.sha, Open: !p.closed, Merged: p.merged, MergeCommitSHA: p.mergeCommitSHA,
	}, nil
}

// SubmitReview adds a review, delivers pull_request_review "submitted"
// (not for pending reviews) and returns the review ID.
func (e *Emulator) SubmitReview(ctx context.Context, repoName string, number int, rv Review) (int64, error) {
	e.mu.Lock()
	rp, p, err := e.pullLocked(repoName, number)
	if err != nil {
		e.mu.Unlock()
		return 0, err
	}
	r := e.addReview(p, rv)
	var events []event
	if r.state != ReviewPending {
		events = e.reviewEvent(rp, p, r, "submitted", r.user)
	}
	e.mu.Unlock()
	e.deliverAll(ctx, events)
	return r.id, nil
}

func (e *Emulator) addReview(p *pull, rv Review) *review {
	r := &review{id: e.state.id(), user: e.state.userByLogin(rv.User), body: rv.Body, state: rv.State, commitID: rv.CommitID}
	if r.commitID == "" {
		r.commitID = p.head.sha
	}
	if r.state != ReviewPending {
		r.submitted = e.now()
	}
	p.reviews = append(p.reviews, r)
	p.updated = e.now()
	return r
}

// Reviews returns every review of the pull request, pending ones included,
// in chronological order.
func (e *Emulator) Reviews(repoName string, number int) ([]Review, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, p, err := e.pullLocked(repoName, number)
	if err != nil {
		return nil, err
	}
	out := make([]Review, 0, len(p.reviews))
	for _, r := range p.reviews {
		out = append(out, Review{ID: r.id, User: r.user.login, State: r.state, Body: r.body, CommitID: r.commitID, SubmittedAt: r.submitted})
	}
	return out, nil
}

// DismissReview dismisses an approval or change request as login would
// through the API, and delivers pull_request_review "dismissed".
func (e *Emulator) DismissReview(ctx context.Context, repoName string, number int, reviewID int64, login string) error {
	e.mu.Lock()
	rp, p, err := e.pullLocked(repoName, number)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	rv := findReview(p, reviewID)
	if rv == nil {
		e.mu.Unlock()
		return fmt.Errorf("review %d: %w", reviewID, ErrNotFound)
	}
	if err := dismissable(rv); err != nil {
		e.mu.Unlock()
		return err
	}
	events := e.dismiss(rp, p, rv, e.state.userByLogin(login))
	e.mu.Unlock()
	e.deliverAll(ctx, events)
	return nil
}

// MergePullRequest merges the pull request as mergedBy, moving the base
// branch to mergeCommitSHA, and delivers pull_request "closed" with
// merged true. It delivers no push event; call Push for one.
func (e *Emulator) MergePullRequest(ctx context.Context, repoName string, number int, mergedBy, mergeCommitSHA string) error {
	return e.closePull(ctx, repoName, number, mergedBy, mergeCommitSHA)
}

// ClosePullRequest closes the pull request without merging and delivers
// pull_request "closed" with merged false.
func (e *Emulator) ClosePullRequest(ctx context.Context, repoName string, number int, by string) error {
	return e.closePull(ctx, repoName, number, by, "")
}

func (e *Emulator) closePull(ctx context.Context, repoName string, number int, by, mergeSHA string) error {
	e.mu.Lock()
	rp, p, err := e.pullLocked(repoName, number)
	if err == nil && p.closed {
		err = fmt.Errorf("githubemu: pull request %s#%d is already closed", repoName, number)
	}
	if err != nil {
		e.mu.Unlock()
		return err
	}
	actor := e.state.userByLogin(by)
	p.closed, p.closedAt, p.updated = true, e.now(), e.now()
	if mergeSHA != "" {
		p.merged, p.mergeCommitSHA, p.mergedBy = true, mergeSHA, actor
		rp.branches[p.base.ref] = mergeSHA
	}
	events := e.pullEvent(rp, p, "closed", actor)
	e.mu.Unlock()
	e.deliverAll(ctx, events)
	return nil
}
