package dashboard

import (
	"net/url"
	"slices"
	"strings"

	"github.com/jibe-dev/jibe/agent"
)

// matrix is the version matrix: one row per application, one column per
// environment name, in promotion order.
type matrix struct {
	Columns []string
	Rows    []row
	// Sources and States are the choices of the filters.
	Sources []string
	States  []State
	Filter  filter
	// Total counts the applications before filtering.
	Total int
}

// row is one application in the matrix.
type row struct {
	ID, Name, Source, Folder string
	Href                     string
	// Error is the application's last reconcile error.
	Error string
	// Cells are aligned with the matrix's columns; a cell of an
	// environment the application does not have is absent.
	Cells []cell
	// States are the states of the row's cells, for the state filter;
	// StateList the same, each followed by a space, and Text what the
	// text filter searches, for the page's script.
	States          []State
	StateList, Text string
}

// filter is what the matrix shows: applications of Source (all when
// empty), with a cell in State (error: the application itself), whose
// name, source or folder contains Text (case-insensitive).
type filter struct {
	Source string
	State  State
	Text   string
}

// filterOf reads the matrix's filter from a page's query.
func filterOf(q url.Values) filter {
	return filter{Source: q.Get("source"), State: State(q.Get("state")), Text: strings.TrimSpace(q.Get("q"))}
}

// keep reports whether r passes f.
func (f filter) keep(r row) bool {
	if f.Source != "" && r.Source != f.Source {
		return false
	}
	if f.State != "" && !slices.Contains(r.States, f.State) {
		return false
	}
	if f.Text == "" {
		return true
	}
	return strings.Contains(strings.ToLower(r.Text), strings.ToLower(f.Text))
}

// buildMatrix lays views out as the matrix, filtered by f. Views are
// sorted as Applications sorts them.
func buildMatrix(views []agent.AppView, f filter) matrix {
	m := matrix{Columns: columns(views), Filter: f, Total: len(views), States: allStates}
	sources := map[string]bool{}
	m.Rows = make([]row, 0, len(views))
	for _, v := range views {
		sources[v.Source] = true
		r := rowOf(v, m.Columns)
		if f.keep(r) {
			m.Rows = append(m.Rows, r)
		}
	}
	for s := range sources {
		m.Sources = append(m.Sources, s)
	}
	slices.Sort(m.Sources)
	return m
}

// rowOf is an application's row under columns.
func rowOf(v agent.AppView, columns []string) row {
	r := row{ID: v.ID, Name: v.Name, Source: v.Source, Folder: v.Folder, Href: appPath(v.Source, v.Name), Error: v.Error}
	byName := make(map[string]*agent.EnvView, len(v.Environments))
	for i := range v.Environments {
		byName[v.Environments[i].Name] = &v.Environments[i]
	}
	r.Cells = make([]cell, len(columns))
	for i, c := range columns {
		if e := byName[c]; e != nil {
			r.Cells[i] = cellOf(e)
			r.States = append(r.States, r.Cells[i].State)
			if r.Cells[i].Drift {
				r.States = append(r.States, StateDrift)
			}
		}
	}
	if r.Error != "" {
		r.States = append(r.States, StateError)
	}
	r.StateList, r.Text = stateList(r.States), searchText(r)
	return r
}

// stateList writes states for the page's script: each followed by a space.
func stateList(states []State) string {
	var b strings.Builder
	for _, s := range states {
		b.WriteString(string(s))
		b.WriteByte(' ')
	}
	return b.String()
}

// searchText is what the text filter searches in a row: names and
// revisions.
func searchText(r row) string {
	parts := []string{r.Name, r.Source, r.Folder}
	for _, c := range r.Cells {
		parts = append(parts, c.Running.Revision, c.Wanted.Revision)
	}
	return strings.Join(parts, " ")
}

// appPath is the path of an application's page, as agent.AppURL makes it.
func appPath(source, name string) string {
	return "/apps/" + url.PathEscape(source) + "/" + url.PathEscape(name)
}

// columns returns every environment name of views in promotion order:
// each application's environments keep their order, and a name first
// seen in a later application goes after the environment that precedes
// it there (staging, production + dev, staging = dev, staging,
// production).
func columns(views []agent.AppView) []string {
	var out []string
	for _, v := range views {
		at := 0 // where the next new name goes: after the last known name of v
		for _, e := range v.Environments {
			if i := slices.Index(out, e.Name); i >= 0 {
				at = max(at, i+1)
				continue
			}
			out = slices.Insert(out, at, e.Name)
			at++
		}
	}
	return out
}
