// Package dashboard serves the agent's pages for people: the version
// matrix at / (applications as rows, environments in promotion order as
// columns) and each application's page at /apps/<source>/<name>, where
// commit statuses link (agent.AppURL). Pages are rendered on the server
// from the agent's views (html/template), in one request each; a small
// script follows the agent's event stream (/api/v1/events) and replaces
// what changed. Templates, style and script are embedded: no build step,
// nothing fetched from another site.
package dashboard

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

//go:embed web
var web embed.FS

// Views is what the dashboard reads: the agent's views, the values the
// API serves (*agent.Agent).
type Views interface {
	Applications() []agent.AppView
	Application(id reconcile.AppID) (agent.AppView, bool)
	Rollout(app reconcile.AppID, env, which string) (*agent.RolloutView, error)
	History(app reconcile.AppID, env, before string, limit int) (agent.HistoryView, error)
	Sources() []agent.SourceView
}

var _ Views = (*agent.Agent)(nil)

// Options configure the dashboard.
type Options struct {
	// EventsURL is the path of the agent's event stream that pages follow.
	// Default "/api/v1/events".
	EventsURL string
	// Logger receives what goes wrong while rendering. Default
	// slog.Default().
	Logger *slog.Logger
	// Clock says when "now" is, for times shown as "5 minutes ago"; the
	// agent's clock. Default the wall clock.
	Clock clock.PassiveClock
	// Links gives the addresses of a source's repository (commits, pull
	// requests, statuses); nil for none.
	Links func(source string) RepoLinks
	// Require lets a request read, or answers it (the agent's
	// Require(agent.ScopeRead, ...)); nil lets every request read.
	Require func(http.Handler) http.Handler
	// Write lets a request act (the agent's Require(agent.ScopeWrite,
	// ...)): an application's page shows the buttons of the actions that
	// apply to requests it lets through; nil shows none.
	Write func(http.Handler) http.Handler
	// ViewsFor, when set, gives the views to read a request's pages from
	// (the agent's ViewsFor: with several agents, each application's from
	// its owner, asked with the request's credentials); nil reads every
	// page from the views given to New.
	ViewsFor func(r *http.Request) Views
	// SecureCookie marks the token cookie Secure (HTTPS only) even when
	// the agent serves plain HTTP behind a proxy that terminates TLS: set
	// it when server.externalURL is https.
	SecureCookie bool
}

// Dashboard serves the pages; everything else goes to the handler it
// wraps (the agent's API, metrics and webhooks).
type Dashboard struct {
	views Views
	next  http.Handler
	opts  Options
	pages *template.Template
	mux   *http.ServeMux
}

// New returns the dashboard over views, passing every other route to
// next.
func New(views Views, next http.Handler, opts Options) *Dashboard {
	if opts.EventsURL == "" {
		opts.EventsURL = "/api/v1/events"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	d := &Dashboard{views: views, next: next, opts: opts, pages: parseTemplates(), mux: http.NewServeMux()}
	d.routes()
	return d
}

// routes registers the dashboard's pages; the rest goes to next.
func (d *Dashboard) routes() {
	assets, _ := fs.Sub(web, "web/assets")
	d.mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets))))
	d.mux.HandleFunc("GET /login", d.serveLogin)
	d.mux.HandleFunc("GET /logout", d.serveLogout)
	d.mux.Handle("GET /{$}", d.guard(d.withViews((*Dashboard).serveMatrix)))
	d.mux.Handle("GET /apps/{name}", d.guard(d.withViews((*Dashboard).serveChooser)))
	d.mux.Handle("GET /apps/{source}/{name}", d.guard(d.withViews((*Dashboard).serveApp)))
	d.mux.Handle("/", d.next)
}

// withViews serves a page with the views of its request
// (Options.ViewsFor).
func (d *Dashboard) withViews(h func(*Dashboard, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d.opts.ViewsFor == nil {
			h(d, w, r)
			return
		}
		per := *d
		per.views = d.opts.ViewsFor(r)
		h(&per, w, r)
	}
}

// ServeHTTP serves a page, an asset, or passes the request on.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

// cacheAssets lets browsers keep the embedded assets for an hour: they
// change only with the binary.
func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// render executes the named template into a buffer first, so that a
// failure answers 500 instead of half a page.
func (d *Dashboard) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := d.pages.ExecuteTemplate(&buf, name, data); err != nil {
		d.opts.Logger.Error("cannot render a dashboard page", "template", name, "err", err)
		http.Error(w, "the page could not be rendered; the agent's log says why", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// page is what every full page's layout needs.
type page struct {
	Title     string
	EventsURL string
	Now       time.Time
	Body      any
}
