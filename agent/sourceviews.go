package agent

import (
	"slices"
	"sort"
	"strings"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// The states of a source (SourceView.State).
const (
	SourceOK      = "ok"
	SourceFailing = "failing"
	SourceUnknown = "unknown"
)

// StatusReporter is a Source that reports how its polls go: sources.Git.
type StatusReporter interface {
	Status() []sources.Status
}

// statusNotifier is a Source that tells each poll's outcome as it comes:
// sources.Git.
type statusNotifier interface {
	OnStatus(func(sources.Status))
}

// Sources returns every configured source with how its polling goes (from
// what the sources record, no poll), its applications and the drift of
// their environments, in configuration order.
func (a *Agent) Sources() []SourceView {
	var statuses []sources.Status
	for _, s := range a.opts.Sources {
		if r, ok := s.(StatusReporter); ok {
			statuses = append(statuses, r.Status()...)
		}
	}
	cfg := a.config()
	out := make([]SourceView, 0, len(cfg.Sources))
	for _, src := range cfg.Sources {
		v := sourceView(src)
		for _, st := range statuses {
			if slices.Contains(st.Sources, src.Name) {
				withStatus(&v, st)
			}
		}
		out = append(out, v)
	}
	a.addApplications(out)
	return out
}

// sourceView describes a configured source, before its status.
func sourceView(src config.Source) SourceView {
	v := SourceView{Name: src.Name, State: SourceUnknown}
	switch {
	case src.Git != nil:
		v.Kind, v.URL, v.Branch = "git", src.Git.URL, src.Git.Branch
	case src.Dir != nil:
		v.Kind, v.URL, v.State = "dir", src.Dir.Path, SourceOK
	}
	return v
}

// withStatus fills v from the status of its repository.
func withStatus(v *SourceView, st sources.Status) {
	v.URL, v.Branch, v.Revision = st.URL, st.Branch, st.LastCommit
	v.LastPoll, v.LastSuccess, v.NextPoll, v.Failures = st.LastPoll, st.LastSuccess, st.NextPoll, st.ConsecutiveFailures
	switch {
	case st.LastError != nil:
		v.State, v.LastError, v.Stalling = SourceFailing, st.LastError.Error(), sources.Stalling(st.LastError)
	case !st.LastPoll.IsZero():
		v.State = SourceOK
	}
}

// addApplications counts each source's applications and lists the
// environments that drifted.
func (a *Agent) addApplications(views []SourceView) {
	a.mu.Lock()
	defer a.mu.Unlock()
	index := map[string]*SourceView{}
	for i := range views {
		index[views[i].Name] = &views[i]
	}
	for _, st := range a.apps {
		v := index[st.source]
		if v == nil {
			continue
		}
		v.Applications++
		id := st.id()
		for _, env := range a.envs[id] {
			if d := a.drift[driftKey(id, env)]; len(d) > 0 {
				v.Drift = append(v.Drift, DriftView{App: id.Name, Env: env, Resources: d})
			}
		}
	}
	for _, v := range views {
		sort.Slice(v.Drift, func(i, j int) bool {
			x, y := v.Drift[i], v.Drift[j]
			return x.App < y.App || x.App == y.App && x.Env < y.Env
		})
	}
}

// watchSources makes the sources that can tell each poll's outcome tell
// the live stream when a source's state changes (ok, failing) or it
// reaches a new commit.
func (a *Agent) watchSources() {
	for _, s := range a.opts.Sources {
		if n, ok := s.(statusNotifier); ok {
			n.OnStatus(a.noteSourceStatus)
		}
	}
}

// noteSourceStatus counts the poll st tells of for metrics and publishes
// a source event for each source polled through it whose state or commit
// changed.
func (a *Agent) noteSourceStatus(st sources.Status) {
	a.countPoll(st)
	v := SourceView{State: SourceUnknown}
	withStatus(&v, st)
	mark := v.State + "@" + v.Revision
	for _, name := range st.Sources {
		a.mu.Lock()
		changed := a.sourceMarks[name] != mark
		a.sourceMarks[name] = mark
		a.mu.Unlock()
		if !changed {
			continue
		}
		msg := "polled " + reconcile.ShortRevision(v.Revision)
		if v.State == SourceFailing {
			msg = "poll failed: " + strings.TrimSpace(v.LastError)
		}
		a.feed.publish(EventView{Type: "source", Kind: v.State, Source: name, Revision: v.Revision, Message: msg, At: a.opts.Clock.Now()})
	}
}
