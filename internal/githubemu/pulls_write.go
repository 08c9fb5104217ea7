package githubemu

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// BranchProtection is what the emulator models of a branch protection
// rule: the approving reviews a pull request needs before it may be
// merged into the branch.
type BranchProtection struct {
	// RequiredApprovals is the number of approving reviews, by reviewers
	// with write access, a pull request needs to be merged.
	RequiredApprovals int
}

// ProtectBranch sets (or, with the zero value, removes) the protection of
// branch in repoName.
func (e *Emulator) ProtectBranch(repoName, branch string, p BranchProtection) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp, err := e.repoLocked(repoName)
	if err != nil {
		return err
	}
	if rp.protection == nil {
		rp.protection = map[string]BranchProtection{}
	}
	rp.protection[branch] = p
	return nil
}

// createPullRequest is the body of POST /repos/{o}/{r}/pulls.
type createPullRequest struct {
	Title *string `json:"title"`
	Head  string  `json:"head"`
	Base  string  `json:"base"`
	Body  *string `json:"body"`
	Draft bool    `json:"draft"`
}

// createPull handles POST /repos/{o}/{r}/pulls: head ("branch" or
// "owner:branch") and base must be branches of the repository with
// commits between them, and no open pull request may have the same head
// and base. Answers 201 with the pull request and delivers "opened".
func (e *Emulator) createPull(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	var req createPullRequest
	if !decodeBody(w, r, &req) {
		return nil
	}
	events, err := e.syncLocked(rp)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), docREST)
		return events
	}
	head, ok := headBranch(rp, req.Head)
	if fe := checkNewPull(rp, req, head, ok); fe != nil {
		writeValidation(w, docREST+"/pulls/pulls#create-a-pull-request", *fe)
		return events
	}
	p, _ := e.openPull(rp, NewPullRequest{
		Title: *req.Title, Body: deref(req.Body), Author: caller(r).user.login, Head: head, Base: req.Base, Draft: req.Draft,
	})
	p.author = caller(r).user
	if err := e.setPullRefs(rp); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), docREST)
		return events
	}
	writeJSON(w, http.StatusCreated, e.renderPull(rp, p))
	return append(events, e.pullEvent(rp, p, "opened", p.author)...)
}

// headBranch resolves "owner:branch" or "branch" to a branch of rp.
func headBranch(rp *repo, head string) (string, bool) {
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, rp.owner.login) {
			return "", false
		}
		head = branch
	}
	_, ok := rp.branches[head]
	return head, ok
}

// checkNewPull returns GitHub's validation error for a pull request that
// cannot be opened, nil when it can.
func checkNewPull(rp *repo, req createPullRequest, head string, headOK bool) *fieldError {
	switch {
	case req.Title == nil || *req.Title == "":
		return &fieldError{Resource: "PullRequest", Code: "missing_field", Field: "title"}
	case req.Base == "":
		return &fieldError{Resource: "PullRequest", Code: "missing_field", Field: "base"}
	case req.Head == "":
		return &fieldError{Resource: "PullRequest", Code: "missing_field", Field: "head"}
	case rp.branches[req.Base] == "":
		return &fieldError{Resource: "PullRequest", Code: "invalid", Field: "base"}
	case !headOK:
		return &fieldError{Resource: "PullRequest", Code: "invalid", Field: "head"}
	case rp.branches[head] == rp.branches[req.Base]:
		return &fieldError{Resource: "PullRequest", Code: "custom", Message: fmt.Sprintf("No commits between %s and %s", req.Base, head)}
	}
	for _, p := range rp.pulls {
		if !p.closed && p.head.ref == head && p.base.ref == req.Base {
			return &fieldError{Resource: "PullRequest", Code: "custom", Message: fmt.Sprintf("A pull request already exists for %s:%s.", rp.owner.login, head)}
		}
	}
	return nil
}

// updatePullRequest is the body of PATCH .../pulls/{number}.
type updatePullRequest struct {
	Title *string `json:"title"`
	Body  *string `json:"body"`
	State *string `json:"state"`
}

// updatePull handles PATCH .../pulls/{number}: title, body and state
// (closed, or open to reopen a pull request closed without merging). Its
// author, app installations and users with write access may update it.
// Delivers "edited", "closed" or "reopened".
func (e *Emulator) updatePull(w http.ResponseWriter, r *http.Request, rp *repo, p *pull) []event {
	var req updatePullRequest
	if !decodeBody(w, r, &req) {
		return nil
	}
	id := caller(r)
	if p.author != id.user && id.inst == nil && !rp.permission(id.user).canWrite() {
		writeError(w, http.StatusForbidden, "Resource not accessible by personal access token", docREST)
		return nil
	}
	if fe := checkPullUpdate(rp, p, req); fe != nil {
		writeValidation(w, docREST+"/pulls/pulls#update-a-pull-request", *fe)
		return nil
	}
	events := e.editPull(rp, p, req, id.user)
	writeJSON(w, http.StatusOK, e.renderPull(rp, p))
	return events
}

// checkPullUpdate returns GitHub's validation error for an update that
// cannot be made, nil when it can.
func checkPullUpdate(rp *repo, p *pull, req updatePullRequest) *fieldError {
	switch {
	case req.State != nil && *req.State != "open" && *req.State != "closed":
		return &fieldError{Resource: "PullRequest", Code: "invalid", Field: "state"}
	case req.State != nil && *req.State == "open" && p.merged:
		return &fieldError{Resource: "PullRequest", Code: "custom", Field: "state", Message: "state cannot be changed. The pull request has been merged."}
	case req.State != nil && *req.State == "open" && p.closed:
		for _, o := range rp.pulls {
			if !o.closed && o.head.ref == p.head.ref && o.base.ref == p.base.ref {
				return &fieldError{Resource: "PullRequest", Code: "custom", Field: "state", Message: fmt.Sprintf("state cannot be changed. There is already an open pull request from %s to %s.", p.head.ref, p.base.ref)}
			}
		}
	}
	return nil
}

// editPull applies an update and returns its webhook events.
func (e *Emulator) editPull(rp *repo, p *pull, req updatePullRequest, by *user) []event {
	var events []event
	if req.Title != nil || req.Body != nil {
		if req.Title != nil {
			p.title = *req.Title
		}
		if req.Body != nil {
			p.body = *req.Body
		}
		p.updated = e.now()
		events = append(events, e.pullEvent(rp, p, "edited", by)...)
	}
	switch {
	case req.State == nil:
	case *req.State == "closed" && !p.closed:
		p.closed, p.closedAt, p.updated = true, e.now(), e.now()
		events = append(events, e.pullEvent(rp, p, "closed", by)...)
	case *req.State == "open" && p.closed:
		p.closed, p.closedAt, p.updated = false, time.Time{}, e.now()
		if sha := rp.branches[p.head.ref]; sha != "" && sha != p.head.sha {
			p.head.sha, p.headSHAs = sha, append(p.headSHAs, sha)
		}
		events = append(events, e.pullEvent(rp, p, "reopened", by)...)
	}
	return events
}

// mergePullRequest is the body of PUT .../pulls/{number}/merge.
type mergePullRequest struct {
	CommitTitle   string `json:"commit_title"`
	CommitMessage string `json:"commit_message"`
	SHA           string `json:"sha"`
	MergeMethod   string `json:"merge_method"`
}

// mergePull handles PUT .../pulls/{number}/merge with a merge commit:
// 403 without write access, 405 when the pull request is closed, lacks
// the approvals its base branch's protection requires or conflicts, 409
// when sha is not the head. A linked Git repository gets a real merge
// commit. Delivers pull_request "closed" (merged) and the base's push.
func (e *Emulator) mergePull(w http.ResponseWriter, r *http.Request, rp *repo, p *pull) []event {
	var req mergePullRequest
	if !decodeBody(w, r, &req) {
		return nil
	}
	events, err := e.syncLocked(rp)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), docREST)
		return events
	}
	id := caller(r)
	if status, msg := e.mergeable(rp, p, id, req); status != 0 {
		writeError(w, status, msg, docREST+"/pulls/pulls#merge-a-pull-request")
		return events
	}
	sha, err := e.mergeCommit(rp, p, req, id.user)
	if err != nil {
		writeError(w, http.StatusMethodNotAllowed, "Pull Request is not mergeable", docREST+"/pulls/pulls#merge-a-pull-request")
		return events
	}
	p.closed, p.closedAt, p.updated = true, e.now(), e.now()
	p.merged, p.mergeCommitSHA, p.mergedBy = true, sha, id.user
	events = append(events, e.pullEvent(rp, p, "closed", id.user)...)
	events = append(events, e.applyPush(rp, Push{Branch: p.base.ref, After: sha, Pusher: id.user.login,
		Commits: []PushCommit{{SHA: sha, Message: mergeTitle(p, req), Author: id.user.login}}})...)
	writeJSON(w, http.StatusOK, map[string]any{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
	return events
}

// mergeable returns the status and message GitHub refuses a merge with,
// 0 when the merge may proceed.
func (e *Emulator) mergeable(rp *repo, p *pull, id *identity, req mergePullRequest) (int, string) {
	need := rp.protection[p.base.ref].RequiredApprovals
	switch {
	case id.inst == nil && !rp.permission(id.user).canWrite():
		return http.StatusForbidden, "Resource not accessible by personal access token"
	case p.closed:
		return http.StatusMethodNotAllowed, "Pull Request is not mergeable"
	case req.SHA != "" && req.SHA != p.head.sha:
		return http.StatusConflict, "Head branch was modified. Review and try the merge again."
	case req.MergeMethod != "" && req.MergeMethod != "merge":
		return http.StatusMethodNotAllowed, "Only merge commits are supported by the emulator"
	case approvals(rp, p) < need:
		return http.StatusMethodNotAllowed, fmt.Sprintf("At least %d approving review%s required by reviewers with write access.", need, plural(need))
	}
	return 0, ""
}

func plural(n int) string {
	if n == 1 {
		return " is"
	}
	return "s are"
}

// approvals counts the reviewers with write access whose latest approval
// or change request is an approval, as branch protection counts them.
func approvals(rp *repo, p *pull) int {
	latest := map[*user]ReviewState{}
	for _, rv := range p.reviews {
		if rv.state != ReviewCommented && rv.state != ReviewPending {
			latest[rv.user] = rv.state
		}
	}
	n := 0
	for u, st := range latest {
		if st == ReviewApproved && u != p.author && rp.permission(u).canWrite() {
			n++
		}
	}
	return n
}

// mergeCommit makes the merge commit in the linked repository, or names
// one when the repository is not linked.
func (e *Emulator) mergeCommit(rp *repo, p *pull, req mergePullRequest, by *user) (string, error) {
	msg := mergeTitle(p, req)
	if req.CommitMessage != "" {
		msg += "\n\n" + req.CommitMessage
	}
	if rp.git == nil {
		sum := sha1.Sum([]byte(fmt.Sprintf("%s#%d@%s", rp.fullName(), p.number, p.head.sha)))
		return hex.EncodeToString(sum[:]), nil
	}
	return rp.git.MergeBranches(p.base.ref, p.head.ref, msg, fmt.Sprintf("%s <%s@users.noreply.github.com>", by.login, by.login))
}

func mergeTitle(p *pull, req mergePullRequest) string {
	if req.CommitTitle != "" {
		return req.CommitTitle
	}
	return fmt.Sprintf("Merge pull request #%d from %s", p.number, p.head.ref)
}
