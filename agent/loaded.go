package agent

import (
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// loadedRevision is an application's revision as the reconciler loaded
// it: its spec decoded, validated and rendered for every environment,
// and the renderings of the environments' last good revisions, which
// rollbacks restore. The application's state keeps it until the
// revision or the spec limits change, so that a requeue (a health poll,
// a pause, an approval poll) neither loads nor renders again. Nothing
// writes into it: deployments are built afresh on every reconcile and
// only point at its rendered targets.
type loadedRevision struct {
	commit string
	limits spec.Limits
	app    *spec.App
	// previous are the earlier revisions loaded for setPrevious, by
	// commit; nil for one that cannot be read or loaded. Only the
	// application's reconcile uses it, which the work queue never runs
	// twice at a time.
	previous map[string]*spec.App
	// diffed is when each environment that runs this revision was last
	// compared with live state, by name. Guarded by Agent.mu.
	diffed map[string]time.Time
}

// load returns the application at rev, loaded once per revision and
// spec limits: a requeue of the same revision gets what the first
// reconcile loaded.
func (a *Agent) load(st *appState, rev *sources.Revision) (*loadedRevision, error) {
	limits := a.config().Limits.Spec()
	a.mu.Lock()
	l := st.loaded
	a.mu.Unlock()
	if l != nil && l.commit == rev.Commit && l.limits == limits {
		return l, nil
	}
	app, err := a.loadSpec(st, rev, limits)
	if err != nil {
		return nil, err
	}
	l = &loadedRevision{commit: rev.Commit, limits: limits, app: app, previous: map[string]*spec.App{}, diffed: map[string]time.Time{}}
	a.noteLoaded(st, rev.Commit, app, true)
	a.mu.Lock()
	st.loaded = l
	a.mu.Unlock()
	return l, nil
}

// loadSpec loads the application at rev under limits, counting the load
// in jibe_spec_loads_total.
func (a *Agent) loadSpec(st *appState, rev *sources.Revision, limits spec.Limits) (*spec.App, error) {
	a.metrics.loads.WithLabelValues(st.source, a.nameOf(st)).Inc()
	return spec.LoadFS(rev.Files, rev.App, spec.WithLimits(limits), spec.WithPlatforms(a.opts.Capabilities...))
}

// nameOf is the application's name, or its folder's until its spec has
// loaded.
func (a *Agent) nameOf(st *appState) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return st.id().Name
}

// previousApp returns the application at commit, an environment's last
// good revision: loaded once for l, from memory or, after a restart,
// from the source's clone. It returns nil when that revision cannot be
// read or loaded.
func (a *Agent) previousApp(st *appState, l *loadedRevision, app reconcile.AppID, env, commit string) *spec.App {
	if old, ok := l.previous[commit]; ok {
		return old
	}
	a.mu.Lock()
	prev := st.history[commit]
	a.mu.Unlock()
	if prev == nil && a.opts.History != nil {
		prev, _ = a.opts.History.Revision(st.source, st.folder, commit)
	}
	var old *spec.App
	if prev == nil {
		a.log.Warn("the last good revision cannot be read; a rollback cannot restore it", "source", app.Source, "app", app.Name, "env", env, "revision", reconcile.ShortRevision(commit))
	} else if loaded, err := a.loadSpec(st, prev, l.limits); err == nil {
		old = loaded
		a.noteLoaded(st, commit, old, false)
	}
	l.previous[commit] = old
	return old
}

// driftDue reports whether env, which runs l's revision, is to be
// compared with live state: it never was at this revision, or not for a
// drift interval. A configuration reload and the drift interval's resync
// make every environment due (see resync).
func (a *Agent) driftDue(l *loadedRevision, env string) bool {
	a.mu.Lock()
	last, ok := l.diffed[env]
	a.mu.Unlock()
	return !ok || a.opts.Clock.Since(last) >= a.config().Reconcile.DriftInterval.Duration
}

// diffedAt records that env was compared with live state at t.
func (a *Agent) diffedAt(l *loadedRevision, env string, t time.Time) {
	a.mu.Lock()
	l.diffed[env] = t
	a.mu.Unlock()
}

// driftDueAll makes every environment of every application due for a
// comparison with live state at its next reconcile. The caller holds
// a.mu.
func (a *Agent) driftDueAll() {
	for _, st := range a.apps {
		if st.loaded != nil {
			clear(st.loaded.diffed)
		}
	}
}
