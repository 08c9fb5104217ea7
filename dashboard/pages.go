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
		"rfc3339": func(t time.Time) string {
			return t.UTC().Format(time.RFC3339)
		},
	}).ParseFS(web, "web/*.html"))
}

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

// serveMatrix serves the version matrix, or one of its rows
// (?fragment=row&app=<source>/<name>&cols=a,b) for the live script.
func (d *Dashboard) serveMatrix(w http.ResponseWriter, r *http.Request) {
	m := buildMatrix(d.views.Applications(), filterOf(r.URL.Query()))
	d.render(w, http.StatusOK, "matrix", d.page(r, "Applications", m))
}

// serveRow serves the matrix row of the application at the request's
// path, under the columns the page shows (?cols=staging,production).
func (d *Dashboard) serveRow(w http.ResponseWriter, r *http.Request, v agent.AppView) {
	cols := strings.Split(r.URL.Query().Get("cols"), ",")
	d.render(w, http.StatusOK, "row", rowData{Row: rowOf(v, cols), Now: time.Now()})
}

// rowData is what the row template needs on its own.
type rowData struct {
	Row row
	Now time.Time
}

// serveChooser serves /apps/<name>: the application's page when one
// source has an application of that name, a choice between them when
// several do.
func (d *Dashboard) serveChooser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var found []agent.AppView
	for _, v := range d.views.Applications() {
		if v.Name == name {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 0:
		d.notFound(w, r, name)
	case 1:
		http.Redirect(w, r, appPath(found[0].Source, found[0].Name), http.StatusFound)
	default:
		d.render(w, http.StatusOK, "chooser", d.page(r, name, found))
	}
}

// serveApp serves an application's page, or its main part
// (?fragment=main) or matrix row (?fragment=row) for the live script.
func (d *Dashboard) serveApp(w http.ResponseWriter, r *http.Request) {
	id := reconcile.AppID{Source: r.PathValue("source"), Name: r.PathValue("name")}
	v, ok := d.find(id)
	if !ok {
		d.notFound(w, r, id.String())
		return
	}
	switch r.URL.Query().Get("fragment") {
	case "row":
		d.serveRow(w, r, v)
	case "main":
		d.render(w, http.StatusOK, "appmain", d.page(r, v.Name, appPageOf(v)))
	default:
		d.render(w, http.StatusOK, "app", d.page(r, v.Name, appPageOf(v)))
	}
}

// find returns the view of the application id.
func (d *Dashboard) find(id reconcile.AppID) (agent.AppView, bool) {
	for _, v := range d.views.Applications() {
		if v.Source == id.Source && v.Name == id.Name {
			return v, true
		}
	}
	return agent.AppView{}, false
}

// notFound answers 404 with a page that leads back to the matrix.
func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request, what string) {
	d.render(w, http.StatusNotFound, "notfound", d.page(r, "Not found", what))
}

// page wraps a page's data with what the layout needs.
func (d *Dashboard) page(_ *http.Request, title string, body any) page {
	return page{Title: title, EventsURL: d.opts.EventsURL, Now: time.Now(), Body: body}
}
