package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// reconcile brings one application to its latest revision, environment by
// environment: an environment starts the revision only once the previous
// one runs it and has verified it.
//
// Every agent sharing the journal loads the revision, which names the
// application and its environments for the views; only its owner goes
// on (see own), and reports a revision it refuses.
func (a *Agent) reconcile(ctx context.Context, key string) error {
	st := a.state(key)
	if st == nil || st.revision == nil {
		return nil
	}
	rev, dup := a.revisionOf(st)
	if dup != nil {
		return a.asOwner(reconcile.AppID{Source: st.source, Name: dup.name}, func() error {
			return a.refuseDuplicate(st, rev.Commit, dup)
		})
	}
	// Files are named as in the repository, as people see them on GitHub.
	l, err := a.load(st, rev)
	if err != nil {
		return a.asOwner(a.specID(st), func() error {
			a.reportInvalid(st, rev.Commit, err)
			return reconcile.Stalled(fmt.Errorf("the spec at %s is invalid: %w", reconcile.ShortRevision(rev.Commit), err))
		})
	}
	id := a.named(st, l.app.Metadata.Name)
	a.setEnvs(id, l.app)
	return a.asOwner(id, func() error { return a.reconcileOwned(ctx, st, rev, l, id) })
}

// asOwner runs fn, the work of one reconcile of application id, when
// this agent owns id, holding it meanwhile; it returns errNotOwned
// otherwise, and when a journal write of fn's was fenced.
func (a *Agent) asOwner(id reconcile.AppID, fn func() error) error {
	release, err := a.own(id)
	if err != nil {
		return err
	}
	defer release()
	return a.fencedFrom(id, fn())
}

// specID is the identity of an application whose spec does not load:
// the name its jibe.yaml gives, as far as it can be read.
func (a *Agent) specID(st *appState) reconcile.AppID {
	name, _ := readNames(st)
	a.mu.Lock()
	defer a.mu.Unlock()
	if name == "" {
		return st.id()
	}
	return reconcile.AppID{Source: st.source, Name: name}
}

// reconcileOwned brings application id, which this agent owns, to its
// latest revision rev, loaded as l.
func (a *Agent) reconcileOwned(ctx context.Context, st *appState, rev *sources.Revision, l *loadedRevision, id reconcile.AppID) error {
	app := l.app
	a.logSpecWarnings(st, rev.Commit, app)
	if err := a.keepFolder(l, id, st.folder); err != nil {
		return err
	}
	cfg := a.config()
	src := cfg.Source(rev.Source)
	if src == nil {
		return reconcile.Stalled(fmt.Errorf("source %s is no longer configured", rev.Source))
	}
	for _, env := range app.Spec.Environments {
		r, err := app.Render(env.Name)
		if err != nil {
			return reconcile.Stalled(err)
		}
		deps := deployments(cfg, rev.Source, app, r, rev.Commit)
		a.setPrevious(st, l, id, env.Name, rev.Commit, deps)
		if problems := placeEnv(cfg, a.reviewSource(src), env, a.executor.Gate != nil); len(problems) > 0 {
			a.refused(st, reconcile.EventTenancyRefused, rev.Commit, env.Name, "refused: "+problems[0].Error())
			return reconcile.Stalled(problems[0])
		}
		if err := checkTenancy(src, deps); err != nil {
			a.refused(st, reconcile.EventTenancyRefused, rev.Commit, env.Name, "refused: "+unwrapStalled(err).Error())
			return err
		}
		if held, err := a.heldAtRollback(ctx, st, l, id, src, env.Name, rev); held || err != nil {
			return err // later environments wait while one is held at a rollback
		}
		verified, err := a.advanceEnv(ctx, id, l, r, deps, rev.Commit)
		a.reportRefused(st, rev.Commit, env.Name, err)
		if err != nil || !verified {
			return err
		}
	}
	return nil
}

// advanceEnv moves one environment towards revision. It reports whether
// the environment runs the revision, verified, so that the next one may
// start. An environment that runs the revision is compared with live
// state when that is due (see driftDue), not on every requeue.
func (a *Agent) advanceEnv(ctx context.Context, id reconcile.AppID, l *loadedRevision, r *spec.Rendered, deps []*reconcile.Deployment, revision string) (bool, error) {
	env := r.Environment.Name
	cur, err := a.opts.Journal.Current(id, env)
	switch {
	case err != nil && !errors.Is(err, reconcile.ErrNoRollout):
		return false, err
	case err == nil && cur.Revision == revision && cur.State == reconcile.RolloutSucceeded:
		if !a.driftDue(l, env) {
			return true, nil
		}
		return a.checkDrift(ctx, id, l, r, deps, revision)
	case err == nil && cur.Revision == revision:
		if cur.Correction {
			force(deps)
		}
		if retry := a.retryAsked(id, env, revision); retry != nil && cur.State.Final() {
			return a.startRetry(ctx, id, r, deps, revision, retry)
		}
		return a.continueRollout(ctx, cur, deps)
	case err == nil && !cur.State.Final():
		if w := a.holdNew(id, env, revision); w != nil {
			return false, w
		}
		if _, err := a.executor.Supersede(ctx, cur, deps, revision); err != nil {
			return false, err
		}
	}
	if w := a.holdNew(id, env, revision); w != nil {
		return false, w
	}
	return a.startRollout(ctx, id, r, deps, revision)
}

// holdNew returns the wait of an environment that may not start a
// rollout of revision now (see holdOf), reporting a new reason once, as
// a waiting event without a rollout; nil when it may start.
func (a *Agent) holdNew(id reconcile.AppID, env, revision string) *reconcile.WaitingError {
	w := a.holdOf(id, env)
	if a.setHeld(id, env, w) && w != nil {
		a.events.Emit(reconcile.Event{Kind: reconcile.EventWaiting, App: id, Env: env, Revision: revision, Message: w.Reason})
	}
	return w
}

// startRetry starts a rollout of revision again, as a retry asked for.
func (a *Agent) startRetry(ctx context.Context, id reconcile.AppID, r *spec.Rendered, deps []*reconcile.Deployment, revision string, h *reconcile.Hold) (bool, error) {
	changes, err := a.diff(ctx, deps)
	if err != nil {
		return false, err
	}
	plan := reconcile.Build(id.Name, revision, []reconcile.EnvInput{{Rendered: r, Changes: changes}})
	ro, err := a.opts.Journal.StartAgain(id, revision, plan.Environments[0], reconcile.ActionRetry)
	if err != nil {
		return false, err
	}
	a.events.Emit(reconcile.RolloutEvent(reconcile.EventStarted, ro, nil, "retry asked by "+h.By+": "+startMessage(&plan.Environments[0])))
	return a.continueRollout(ctx, ro, deps)
}

// continueRollout advances the environment's rollout of the revision, or
// reports how it ended.
func (a *Agent) continueRollout(ctx context.Context, cur *reconcile.Rollout, deps []*reconcile.Deployment) (bool, error) {
	if !cur.State.Final() {
		next, err := a.executor.Advance(ctx, cur, deps)
		if err != nil {
			return false, err
		}
		cur = next
	}
	return cur.State == reconcile.RolloutSucceeded, nil
}

// startRollout plans the environment against live state and starts the
// rollout. An environment in sync gets an empty rollout, so the journal
// records that it runs the revision.
func (a *Agent) startRollout(ctx context.Context, id reconcile.AppID, r *spec.Rendered, deps []*reconcile.Deployment, revision string) (bool, error) {
	changes, err := a.diff(ctx, deps)
	if err != nil {
		return false, err
	}
	plan := reconcile.Build(id.Name, revision, []reconcile.EnvInput{{Rendered: r, Changes: changes}})
	ro, err := a.opts.Journal.Start(id, revision, plan.Environments[0])
	if err != nil {
		return false, err
	}
	a.events.Emit(reconcile.RolloutEvent(reconcile.EventStarted, ro, nil, startMessage(&plan.Environments[0])))
	return a.continueRollout(ctx, ro, deps)
}

func startMessage(p *reconcile.EnvPlan) string {
	if p.InSync() {
		return "checking: already in sync"
	}
	return fmt.Sprintf("rolling out %d change(s) with %s", len(p.Changes), p.Strategy)
}

// diff asks the targets' platforms what differs from Git.
func (a *Agent) diff(ctx context.Context, deps []*reconcile.Deployment) ([]reconcile.Change, error) {
	return diff(ctx, a.opts.Platforms, deps)
}

// diff asks the deployments' platforms what differs from Git, in one batch
// per platform where the platform can batch.
func diff(ctx context.Context, platforms map[spec.Platform]reconcile.Platform, deps []*reconcile.Deployment) ([]reconcile.Change, error) {
	byPlatform := map[spec.Platform][]*reconcile.Deployment{}
	for _, d := range deps {
		kind := d.Target.Platform()
		if platforms[kind] == nil {
			return nil, reconcile.Stalled(fmt.Errorf("target %s: this agent has no %s platform configured", d.Target.Name, kind))
		}
		byPlatform[kind] = append(byPlatform[kind], d)
	}
	changes := map[*reconcile.Deployment][]reconcile.Change{}
	for kind, ds := range byPlatform {
		got, err := reconcile.DiffAll(ctx, platforms[kind], ds)
		if err != nil {
			return nil, fmt.Errorf("diffing %s targets in %s: %w", kind, ds[0].Env, err)
		}
		for i, d := range ds {
			changes[d] = got[i]
		}
	}
	var all []reconcile.Change
	for _, d := range deps {
		all = append(all, changes[d]...)
	}
	return all, nil
}

// setPrevious gives each deployment the target as rendered at the
// environment's last succeeded revision, which a rollback restores: from
// memory, or read again from the source's clone after a restart, once
// per loaded revision (see previousApp). It leaves Previous nil when that
// revision cannot be found, and the platform then rolls back what it can.
func (a *Agent) setPrevious(st *appState, l *loadedRevision, app reconcile.AppID, env, revision string, deps []*reconcile.Deployment) {
	stable, err := a.opts.Journal.Stable(app, env)
	if err != nil || stable.Revision == revision {
		return
	}
	old := a.previousApp(st, l, app, env, stable.Revision)
	if old == nil {
		return
	}
	r, err := old.Render(env)
	if err != nil {
		return
	}
	for _, d := range deps {
		for _, t := range r.Targets {
			if t.Name == d.Target.Name {
				d.Previous, d.PreviousRevision = t, stable.Revision
			}
		}
	}
}

// checkDrift compares an environment that runs revision with Git. Drift is
// logged, counted and shown in the API, and, unless the application opts
// out, corrected by re-applying the revision: a correction rollout with
// the environment's strategy and checks, but no approval (the revision was
// approved already), taking back fields others changed. The comparison's
// time is recorded for driftDue.
func (a *Agent) checkDrift(ctx context.Context, id reconcile.AppID, l *loadedRevision, r *spec.Rendered, deps []*reconcile.Deployment, revision string) (bool, error) {
	env, app := r.Environment.Name, l.app
	now := a.opts.Clock.Now()
	changes, err := a.diff(ctx, deps)
	if err != nil {
		return false, err
	}
	a.diffedAt(l, env, now)
	a.setDrift(id, env, changes)
	if len(changes) == 0 {
		return true, nil
	}
	a.metrics.drift.WithLabelValues(id.Source, id.Name).Inc()
	a.log.Warn("live state drifted from Git", "source", id.Source, "app", id.Name, "env", env, "revision", reconcile.ShortRevision(revision),
		"resources", resources(changes), "correct", *app.Spec.Drift.Correct)
	if !*app.Spec.Drift.Correct {
		return true, nil
	}
	plan := reconcile.Build(id.Name, revision, []reconcile.EnvInput{{Rendered: r, Changes: changes}})
	p := plan.Environments[0]
	p.Steps = withoutApprovals(p.Steps)
	ro, err := a.opts.Journal.StartCorrection(id, revision, p)
	if err != nil {
		return false, err
	}
	a.events.Emit(reconcile.RolloutEvent(reconcile.EventStarted, ro, nil,
		fmt.Sprintf("correcting drift: %d resource(s) differ from Git", len(changes))))
	force(deps)
	return a.continueRollout(ctx, ro, deps)
}

func force(deps []*reconcile.Deployment) {
	for _, d := range deps {
		d.Force = true
	}
}

func withoutApprovals(steps []reconcile.Step) []reconcile.Step {
	var out []reconcile.Step
	for _, s := range steps {
		if s.Kind != reconcile.StepAwaitApproval {
			out = append(out, s)
		}
	}
	return out
}

func resources(changes []reconcile.Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Action.String() + " " + c.Resource
	}
	return out
}

// setDrift records what differs from Git in an environment, for the API.
func (a *Agent) setDrift(app reconcile.AppID, env string, changes []reconcile.Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := driftKey(app, env)
	if len(changes) == 0 {
		delete(a.drift, key)
		return
	}
	a.drift[key] = resources(changes)
}

// driftKey is the key of an environment in Agent.drift.
func driftKey(app reconcile.AppID, env string) string { return app.String() + "/" + env }

// named records the application's name and returns its identity, under
// which engine events and gates find its state.
func (a *Agent) named(st *appState, name string) reconcile.AppID {
	a.mu.Lock()
	defer a.mu.Unlock()
	renamed := st.name != name
	if old := st.id(); renamed && a.byID[old] == st {
		delete(a.byID, old)
	}
	st.name = name
	id := st.id()
	a.byID[id] = st
	if renamed {
		a.warnSharedContext(st)
	}
	return id
}

// revisionOf returns the application's latest revision and, while its
// name is used twice in its source, the duplicate.
func (a *Agent) revisionOf(st *appState) (*sources.Revision, *duplicate) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return st.revision, st.dup
}

func (a *Agent) setEnvs(id reconcile.AppID, app *spec.App) {
	names := make([]string, len(app.Spec.Environments))
	for i, e := range app.Spec.Environments {
		names[i] = e.Name
	}
	a.mu.Lock()
	a.envs[id] = names
	a.mu.Unlock()
}

func unwrapStalled(err error) error {
	var s *reconcile.StalledError
	if errors.As(err, &s) {
		return s.Err
	}
	return err
}
