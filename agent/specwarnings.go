package agent

import (
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// logSpecWarnings logs the warnings of a revision's spec (such as a
// deprecated Lambda runtime) once: a revision is loaded again at each
// step of its rollout, but says the same.
func (a *Agent) logSpecWarnings(st *appState, commit string, app *spec.App) {
	a.mu.Lock()
	seen := st.warned == commit
	st.warned = commit
	a.mu.Unlock()
	if seen {
		return
	}
	for _, w := range app.Warnings {
		a.log.Warn("the spec has a warning", "source", st.source, "app", app.Metadata.Name,
			"revision", reconcile.ShortRevision(commit), "warning", w.Error())
	}
}
