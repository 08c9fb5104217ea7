package dashboard

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

// parseTemplates parses the embedded templates; they are part of the
// binary, so a failure is a programming error caught by every test.
func parseTemplates() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"short":   reconcile.ShortRevision,
		"ago":     ago,
		"join":    strings.Join,
		"apppath": appPath,
		"percent": percent,
		"weight": func(w *float64) string {
			if w == nil {
				return ""
			}
			return percent(*w)
		},
		"statename": func(s string) State { return stateOf(&agent.EnvView{State: s}) },
		"revlink":   func(l RepoLinks, rev string) link { return link{Rev: rev, URL: l.Commit(rev)} },
		"pulllink":  func(l RepoLinks, n int) link { return link{N: n, URL: l.Pull(n)} },
		"envdata": func(e envSection, l RepoLinks, now time.Time) envData {
			return envData{Env: e, Repo: l, Now: now}
		},
		"rolldata": func(r *agent.RolloutView, l RepoLinks, now time.Time) rollData {
			return rollData{Rollout: r, Repo: l, Now: now}
		},
		"histdata": func(h []agent.HistoryEntry, l RepoLinks) histData { return histData{Entries: h, Repo: l} },
		"clock": func(t time.Time) string {
			return t.UTC().Format("Jan 2 15:04:05")
		},
		"rfc3339": func(t time.Time) string {
			return t.UTC().Format(time.RFC3339)
		},
		"seconds": func(s float64) string {
			return (time.Duration(s) * time.Second).String()
		},
	}).ParseFS(web, "web/*.html"))
}

// link is a revision or a pull request and its address, "" when unknown.
type link struct {
	Rev string
	N   int
	URL string
}

// envData, rollData and histData carry the repository's links and the
// time of the page into the templates of a section.
type (
	envData struct {
		Env  envSection
		Repo RepoLinks
		Now  time.Time
	}
	rollData struct {
		Rollout *agent.RolloutView
		Repo    RepoLinks
		Now     time.Time
	}
	histData struct {
		Entries []agent.HistoryEntry
		Repo    RepoLinks
	}
)

// ago says how long before now t was, in the largest whole unit.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}

// serveMatrix serves the version matrix.
func (d *Dashboard) serveMatrix(w http.ResponseWriter, r *http.Request) {
	m := buildMatrix(d.views.Applications(), filterOf(r.URL.Query()))
	d.render(w, http.StatusOK, "matrix", d.page("Applications", m))
}

// serveRow serves the matrix row of v under the columns the page shows
// (?cols=staging,production).
func (d *Dashboard) serveRow(w http.ResponseWriter, r *http.Request, v agent.AppView) {
	cols := strings.Split(r.URL.Query().Get("cols"), ",")
	d.render(w, http.StatusOK, "row", d.page(v.Name, rowOf(v, cols)))
}

// serveChooser serves /apps/<name>: the application's page when one
// source has an application of that name, a choice between them when
// several do.
func (d *Dashboard) serveChooser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	found := named(d.views.Applications(), name)
	switch len(found) {
	case 0:
		d.notFound(w, name)
	case 1:
		http.Redirect(w, r, appPath(found[0].Source, found[0].Name), http.StatusFound)
	default:
		d.render(w, http.StatusOK, "chooser", d.page(name, found))
	}
}

// named returns the applications called name, of every source.
func named(views []agent.AppView, name string) []agent.AppView {
	var found []agent.AppView
	for _, v := range views {
		if v.Name == name {
			found = append(found, v)
		}
	}
	return found
}

// serveApp serves an application's page, or its main part
// (?fragment=main) or matrix row (?fragment=row) for the live script.
func (d *Dashboard) serveApp(w http.ResponseWriter, r *http.Request) {
	id := reconcile.AppID{Source: r.PathValue("source"), Name: r.PathValue("name")}
	v, ok := d.views.Application(id)
	if !ok {
		d.notFound(w, id.String())
		return
	}
	switch r.URL.Query().Get("fragment") {
	case "row":
		d.serveRow(w, r, v)
	case "main":
		d.render(w, http.StatusOK, "appmain", d.page(v.Name, d.appPageFor(r, v)))
	default:
		d.render(w, http.StatusOK, "app", d.page(v.Name, d.appPageFor(r, v)))
	}
}

// notFound answers 404 with a page that leads back to the matrix.
func (d *Dashboard) notFound(w http.ResponseWriter, what string) {
	d.render(w, http.StatusNotFound, "notfound", d.page("Not found", what))
}

// page wraps a page's data with what the layout needs.
func (d *Dashboard) page(title string, body any) page {
	return page{Title: title, EventsURL: d.opts.EventsURL, Now: d.opts.Clock.Now(), Body: body}
}
