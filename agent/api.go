package agent

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jibe-dev/jibe/reconcile"
)

// Handler serves the agent's HTTP API (docs/api.md): /healthz, /readyz,
// /metrics, the read endpoints under /api/v1 behind the read scope (see Require),
// and webhooks under /hooks/ when given (signed, so without tokens).
func (a *Agent) Handler(webhooks http.Handler) http.Handler {
	mux := http.NewServeMux()
	a.Routes(mux)
	if webhooks != nil {
		mux.Handle("/hooks/", a.relaying(webhooks))
	}
	return mux
}

// Routes adds the agent's routes but webhooks to mux, for a server that
// adds its own (the dashboard's pages).
func (a *Agent) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", a.serveHealthz)
	mux.HandleFunc("GET /readyz", a.serveReadyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{}))
	read := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, a.Require(ScopeRead, h)) }
	read("GET /api/v1/applications", a.serveApplications)
	read("GET /api/v1/applications/{source}/{name}", a.fromOwner(a.serveApplication))
	read("GET /api/v1/applications/{source}/{name}/environments/{env}/rollout", a.fromOwner(a.serveRollout))
	read("GET /api/v1/applications/{source}/{name}/environments/{env}/rollouts/{id}", a.fromOwner(a.serveRollout))
	read("GET /api/v1/applications/{source}/{name}/environments/{env}/history", a.fromOwner(a.serveHistory))
	read("GET /api/v1/sources", a.serveSources)
	read("GET /api/v1/events", a.serveEvents)
	a.actionRoutes(mux)
}

// serveHealthz answers 200: "ok", or "degraded" with what fails (a
// source whose polls fail) so that a person looking sees it. Probes keep
// passing: restarting the agent would not fix a source.
func (a *Agent) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	var failing []string
	for _, s := range a.Sources() {
		if s.State == SourceFailing {
			failing = append(failing, fmt.Sprintf("source %s: %d failed poll(s) in a row", s.Name, s.Failures))
		}
	}
	if len(failing) == 0 {
		w.Write([]byte("ok\n"))
		return
	}
	w.Write([]byte("degraded: " + strings.Join(failing, "; ") + " (see GET /api/v1/sources)\n"))
}

// serveApplications serves the applications the query selects:
// ?source=, ?state=, ?q= (see AppFilter). When agents share the journal,
// each application's view is its owner's (see listFromOwners); a list
// asked by another agent holds the applications this agent owns.
func (a *Agent) serveApplications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	forwarded := a.opts.Peers != nil && r.Header.Get(ForwardedHeader) != ""
	views := a.views(AppFilter{Source: q.Get("source"), State: q.Get("state"), Text: q.Get("q"), owned: forwarded})
	// Each application's JSON is encoded once per change of its view.
	parts, size := make([][]byte, len(views)), len("[]\n")
	if a.opts.Peers != nil && !forwarded {
		parts = a.listFromOwners(r, views)
	}
	for i, v := range views {
		if parts[i] == nil {
			parts[i] = v.encoded(&a.encodeMu)
		}
		size += len(parts[i]) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '[')
	for i, p := range parts {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, p...)
	}
	buf = append(buf, "]\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.Write(buf)
}

// serveApplication serves the view of one application, by source and
// name; 404 when the agent has none of that identity. missing says why
// the view lacks its owner's live fields (see fromOwner), "" for none.
func (a *Agent) serveApplication(w http.ResponseWriter, r *http.Request, missing string) {
	id := appIDOf(r)
	v, ok := a.Application(id)
	if !ok {
		http.Error(w, fmt.Sprintf("no application %s: GET /api/v1/applications lists them", id), http.StatusNotFound)
		return
	}
	if missing != "" {
		v = withoutLive(v, missing)
	}
	writeJSON(w, v)
}

// serveRollout serves an environment's latest rollout, or the one of
// {id} (a revision, or what follows the environment in a rollout's ID);
// missing is as in serveApplication.
func (a *Agent) serveRollout(w http.ResponseWriter, r *http.Request, missing string) {
	id, env := appIDOf(r), r.PathValue("env")
	v, err := a.Rollout(id, env, r.PathValue("id"))
	if errors.Is(err, reconcile.ErrNoRollout) {
		http.Error(w, fmt.Sprintf("no such rollout of %s in %s: GET /api/v1/applications/%s/environments/%s/history lists them", id, env, id, env), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "reading the journal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if missing != "" {
		rolloutWithoutLive(v, missing)
	}
	writeJSON(w, v)
}

// serveHistory serves a page of an environment's rollouts: ?limit=
// (default 20, at most 100) and ?before= (the previous page's next). Its
// owner's answer holds who approved (ApprovedBy), which only it saw; when
// it cannot be asked, the journal's page is served, marked LiveMissing.
func (a *Agent) serveHistory(w http.ResponseWriter, r *http.Request, missing string) {
	limit := defaultHistoryPage
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxHistoryPage {
			http.Error(w, fmt.Sprintf("limit=%s: give a number from 1 to %d", url.QueryEscape(s), maxHistoryPage), http.StatusBadRequest)
			return
		}
		limit = n
	}
	v, err := a.History(appIDOf(r), r.PathValue("env"), r.URL.Query().Get("before"), limit)
	if err != nil {
		http.Error(w, "reading the journal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	v.LiveMissing = missing
	writeJSON(w, v)
}

// serveSources serves every configured source's status; when agents
// share the journal, with each application's drift from its owner.
func (a *Agent) serveSources(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, a.sourcesFromOwners(r))
}

func appIDOf(r *http.Request) reconcile.AppID {
	return reconcile.AppID{Source: r.PathValue("source"), Name: r.PathValue("name")}
}
