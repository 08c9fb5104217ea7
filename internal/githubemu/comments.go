package githubemu

import (
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
)

type jsonComment struct {
	ID                int64    `json:"id"`
	NodeID            string   `json:"node_id"`
	URL               string   `json:"url"`
	HTMLURL           string   `json:"html_url"`
	IssueURL          string   `json:"issue_url"`
	Body              string   `json:"body"`
	User              jsonUser `json:"user"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
	AuthorAssociation string   `json:"author_association"`
}

func (e *Emulator) renderComment(rp *repo, c *comment) jsonComment {
	return jsonComment{
		ID: c.id, NodeID: nodeID("IssueComment", c.id),
		URL:      fmt.Sprintf("%s/issues/comments/%d", e.repoURL(rp), c.id),
		HTMLURL:  fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", e.opts.BaseURL, rp.fullName(), c.issue, c.id),
		IssueURL: fmt.Sprintf("%s/issues/%d", e.repoURL(rp), c.issue),
		Body:     c.body, User: e.renderUser(c.user), CreatedAt: timestamp(c.created), UpdatedAt: timestamp(c.updated),
		AuthorAssociation: e.association(rp, c.user),
	}
}

// issueNumber parses {number}, answering 404 unless it names a pull request
// (the emulator has no plain issues).
func issueNumber(w http.ResponseWriter, r *http.Request, rp *repo) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || rp.pulls[n] == nil {
		writeNotFound(w)
		return 0, false
	}
	return n, true
}

// listComments handles GET .../issues/{number}/comments, oldest first.
func (e *Emulator) listComments(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	n, ok := issueNumber(w, r, rp)
	if !ok {
		return nil
	}
	out := []jsonComment{}
	for _, c := range rp.comments[n] {
		out = append(out, e.renderComment(rp, c))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out, 30))
	return nil
}

type commentRequest struct {
	Body *string `json:"body"`
}

// createComment handles POST .../issues/{number}/comments.
func (e *Emulator) createComment(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	n, ok := issueNumber(w, r, rp)
	var req commentRequest
	if !ok || !decodeBody(w, r, &req) || !requireBody(w, req, docCreateComment) {
		return nil
	}
	now := e.now()
	c := &comment{id: e.state.id(), issue: n, body: *req.Body, user: caller(r).user, created: now, updated: now}
	rp.comments[n] = append(rp.comments[n], c)
	writeJSON(w, http.StatusCreated, e.renderComment(rp, c))
	return nil
}

// editComment handles PATCH .../issues/comments/{id}. The author, an app
// installation and users with write access may edit a comment.
func (e *Emulator) editComment(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	id, _ := pathID(r, "id")
	c := findComment(rp, id)
	var req commentRequest
	if c == nil {
		writeNotFound(w)
		return nil
	}
	if !decodeBody(w, r, &req) || !requireBody(w, req, docEditComment) {
		return nil
	}
	if id := caller(r); c.user != id.user && id.inst == nil && !rp.permission(id.user).canWrite() {
		writeError(w, http.StatusForbidden, "Resource not accessible by personal access token", docREST)
		return nil
	}
	c.body, c.updated = *req.Body, e.now()
	writeJSON(w, http.StatusOK, e.renderComment(rp, c))
	return nil
}

// maxCommentBody is the longest comment body GitHub accepts, in characters.
const maxCommentBody = 65536

// requireBody writes GitHub's 422 for a comment without a body or with one
// longer than maxCommentBody characters.
func requireBody(w http.ResponseWriter, req commentRequest, doc string) bool {
	switch {
	case req.Body == nil || *req.Body == "":
		writeValidation(w, doc, fieldError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
		return false
	case utf8.RuneCountInString(*req.Body) > maxCommentBody:
		writeValidation(w, doc, fieldError{Resource: "IssueComment", Code: "unprocessable", Field: "data",
			Message: fmt.Sprintf("Body is too long (maximum is %d characters)", maxCommentBody)})
		return false
	}
	return true
}

func findComment(rp *repo, id int64) *comment {
	for _, cs := range rp.comments {
		for _, c := range cs {
			if c.id == id {
				return c
			}
		}
	}
	return nil
}
