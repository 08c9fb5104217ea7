package agent

import (
	"cmp"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Applications returns the view of every application, sorted by name,
// then source, then folder.
func (a *Agent) Applications() []AppView { return a.ApplicationList(AppFilter{}) }

// ApplicationList returns the view of the applications f selects, sorted
// by name, then source, then folder. It reads the agent's memory and the
// journal (through a cache refreshed by events and reconciles), never a
// platform. An application's view is built again only after something
// about it changed (see touch); the views returned are shared: read them
// only.
func (a *Agent) ApplicationList(f AppFilter) []AppView {
	cached := a.views(f)
	out := make([]AppView, len(cached))
	for i, c := range cached {
		out[i] = c.view
	}
	return out
}

// cachedView is an application's view as last built, at generation gen
// of its state, and its JSON once encoded.
type cachedView struct {
	gen  uint64
	view AppView
	json []byte
}

// encoded returns the view's JSON, encoding it once.
func (c *cachedView) encoded(mu *sync.Mutex) []byte {
	mu.Lock()
	defer mu.Unlock()
	if c.json == nil {
		c.json, _ = json.Marshal(c.view)
	}
	return c.json
}

// views returns the cached views of the applications f selects, built
// again for those that changed since, sorted.
func (a *Agent) views(f AppFilter) []*cachedView {
	snaps, out := a.staleViews(f)
	for i := range snaps {
		c := &cachedView{gen: snaps[i].gen, view: a.appViewOf(&snaps[i])}
		a.mu.Lock()
		if st := a.apps[snaps[i].key]; st != nil && st.gen == c.gen {
			st.view = c
		}
		a.mu.Unlock()
		out = append(out, c)
	}
	kept := out[:0]
	for _, c := range out {
		if f.matches(&c.view) {
			kept = append(kept, c)
		}
	}
	sort.Slice(kept, func(i, j int) bool {
		x, y := &kept[i].view, &kept[j].view
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Source, y.Source), cmp.Compare(x.Folder, y.Folder)) < 0
	})
	return kept
}

// touch makes st's view be built again at the next request. The caller
// holds a.mu.
func (st *appState) touch() { st.gen++ }

// touchID touches the state of the application id, if any.
func (a *Agent) touchID(id reconcile.AppID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.byID[id]; st != nil {
		st.touch()
	}
}

// Application returns the view of the application id, and whether the
// agent has one of that identity.
func (a *Agent) Application(id reconcile.AppID) (AppView, bool) {
	for _, v := range a.ApplicationList(AppFilter{Source: id.Source}) {
		if v.ID == id.String() {
			return v, true
		}
	}
	return AppView{}, false
}

// appSnapshot is what the views of one application need from the
// agent's memory, copied under a.mu.
type appSnapshot struct {
	key                 string
	gen                 uint64
	id                  reconcile.AppID
	source, folder, err string
	wanted              string
	pull                int
	envs                []string
	targets             map[string][]targetRef
	artifacts           map[string][]ArtifactView
	drift               map[string][]string
	waiting             map[string]string
	held                map[string]string
	health              map[string]observedHealth
}

// targetRef is a target of an environment: its name and platform.
type targetRef struct{ name, platform string }

// staleViews returns the snapshots of the applications of f's source
// ("" for all; those this agent owns with f.owned) whose view must be
// built again, and the cached views of the others.
func (a *Agent) staleViews(f AppFilter) ([]appSnapshot, []*cachedView) {
	source := f.Source
	running := a.runningEnvs()
	a.mu.Lock()
	defer a.mu.Unlock()
	var stale []appSnapshot
	fresh := make([]*cachedView, 0, len(a.apps))
	for _, st := range a.apps {
		if source != "" && st.source != source {
			continue
		}
		if f.owned && !a.owns(st.id()) {
			continue
		}
		if st.view != nil && st.view.gen == st.gen && a.trusted(st.id()) {
			fresh = append(fresh, st.view)
			continue
		}
		stale = append(stale, a.snapshot(st, running))
	}
	return append(stale, a.departedSnapshots(source, running)...), fresh
}

// snapshot copies what the view of st needs. The caller holds a.mu; the
// maps are shared, not copied: appViewOf reads them under a.mu.
func (a *Agent) snapshot(st *appState, running map[reconcile.AppID][]string) appSnapshot {
	id := st.id()
	s := appSnapshot{key: st.key, gen: st.gen, id: id, source: st.source, folder: st.folder, err: st.lastError,
		envs: uniq(append(slices.Clone(a.envs[id]), running[id]...)), artifacts: st.artifacts, targets: st.targets,
		drift: a.drift, waiting: a.waiting, held: a.held, health: a.health}
	if st.revision != nil {
		s.wanted = st.revision.Commit
		if pr := st.revision.PullRequest; pr != nil {
			s.pull = pr.Number
		}
	}
	return s
}

// runningEnvs returns the environments with a rollout running, by
// application, from the journal: rollouts that run for environments the
// agent has not loaded yet (after a restart, before the first reconcile)
// are shown too.
func (a *Agent) runningEnvs() map[reconcile.AppID][]string {
	running := map[reconcile.AppID][]string{}
	for _, r := range a.rollouts.running(a.opts.Journal, a.sole()) {
		running[r.AppID()] = append(running[r.AppID()], r.Env)
	}
	return running
}

// appViewOf builds the view of one application: its environments in
// promotion order, each pending behind the first earlier one that does
// not run the wanted revision yet.
func (a *Agent) appViewOf(s *appSnapshot) AppView {
	v := AppView{ID: s.id.String(), Name: s.id.Name, Source: s.source, Folder: s.folder, Revision: s.wanted,
		PullRequest: s.pull, Error: s.err, Environments: make([]EnvView, 0, len(s.envs))}
	blocking := ""
	for _, env := range s.envs {
		rec := a.rollouts.get(a.opts.Journal, s.id, env, a.trusted(s.id))
		ev := a.envViewOf(s, env, rec, blocking)
		if blocking == "" && (rec.current == nil || rec.current.Revision != s.wanted || rec.current.State != reconcile.RolloutSucceeded) {
			blocking = env
		}
		v.Environments = append(v.Environments, ev)
	}
	v.State = summaryState(&v)
	return v
}

// envViewOf builds the view of env from its journal record; blocking is
// the first earlier environment that does not run the wanted revision
// ("" when every earlier one does).
func (a *Agent) envViewOf(s *appSnapshot, env string, rec envRecord, blocking string) EnvView {
	ev := EnvView{Name: env}
	a.mu.Lock()
	ev.Drift = s.drift[driftKey(s.id, env)]
	ev.Hold = s.held[driftKey(s.id, env)]
	if s.wanted != "" {
		ev.Wanted = &VersionView{Revision: s.wanted, PullRequest: s.pull, Artifacts: s.artifacts[s.wanted]}
	}
	if st := rec.stable; st != nil {
		ev.Revision, ev.LastGood = st.Revision, st.Revision
		ev.Running = &VersionView{Revision: st.Revision, Artifacts: s.artifacts[st.Revision]}
		if st.Revision == s.wanted {
			ev.Running.PullRequest = s.pull
		}
	}
	if cur := rec.current; cur != nil && !cur.State.Final() {
		ev.Waiting = s.waiting[cur.ID]
	}
	ev.Targets = targetViews(s, env)
	a.mu.Unlock()
	cur := rec.current
	if cur != nil {
		ev.Rollout = summary(cur)
		ev.State, ev.Reason, ev.Updated = cur.State.String(), cur.Reason, cur.Updated
		if !cur.State.Final() && cur.Next < len(cur.Plan.Steps) {
			ev.Step = cur.Plan.Steps[cur.Next].Kind.String()
		}
	}
	if s.wanted != "" && (cur == nil || (cur.Revision != s.wanted && cur.State.Final())) {
		ev.State, ev.PendingOn = StatePending, blocking
		if blocking == env {
			ev.PendingOn = ""
		}
	}
	return ev
}

// targetViews returns env's targets with their last observed health. The
// caller holds a.mu.
func targetViews(s *appSnapshot, env string) []TargetView {
	refs := s.targets[env]
	if len(refs) == 0 {
		return nil
	}
	out := make([]TargetView, len(refs))
	for i, t := range refs {
		out[i] = TargetView{Name: t.name, Platform: t.platform}
		if h, ok := s.health[healthKey(s.id, env, t.name)]; ok {
			out[i].Health, out[i].Reason, out[i].Instances, out[i].Observed = h.State.String(), h.Reason, h.Instances, h.at
		}
	}
	return out
}

// summary sums rollout r up.
func summary(r *reconcile.Rollout) *RolloutSummary {
	s := &RolloutSummary{ID: r.ID, Revision: r.Revision, State: r.State.String(), Strategy: r.Plan.Strategy,
		Mode: r.Plan.Mode.String(), Step: r.Next, Steps: len(r.Plan.Steps), Weight: weightNow(r),
		Correction: r.Correction, Reason: r.Reason, Started: r.Started, Updated: r.Updated}
	if r.State.Final() {
		s.Step = -1
	}
	return s
}

// weightNow is the new version's share of traffic after the last
// shift-traffic step done; nil when the plan shifts none.
func weightNow(r *reconcile.Rollout) *float64 {
	var w *float64
	for i, st := range r.Plan.Steps {
		if st.Kind != reconcile.StepShiftTraffic {
			continue
		}
		if w == nil {
			w = new(float64)
		}
		if i < r.Next {
			*w = float64(st.Weight)
		}
	}
	if w != nil && (r.RollingBack || r.State == reconcile.RolloutRolledBack) {
		*w = 0
	}
	return w
}

// summaryState sums an application's environments up (AppView.State).
func summaryState(v *AppView) string {
	if v.Error != "" {
		return StateError
	}
	for _, e := range v.Environments {
		if e.State != reconcile.RolloutSucceeded.String() {
			return e.State
		}
	}
	return reconcile.RolloutSucceeded.String()
}

// matches reports whether f selects v.
func (f AppFilter) matches(v *AppView) bool {
	if f.Source != "" && v.Source != f.Source {
		return false
	}
	if f.State != "" && !hasState(v, f.State) {
		return false
	}
	return f.Text == "" || hasText(v, strings.ToLower(f.Text))
}

func hasState(v *AppView, state string) bool {
	if state == StateError {
		return v.Error != ""
	}
	for _, e := range v.Environments {
		if e.State == state {
			return true
		}
	}
	return false
}

func hasText(v *AppView, text string) bool {
	if strings.Contains(strings.ToLower(v.Name), text) || strings.Contains(strings.ToLower(v.Folder), text) ||
		strings.HasPrefix(v.Revision, text) {
		return true
	}
	for _, e := range v.Environments {
		if e.Revision != "" && strings.HasPrefix(e.Revision, text) {
			return true
		}
	}
	return false
}

// uniq drops repeated names, keeping the first of each.
func uniq(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// artifactViews returns app's artifacts, by name.
func artifactViews(app *spec.App) []ArtifactView {
	names := make([]string, 0, len(app.Spec.Artifacts))
	for n := range app.Spec.Artifacts {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]ArtifactView, 0, len(names))
	for _, n := range names {
		out = append(out, artifactView(n, app.Spec.Artifacts[n]))
	}
	return out
}

// artifactView describes one artifact and its version.
func artifactView(name string, art spec.Artifact) ArtifactView {
	switch art.Kind() {
	case spec.ArtifactImage:
		return ArtifactView{Name: name, Kind: "image", Ref: art.Image, Version: imageVersion(art.Image)}
	case spec.ArtifactS3:
		return ArtifactView{Name: name, Kind: "s3", Ref: "s3://" + art.S3.Bucket + "/" + art.S3.Key, Version: art.S3.Version}
	case spec.ArtifactAMI:
		return ArtifactView{Name: name, Kind: "ami", Ref: art.AMI, Version: art.AMI}
	}
	return ArtifactView{Name: name, Kind: "unknown"}
}

// imageVersion is an image reference's digest, or its tag, or "latest".
func imageVersion(ref string) string {
	if _, digest, ok := strings.Cut(ref, "@"); ok {
		return digest
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if _, tag, ok := strings.Cut(last, ":"); ok {
		return tag
	}
	return "latest"
}

// maxArtifactRevisions bounds the revisions whose artifacts an
// application's state keeps for the views.
const maxArtifactRevisions = 4 * maxHistory

// noteLoaded records what the views need of app, loaded at commit: its
// artifacts and, for the latest revision, its targets per environment.
func (a *Agent) noteLoaded(st *appState, commit string, app *spec.App, latest bool) {
	arts := artifactViews(app)
	var targets map[string][]targetRef
	if latest {
		targets = map[string][]targetRef{}
		for _, e := range app.Spec.Environments {
			r, err := app.Render(e.Name)
			if err != nil {
				continue
			}
			for _, t := range r.Targets {
				targets[e.Name] = append(targets[e.Name], targetRef{t.Name, t.Platform().String()})
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st.touch()
	if st.artifacts == nil || len(st.artifacts) >= maxArtifactRevisions {
		st.artifacts = map[string][]ArtifactView{}
	}
	st.artifacts[commit] = arts
	if latest {
		st.targets = targets
	}
}
