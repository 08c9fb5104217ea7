package githubemu

import (
	"net/http"
	"slices"
	"strings"
)

// pullFilter is the query of GET /repos/{o}/{r}/pulls.
type pullFilter struct {
	state string // open, closed or all
	head  string // "user:ref" or "ref"; "" for any
	base  string // base branch; "" for any
	sort  string // created or updated
	desc  bool
}

// parsePullFilter reads the list query with GitHub's defaults: open pull
// requests, newest first. It writes a 422 and returns false for an unknown
// state, sort or direction, as GitHub does.
func parsePullFilter(w http.ResponseWriter, r *http.Request) (pullFilter, bool) {
	q := r.URL.Query()
	f := pullFilter{state: q.Get("state"), head: q.Get("head"), base: q.Get("base"), sort: q.Get("sort")}
	if f.state == "" {
		f.state = "open"
	}
	if f.sort == "" || f.sort == "popularity" || f.sort == "long-running" {
		f.sort = "created"
	}
	dir := q.Get("direction")
	if dir == "" {
		dir = "desc"
		if f.sort != "created" {
			dir = "asc"
		}
	}
	f.desc = dir == "desc"
	checks := []struct {
		field string
		ok    bool
	}{
		{"state", slices.Contains([]string{"open", "closed", "all"}, f.state)},
		{"sort", f.sort == "created" || f.sort == "updated"},
		{"direction", dir == "asc" || dir == "desc"},
	}
	for _, c := range checks {
		if !c.ok {
			writeValidation(w, docREST, fieldError{Resource: "PullRequest", Code: "invalid", Field: c.field})
			return f, false
		}
	}
	return f, true
}

// matches reports whether p passes the filter; rp owns p.
func (f pullFilter) matches(rp *repo, p *pull) bool {
	if f.state != "all" && p.state() != f.state {
		return false
	}
	if f.base != "" && p.base.ref != f.base {
		return false
	}
	if f.head == "" {
		return true
	}
	user, ref, ok := strings.Cut(f.head, ":")
	if !ok {
		return p.head.ref == f.head
	}
	return strings.EqualFold(user, rp.owner.login) && p.head.ref == ref
}

// compare orders pull requests by the filter's sort key and direction.
func (f pullFilter) compare(a, b *pull) int {
	ka, kb := a.created, b.created
	if f.sort == "updated" {
		ka, kb = a.updated, b.updated
	}
	c := ka.Compare(kb)
	if c == 0 {
		c = a.number - b.number
	}
	if f.desc {
		return -c
	}
	return c
}

// listPulls handles GET /repos/{o}/{r}/pulls: state (open, closed, all;
// default open), head ("user:ref"), base, sort (created, updated) and
// direction, paginated 30 to a page.
func (e *Emulator) listPulls(w http.ResponseWriter, r *http.Request, rp *repo) []event {
	f, ok := parsePullFilter(w, r)
	if !ok {
		return nil
	}
	var ps []*pull
	for _, p := range rp.pulls {
		if f.matches(rp, p) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, f.compare)
	out := make([]jsonPullSimple, 0, len(ps))
	for _, p := range ps {
		out = append(out, e.renderPullSimple(rp, p))
	}
	writeJSON(w, http.StatusOK, paginate(w, r, out, 30))
	return nil
}
