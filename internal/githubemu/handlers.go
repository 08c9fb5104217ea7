package githubemu

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// routes registers every emulated endpoint.
func (e *Emulator) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /rate_limit", e.getRateLimit)
	m.HandleFunc("GET /user", e.getAuthenticatedUser)
	m.HandleFunc("GET /repos/{owner}/{repo}", e.withRepo(e.getRepo))
	m.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", e.withRepo(e.createStatus))
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{rest...}", e.withRepo(e.commitsSubresource))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls", e.withRepo(e.listPulls))
	m.HandleFunc("POST /repos/{owner}/{repo}/pulls", e.withRepo(e.createPull))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", e.withPull(e.getPull))
	m.HandleFunc("PATCH /repos/{owner}/{repo}/pulls/{number}", e.withPull(e.updatePull))
	m.HandleFunc("PUT /repos/{owner}/{repo}/pulls/{number}/merge", e.withPull(e.mergePull))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/reviews", e.withPull(e.listReviews))
	m.HandleFunc("PUT /repos/{owner}/{repo}/pulls/{number}/reviews/{id}/dismissals", e.withPull(e.dismissReviewHTTP))
	m.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", e.withRepo(e.listComments))
	m.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", e.withRepo(e.createComment))
	m.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", e.withRepo(e.editComment))
	m.HandleFunc("GET /repos/{owner}/{repo}/collaborators/{user}", e.withRepo(e.isCollaborator))
	m.HandleFunc("GET /repos/{owner}/{repo}/collaborators/{user}/permission", e.withRepo(e.getPermission))
	m.HandleFunc("GET /orgs/{org}/teams/{slug}/memberships/{user}", e.getTeamMembership)
	m.HandleFunc("GET /app", e.getApp)
	m.HandleFunc("POST /app/installations/{id}/access_tokens", e.createInstallationToken)
	return m
}

// repoHandler handles a request for an existing, accessible repository.
// It runs with Emulator.mu held and returns webhook events to deliver
// once the lock is released.
type repoHandler func(w http.ResponseWriter, r *http.Request, rp *repo) []event

// withRepo resolves {owner}/{repo}, answering 404 when it does not exist or
// an installation token may not see it, as GitHub does.
func (e *Emulator) withRepo(h repoHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		rp := e.state.repoByName(r.PathValue("owner"), r.PathValue("repo"))
		var events []event
		if rp == nil || !canSee(caller(r), rp) {
			writeNotFound(w)
		} else {
			events = h(w, r, rp)
		}
		e.mu.Unlock()
		e.deliverAll(context.WithoutCancel(r.Context()), events)
	}
}

// pullHandler handles a request for an existing pull request.
type pullHandler func(w http.ResponseWriter, r *http.Request, rp *repo, p *pull) []event

// withPull resolves {number} to a pull request of the repository.
func (e *Emulator) withPull(h pullHandler) http.HandlerFunc {
	return e.withRepo(func(w http.ResponseWriter, r *http.Request, rp *repo) []event {
		n, err := strconv.Atoi(r.PathValue("number"))
		p := rp.pulls[n]
		if err != nil || p == nil {
			writeNotFound(w)
			return nil
		}
		return h(w, r, rp, p)
	})
}

// canSee reports whether id may access rp. Installation tokens only see
// repositories of the account the app is installed on; personal access
// tokens see every repository.
func canSee(id *identity, rp *repo) bool {
	return id.inst == nil || id.inst.account == rp.owner
}

// pathID parses the path value name as a positive integer ID.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// paginate returns the page of items the request asks for (page, per_page;
// perPage items by default, at most 100) and sets GitHub's Link header.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T, perPage int) []T {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	last := max((len(items)+perPage-1)/perPage, 1)
	if links := pageLinks(r, page, perPage, last); links != "" {
		w.Header().Set("Link", links)
	}
	start := min((page-1)*perPage, len(items))
	return items[start:min(start+perPage, len(items))]
}

// pageLinks renders the Link header for page of last.
func pageLinks(r *http.Request, page, perPage, last int) string {
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		u := url.URL{Scheme: "http", Host: r.Host, Path: pathPrefix(r) + r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, link(page-1, "prev"), link(1, "first"))
	}
	if page < last {
		parts = append(parts, link(page+1, "next"), link(last, "last"))
	}
	return strings.Join(parts, ", ")
}

func (e *Emulator) getRepo(w http.ResponseWriter, _ *http.Request, rp *repo) []event {
	writeJSON(w, http.StatusOK, e.renderRepo(rp))
	return nil
}

func (e *Emulator) getAuthenticatedUser(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	writeJSON(w, http.StatusOK, e.renderUser(caller(r).user))
}

type jsonRate struct {
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	Reset     int64  `json:"reset"`
	Used      int    `json:"used"`
	Resource  string `json:"resource"`
}

// getRateLimit answers GET /rate_limit with the caller's core limit.
func (e *Emulator) getRateLimit(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := http.Header{}
	e.limits.headers(h, caller(r).bucket, e.opts.Now())
	num := func(k string) int { n, _ := strconv.Atoi(h.Get(k)); return n }
	reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	core := jsonRate{
		Limit: num("X-RateLimit-Limit"), Remaining: num("X-RateLimit-Remaining"),
		Reset: reset, Used: num("X-RateLimit-Used"), Resource: "core",
	}
	writeJSON(w, http.StatusOK, map[string]any{"resources": map[string]jsonRate{"core": core}, "rate": core})
}
