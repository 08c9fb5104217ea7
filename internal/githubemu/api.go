package githubemu

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned by Go API methods naming a repository, pull
// request or review that does not exist.
var ErrNotFound = errors.New("githubemu: not found")

// zeroSHA is the "before"/"after" of a push that creates/deletes a branch.
const zeroSHA = "0000000000000000000000000000000000000000"

// AddUser creates the user account login if it does not exist and returns
// its ID.
func (e *Emulator) AddUser(login string) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state.userByLogin(login).id
}

// AddOrg creates the organization login, or turns the existing account
// into one.
func (e *Emulator) AddOrg(login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.userByLogin(login).kind = kindOrg
}

// AddToken makes value a personal access token of login (created if new).
// Personal access tokens can see every repository.
func (e *Emulator) AddToken(value, login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.tokens[value] = &token{user: e.state.userByLogin(login)}
}

// AddRepo creates the repository "owner/name" with default branch "main",
// creating the owner as a user if new. Adding an existing repository does
// nothing. Names are case-insensitive, as on GitHub.
func (e *Emulator) AddRepo(fullName string) error {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" {
		return fmt.Errorf("githubemu: repository %q is not owner/name", fullName)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state.repoByName(owner, name) != nil {
		return nil
	}
	e.state.repos[strings.ToLower(fullName)] = &repo{
		id: e.state.id(), owner: e.state.userByLogin(owner), name: name, defaultBranch: "main",
		branches: map[string]string{}, statuses: map[string][]*status{}, pulls: map[int]*pull{},
		comments: map[int][]*comment{}, collaborators: map[string]Permission{},
	}
	return nil
}

// repoLocked returns the repository; e.mu must be held.
func (e *Emulator) repoLocked(fullName string) (*repo, error) {
	owner, name, _ := strings.Cut(fullName, "/")
	rp := e.state.repoByName(owner, name)
	if rp == nil {
		return nil, fmt.Errorf("repository %s: %w", fullName, ErrNotFound)
	}
	return rp, nil
}

// SetPermission makes login (created if new) a collaborator of the
// repository with role p; PermissionNone removes the collaborator.
func (e *Emulator) SetPermission(repoName, login string, p Permission) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp, err := e.repoLocked(repoName)
	if err != nil {
		return err
	}
	u := e.state.userByLogin(login)
	if p == PermissionNone {
		delete(rp.collaborators, strings.ToLower(u.login))
		return nil
	}
	rp.collaborators[strings.ToLower(u.login)] = p
	return nil
}

// AddTeamMember adds login (created if new) to the team org/slug with
// role, creating the organization and team if needed.
func (e *Emulator) AddTeamMember(org, slug, login string, role TeamRole) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := strings.ToLower(org + "/" + slug)
	t := e.state.teams[key]
	if t == nil {
		o := e.state.userByLogin(org)
		o.kind = kindOrg
		t = &team{id: e.state.id(), org: o, slug: slug, members: map[string]TeamRole{}}
		e.state.teams[key] = t
	}
	t.members[strings.ToLower(e.state.userByLogin(login).login)] = role
}

// SetBranch points branch at sha without raising events; see Push for a
// push with webhooks.
func (e *Emulator) SetBranch(repoName, branch, sha string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp, err := e.repoLocked(repoName)
	if err != nil {
		return err
	}
	rp.branches[branch] = sha
	return nil
}

// Status is a commit status as stored by the emulator.
type Status struct {
	// ID is the status ID.
	ID int64
	// State is the posted state.
	State StatusState
	// Context is the context as posted (its case preserved).
	Context string
	// Description and TargetURL are "" when not posted.
	Description, TargetURL string
	// Creator is the login that posted the status.
	Creator string
	// CreatedAt is when it was posted, by the emulator's clock.
	CreatedAt time.Time
}

// Statuses returns the statuses posted for sha, oldest first.
func (e *Emulator) Statuses(repoName, sha string) []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp, err := e.repoLocked(repoName)
	if err != nil {
		return nil
	}
	var out []Status
	for _, s := range rp.statuses[strings.ToLower(sha)] {
		out = append(out, Status{
			ID: s.id, State: StatusState(s.state), Context: s.context, Description: s.description,
			TargetURL: s.targetURL, Creator: s.creator.login, CreatedAt: s.created,
		})
	}
	return out
}

// Comment is an issue comment as stored by the emulator.
type Comment struct {
	// ID is the comment ID used by PATCH .../issues/comments/{id}.
	ID int64
	// Author is the login that posted the comment.
	Author string
	// Body is the current text.
	Body string
	// CreatedAt and UpdatedAt follow the emulator's clock.
	CreatedAt, UpdatedAt time.Time
}

// Comments returns the comments on pull request number, oldest first.
func (e *Emulator) Comments(repoName string, number int) []Comment {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp, err := e.repoLocked(repoName)
	if err != nil {
		return nil
	}
	var out []Comment
	for _, c := range rp.comments[number] {
		out = append(out, Comment{ID: c.id, Author: c.user.login, Body: c.body, CreatedAt: c.created, UpdatedAt: c.updated})
	}
	return out
}

// Push describes a push to a branch.
type Push struct {
	// Branch is the branch name, without "refs/heads/".
	Branch string
	// After is the new tip; "" deletes the branch.
	After string
	// Commits are the pushed commits, oldest first; may be empty.
	Commits []PushCommit
	// Pusher is the login of the person pushing (created if new).
	Pusher string
	// Forced marks a force push.
	Forced bool
}

// PushCommit is one commit of a push event.
type PushCommit struct {
	// SHA is the commit ID.
	SHA string
	// Message is the commit message.
	Message string
	// Author is a login; it is also used for the author's name and email.
	Author string
	// Added, Removed and Modified list changed paths.
	Added, Removed, Modified []string
}

// Push moves the branch, advances open pull requests whose head is the
// branch (delivering pull_request "synchronize"), and delivers a push event.
func (e *Emulator) Push(ctx context.Context, repoName string, p Push) error {
	e.mu.Lock()
	rp, err := e.repoLocked(repoName)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	events := e.applyPush(rp, p)
	e.mu.Unlock()
	e.deliverAll(ctx, events)
	return nil
}

// applyPush updates state for p and returns the events to deliver.
func (e *Emulator) applyPush(rp *repo, p Push) []event {
	pusher := e.state.userByLogin(p.Pusher)
	before, existed := rp.branches[p.Branch]
	if p.After == "" {
		delete(rp.branches, p.Branch)
	} else {
		rp.branches[p.Branch] = p.After
	}
	events := e.renderPush(rp, p, before, existed, pusher)
	for _, pr := range sortedPulls(rp) {
		if !pr.closed && pr.head.ref == p.Branch && p.After != "" {
			pr.head.sha, pr.updated = p.After, e.now()
			pr.headSHAs = append(pr.headSHAs, p.After)
			events = append(events, e.pullEvent(rp, pr, "synchronize", pusher)...)
		}
	}
	return events
}

func (e *Emulator) renderPush(rp *repo, p Push, before string, existed bool, pusher *user) []event {
	if !existed {
		before = zeroSHA
	}
	after := p.After
	if after == "" {
		after = zeroSHA
	}
	commits := []jsonPushCommit{}
	for _, c := range p.Commits {
		commits = append(commits, e.renderPushCommit(rp, c))
	}
	payload := pushEventPayload{
		Ref: "refs/heads/" + p.Branch, Before: before, After: after, Created: !existed, Deleted: p.After == "",
		Forced: p.Forced, Compare: fmt.Sprintf("%s/%s/compare/%.12s...%.12s", e.opts.BaseURL, rp.fullName(), before, after),
		Commits: commits, Repository: e.renderRepo(rp), Sender: e.renderUser(pusher),
		Pusher: jsonCommitAuthor{Name: pusher.login, Email: pusher.login + "@users.noreply.github.com"},
	}
	if len(commits) > 0 {
		payload.HeadCommit = &commits[len(commits)-1]
	}
	return newEvent(EventPush, rp, payload)
}

func (e *Emulator) renderPushCommit(rp *repo, c PushCommit) jsonPushCommit {
	who := jsonCommitAuthor{Name: c.Author, Email: c.Author + "@users.noreply.github.com", Username: c.Author}
	return jsonPushCommit{
		ID: c.SHA, TreeID: c.SHA, Distinct: true, Message: c.Message, Timestamp: timestamp(e.now()),
		URL: e.opts.BaseURL + "/" + rp.fullName() + "/commit/" + c.SHA, Author: who, Committer: who,
		Added: nonNil(c.Added), Removed: nonNil(c.Removed), Modified: nonNil(c.Modified),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
