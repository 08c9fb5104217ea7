package githubemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ReviewState is the state of a pull request review, as the REST API
// reports it.
type ReviewState string

// Review states.
const (
	ReviewApproved         ReviewState = "APPROVED"
	ReviewChangesRequested ReviewState = "CHANGES_REQUESTED"
	ReviewCommented        ReviewState = "COMMENTED"
	ReviewDismissed        ReviewState = "DISMISSED"
	ReviewPending          ReviewState = "PENDING"
)

type jsonPullRef struct {
	Label string   `json:"label"`
	Ref   string   `json:"ref"`
	SHA   string   `json:"sha"`
	User  jsonUser `json:"user"`
	Repo  jsonRepo `json:"repo"`
}

// jsonPullSimple is the pull request shape of list endpoints.
type jsonPullSimple struct {
	URL               string      `json:"url"`
	ID                int64       `json:"id"`
	NodeID            string      `json:"node_id"`
	HTMLURL           string      `json:"html_url"`
	IssueURL          string      `json:"issue_url"`
	Number            int         `json:"number"`
	State             string      `json:"state"`
	Locked            bool        `json:"locked"`
	Title             string      `json:"title"`
	User              jsonUser    `json:"user"`
	Body              *string     `json:"body"`
	CreatedAt         string      `json:"created_at"`
	UpdatedAt         string      `json:"updated_at"`
	ClosedAt          *string     `json:"closed_at"`
	MergedAt          *string     `json:"merged_at"`
	MergeCommitSHA    *string     `json:"merge_commit_sha"`
	Draft             bool        `json:"draft"`
	Head              jsonPullRef `json:"head"`
	Base              jsonPullRef `json:"base"`
	AuthorAssociation string      `json:"author_association"`
}

// jsonPull is the full pull request shape of GET .../pulls/{number}.
type jsonPull struct {
	jsonPullSimple
	Merged         bool      `json:"merged"`
	Mergeable      *bool     `json:"mergeable"`
	MergeableState string    `json:"mergeable_state"`
	MergedBy       *jsonUser `json:"merged_by"`
	Comments       int       `json:"comments"`
	ReviewComments int       `json:"review_comments"`
	Commits        int       `json:"commits"`
}

type jsonReview struct {
	ID                int64    `json:"id"`
	NodeID            string   `json:"node_id"`
	User              jsonUser `json:"user"`
	Body              string   `json:"body"`
	State             string   `json:"state"`
	HTMLURL           string   `json:"html_url"`
	PullRequestURL    string   `json:"pull_request_url"`
	AuthorAssociation string   `json:"author_association"`
	SubmittedAt       *string  `json:"submitted_at,omitempty"`
	CommitID          string   `json:"commit_id"`
}

func (p *pull) state() string {
	if p.closed {
		return "closed"
	}
	return "open"
}

func (e *Emulator) renderPullRef(rp *repo, ref branchRef) jsonPullRef {
	return jsonPullRef{
		Label: rp.owner.login + ":" + ref.ref, Ref: ref.ref, SHA: ref.sha,
		User: e.renderUser(rp.owner), Repo: e.renderRepo(rp),
	}
}

func (e *Emulator) renderPullSimple(rp *repo, p *pull) jsonPullSimple {
	base := e.opts.BaseURL + "/" + rp.fullName()
	j := jsonPullSimple{
		URL: fmt.Sprintf("%s/pulls/%d", e.repoURL(rp), p.number), ID: p.id, NodeID: nodeID("PullRequest", p.id),
		HTMLURL: fmt.Sprintf("%s/pull/%d", base, p.number), IssueURL: fmt.Sprintf("%s/issues/%d", e.repoURL(rp), p.number),
		Number: p.number, State: p.state(), Title: p.title, User: e.renderUser(p.author), Body: optString(p.body),
		CreatedAt: timestamp(p.created), UpdatedAt: timestamp(p.updated), ClosedAt: optTimestamp(p.closedAt),
		MergeCommitSHA: optString(p.mergeCommitSHA), Draft: p.draft,
		Head: e.renderPullRef(rp, p.head), Base: e.renderPullRef(rp, p.base),
		AuthorAssociation: e.association(rp, p.author),
	}
	if p.merged {
		j.MergedAt = optTimestamp(p.closedAt)
	}
	return j
}

func (e *Emulator) renderPull(rp *repo, p *pull) jsonPull {
	j := jsonPull{
		jsonPullSimple: e.renderPullSimple(rp, p), Merged: p.merged, MergeableState: "unknown",
		MergedBy: e.optUser(p.mergedBy), Comments: len(rp.comments[p.number]), Commits: len(p.headSHAs),
	}
	if !p.closed {
		t := true
		j.Mergeable, j.MergeableState = &t, "clean"
	}
	return j
}

func (e *Emulator) renderReview(rp *repo, p *pull, rv *review) jsonReview {
	return jsonReview{
		ID: rv.id, NodeID: nodeID("PullRequestReview", rv.id), User: e.renderUser(rv.user), Body: rv.body,
		State:             string(rv.state),
		HTMLURL:           fmt.Sprintf("%s/%s/pull/%d#pullrequestreview-%d", e.opts.BaseURL, rp.fullName(), p.number, rv.id),
		PullRequestURL:    fmt.Sprintf("%s/pulls/%d", e.repoURL(rp), p.number),
		AuthorAssociation: e.association(rp, rv.user), SubmittedAt: optTimestamp(rv.submitted),
		CommitID: rv.commitID,
	}
}

// association returns GitHub's author_association of u in rp.
func (e *Emulator) association(rp *repo, u *user) string {
	switch {
	case u == rp.owner:
		return "OWNER"
	case e.isOrgMember(rp.owner, u):
		return "MEMBER"
	case rp.collaborators[strings.ToLower(u.login)] != "":
		return "COLLABORATOR"
	case e.hasMergedPull(rp, u):
		return "CONTRIBUTOR"
	default:
		return "NONE"
	}
}

func (e *Emulator) isOrgMember(org, u *user) bool {
	for _, t := range e.state.teams {
		if t.org == org && t.members[strings.ToLower(u.login)] != "" {
			return true
		}
	}
	return false
}

func (e *Emulator) hasMergedPull(rp *repo, u *user) bool {
	for _, p := range rp.pulls {
		if p.author == u && p.merged {
			return true
		}
	}
	return false
}

func (e *Emulator) getPull(w http.ResponseWriter, _ *http.Request, rp *repo, p *pull) []event {
	writeJSON(w, http.StatusOK, e.renderPull(rp, p))
	return nil
}

// pullsForCommit answers GET .../commits/{sha}/pulls: pull requests whose
// head has been at the commit, or that were merged as it.
func (e *Emulator) pullsForCommit(w http.ResponseWriter, r *http.Request, rp *repo, ref string) {
	sha, ok := resolveRef(w, rp, ref)
	if !ok {
		return
	}
	out := []jsonPullSimple{}
	for _, p := range sortedPulls(rp) {
		if slices.Contains(p.headSHAs, sha) || p.mergeCommitSHA == sha {
			out = append(out, e.renderPullSimple(rp, p))
		}
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out, 30))
}

func sortedPulls(rp *repo) []*pull {
	ps := make([]*pull, 0, len(rp.pulls))
	for _, p := range rp.pulls {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *pull) int { return a.number - b.number })
	return ps
}

// listReviews answers with the reviews in chronological order. Pending
// reviews are visible only to their author, as on GitHub.
func (e *Emulator) listReviews(w http.ResponseWriter, r *http.Request, rp *repo, p *pull) []event {
	me := caller(r).user
	out := []jsonReview{}
	for _, rv := range p.reviews {
		if rv.state == ReviewPending && rv.user != me {
			continue
		}
		out = append(out, e.renderReview(rp, p, rv))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out, 30))
	return nil
}

// dismissReviewHTTP handles PUT .../pulls/{number}/reviews/{id}/dismissals.
func (e *Emulator) dismissReviewHTTP(w http.ResponseWriter, r *http.Request, rp *repo, p *pull) []event {
	id, _ := pathID(r, "id")
	var req struct {
		Message string `json:"message"`
	}
	if !decodeBody(w, r, &req) {
		return nil
	}
	rv := findReview(p, id)
	switch {
	case rv == nil:
		writeNotFound(w)
		return nil
	case req.Message == "":
		writeValidation(w, docREST, fieldError{Resource: "PullRequestReview", Code: "missing_field", Field: "message"})
		return nil
	}
	if err := dismissable(rv); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error(), docREST)
		return nil
	}
	ev := e.dismiss(rp, p, rv, caller(r).user)
	writeJSON(w, http.StatusOK, e.renderReview(rp, p, rv))
	return ev
}

func findReview(p *pull, id int64) *review {
	for _, rv := range p.reviews {
		if rv.id == id {
			return rv
		}
	}
	return nil
}

// dismissable returns GitHub's error for dismissing a review that is not an
// approval or a change request.
func dismissable(rv *review) error {
	switch rv.state {
	case ReviewApproved, ReviewChangesRequested:
		return nil
	default:
		return fmt.Errorf("Can not dismiss a %s pull request review", strings.ToLower(string(rv.state)))
	}
}

// dismiss marks rv dismissed and returns the webhook event.
func (e *Emulator) dismiss(rp *repo, p *pull, rv *review, sender *user) []event {
	rv.state = ReviewDismissed
	p.updated = e.now()
	return e.reviewEvent(rp, p, rv, "dismissed", sender)
}
