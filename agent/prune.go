package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
	"github.com/jibe-dev/jibe/spec"
)

// An application departs when a successful poll of its source (an Update)
// finds no folder of the source whose jibe.yaml gives its name, while the
// journal says it ran there. Identity, not folders, decides: a folder
// renamed in a commit that keeps its application's name only moves the
// application (the new folder's rollouts own what the old one deployed),
// and a spec that does not load still names its application (its name is
// read leniently, see readSpecName). When a folder's name cannot be read
// at all, no application of the source departs on that update, since it
// may be any of them. After a restart the journal knows the applications
// that ran, so one absent from the source's first poll departs too.
//
// With the source's prune off, a departed application is reported (an
// EventDeparted per environment it runs in, hence a log line, a commit
// status and a notification; the API and the jibe_departed_applications
// metric) and left running. With prune on, its environments are deleted, the last in
// promotion order first, each through its platforms' Deleter, from the
// rendering of the revision the agent last deployed there, read again from
// the source; tenancy is checked again first.

// deletePrefix starts the queue keys of departed applications:
// delete:<source>/<name>.
const deletePrefix = "delete:"

func deleteKey(id reconcile.AppID) string { return deletePrefix + id.Source + "/" + id.Name }

// deletedID is the identity of the application of a deletion's key.
func deletedID(key string) reconcile.AppID {
	source, name, _ := strings.Cut(strings.TrimPrefix(key, deletePrefix), "/")
	return reconcile.AppID{Source: source, Name: name}
}

// departure is an application that left its source's Git.
type departure struct {
	id reconcile.AppID
	// commit is the commit at which a poll found it gone.
	commit string
	// rewritten is set when that poll found the branch rewritten: nothing
	// is deleted until a later commit confirms the departure.
	rewritten bool
	// st is the application's state when the agent knew its folder in
	// memory (its recent revisions); nil after a restart.
	st *appState
	// reported is the commit at which the departure was last reported,
	// announced the environments whose deletion was reported as started.
	reported  string
	announced map[string]bool
	// message is what the API shows.
	message string
}

// checkDeparted finds the applications of u's source that have left Git
// and queues their deletion (or report); applications that came back are
// no longer departed. The caller has run checkNames, which read each
// folder's application name.
func (a *Agent) checkDeparted(u sources.Update, log *slog.Logger) {
	present, unreadable := a.presentNames(u)
	if unreadable != "" {
		log.Warn("the name of an application cannot be read from its spec; until it can, no application of the source is taken as removed from Git",
			"folder", unreadable)
		return
	}
	ids, err := a.opts.Journal.Applications(u.Source)
	if err != nil {
		log.Error("reading the applications the journal knows failed; departures are checked at the next commit", "err", err)
		return
	}
	for _, id := range ids {
		if present[id.Name] {
			a.cameBack(id)
			continue
		}
		if a.depart(id, u) {
			a.queue.Add(deleteKey(id))
		}
	}
}

// presentNames returns the application names u's folders give; or, when
// a folder's name cannot be read, that folder.
func (a *Agent) presentNames(u sources.Update) (map[string]bool, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := map[string]bool{}
	for _, au := range u.Apps {
		st := a.apps[u.Source+"/"+au.App]
		if au.Revision == nil || st == nil {
			continue
		}
		if st.spec.name == "" {
			return nil, au.App
		}
		names[st.spec.name] = true
	}
	return names, ""
}

// depart records that id is absent from u, and reports whether its
// departure is new at u's commit.
func (a *Agent) depart(id reconcile.AppID, u sources.Update) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.departed[id]
	if d != nil && d.commit == u.Commit.SHA {
		return false
	}
	if d == nil {
		d = &departure{id: id, announced: map[string]bool{}}
		a.departed[id] = d
	}
	d.commit = u.Commit.SHA
	d.rewritten = u.Transition == sources.TransitionRewritten || u.Transition == sources.TransitionUnverified
	if st := a.gone[id]; st != nil {
		d.st = st
	}
	return true
}

// cameBack forgets the departure of id, whose name a folder gives again.
func (a *Agent) cameBack(id reconcile.AppID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.departed[id]; ok {
		a.log.Info("an application removed from Git is back", "source", id.Source, "app", id.Name)
		a.metrics.departed.DeleteLabelValues(id.Source, id.Name)
	}
	delete(a.departed, id)
	delete(a.gone, id)
}

// departureOf returns a copy of id's departure, or nil.
func (a *Agent) departureOf(id reconcile.AppID) *departure {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.departed[id]
	if d == nil {
		return nil
	}
	c := *d
	return &c
}

// noteDeparture updates what the API shows of id's departure and marks
// what was reported.
func (a *Agent) noteDeparture(id reconcile.AppID, change func(d *departure)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d := a.departed[id]; d != nil {
		change(d)
	}
}

// departed ends id's departure: nothing of it runs any more.
func (a *Agent) departedDone(id reconcile.AppID, commit string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d := a.departed[id]; d != nil && d.commit == commit {
		delete(a.departed, id)
		delete(a.gone, id)
	}
	a.metrics.departed.DeleteLabelValues(id.Source, id.Name)
}

// prune handles the queue key of a departed application: it reports the
// departure, or deletes what the application runs, environment by
// environment, the last in promotion order first.
func (a *Agent) prune(ctx context.Context, key string) error {
	id := deletedID(key)
	d := a.departureOf(id)
	if d == nil {
		return nil
	}
	deployed, err := a.opts.Journal.Deployed(id)
	if err != nil {
		return err
	}
	if len(deployed) == 0 {
		a.departedDone(id, d.commit)
		return nil
	}
	a.metrics.departed.WithLabelValues(id.Source, id.Name).Set(1)
	src := a.config().Source(id.Source)
	switch {
	case src == nil:
		return reconcile.Stalled(fmt.Errorf("source %s is no longer configured: %s, removed from Git, is left running", id.Source, id))
	case d.rewritten:
		a.reportDeparted(d, deployed, "removed from Git at "+reconcile.ShortRevision(d.commit)+
			", left running: the branch was rewritten (force push); a later commit without it deletes it")
		return nil
	case !src.Prune:
		a.reportDeparted(d, deployed, "removed from Git at "+reconcile.ShortRevision(d.commit)+
			", left running: pruning is off for source "+id.Source+" (sources[].prune in the agent configuration)")
		return nil
	}
	envs, err := a.lastRenderings(d, deployed)
	if err != nil {
		a.noteDeparture(id, func(x *departure) { x.message = "not deleted: " + err.Error() })
		return reconcile.Stalled(err)
	}
	for _, e := range envs {
		if err := a.deleteEnv(ctx, d, src, e); err != nil {
			return err
		}
	}
	a.departedDone(id, d.commit)
	return nil
}

// reportDeparted reports, once per commit, that d's application left Git
// and is left running in each environment it runs in.
func (a *Agent) reportDeparted(d *departure, deployed []reconcile.Deployed, message string) {
	a.noteDeparture(d.id, func(x *departure) { x.message = message })
	if d.reported == d.commit {
		return
	}
	for _, e := range deployed {
		a.events.Emit(reconcile.Event{Kind: reconcile.EventDeparted, App: d.id, Env: e.Env, Revision: d.commit, Message: message})
	}
	a.noteDeparture(d.id, func(x *departure) { x.reported = d.commit })
}

// envRendering is an environment to delete: the revision it runs,
// rendered, and its place in promotion order.
type envRendering struct {
	env      string
	revision string
	app      *spec.App
	rendered *spec.Rendered
	order    int
}

// lastRenderings renders, for each deployed environment, the revision the
// agent last deployed there, read again from the source, sorted the last
// in promotion order first.
func (a *Agent) lastRenderings(d *departure, deployed []reconcile.Deployed) ([]envRendering, error) {
	apps := map[string]*spec.App{}
	var out []envRendering
	for _, dep := range deployed {
		app := apps[dep.Revision]
		if app == nil {
			loaded, err := a.appAt(d, dep.Revision)
			if err != nil {
				return nil, fmt.Errorf("environment %s runs revision %s of %s, which cannot be read again: %w", dep.Env, reconcile.ShortRevision(dep.Revision), d.id, err)
			}
			app, apps[dep.Revision] = loaded, loaded
		}
		order := slices.IndexFunc(app.Spec.Environments, func(e spec.Environment) bool { return e.Name == dep.Env })
		if order < 0 {
			return nil, fmt.Errorf("revision %s of %s has no environment %s, which the journal says it ran in; delete its resources by hand", reconcile.ShortRevision(dep.Revision), d.id, dep.Env)
		}
		r, err := app.Render(dep.Env)
		if err != nil {
			return nil, fmt.Errorf("rendering environment %s of %s at %s: %w", dep.Env, d.id, reconcile.ShortRevision(dep.Revision), err)
		}
		out = append(out, envRendering{env: dep.Env, revision: dep.Revision, app: app, rendered: r, order: order})
	}
	slices.SortStableFunc(out, func(x, y envRendering) int { return cmp.Or(cmp.Compare(y.order, x.order), cmp.Compare(x.env, y.env)) })
	return out, nil
}

// appAt loads d's application at revision: from the revisions the agent
// kept in memory, or from the source's clone, in the folder the journal
// recorded.
func (a *Agent) appAt(d *departure, revision string) (*spec.App, error) {
	var rev *sources.Revision
	folder := ""
	if d.st != nil {
		folder = d.st.folder
		a.mu.Lock()
		rev = d.st.history[revision]
		a.mu.Unlock()
	}
	if folder == "" {
		rec, err := a.opts.Journal.App(d.id)
		if err != nil {
			return nil, err
		}
		folder = rec.Folder
	}
	if rev == nil && folder != "" && a.opts.History != nil {
		var err error
		if rev, err = a.opts.History.Revision(d.id.Source, folder, revision); err != nil {
			return nil, fmt.Errorf("reading folder %s: %w; restore the folder, or delete its resources by hand", folder, err)
		}
	}
	if rev == nil {
		return nil, errors.New("its folder is not known or the source keeps no history; restore the folder, or delete its resources by hand")
	}
	return spec.LoadFS(rev.Files, rev.App, a.specOptions()...)
}

// deleteEnv deletes what e's environment runs, target by target in
// reverse order, once tenancy allows it, then journals and reports the
// deletion.
func (a *Agent) deleteEnv(ctx context.Context, d *departure, src *config.Source, e envRendering) error {
	deps := deployments(a.config(), d.id.Source, e.app, e.rendered, e.revision)
	msg := "removed from Git at " + reconcile.ShortRevision(d.commit)
	if err := checkTenancy(src, deps); err != nil {
		a.events.Emit(reconcile.Event{Kind: reconcile.EventTenancyRefused, App: d.id, Env: e.env, Revision: d.commit,
			Message: msg + ", not deleted: refused: " + unwrapStalled(err).Error()})
		a.noteDeparture(d.id, func(x *departure) { x.message = msg + ", not deleted: " + unwrapStalled(err).Error() })
		return err
	}
	if !d.announced[e.env] {
		a.events.Emit(reconcile.Event{Kind: reconcile.EventDeleting, App: d.id, Env: e.env, Revision: d.commit, Message: msg + ", deleting"})
		a.noteDeparture(d.id, func(x *departure) { x.announced[e.env], x.message = true, msg+", deleting" })
	}
	if err := a.supersedeRunning(d, e.env); err != nil {
		return err
	}
	for i := len(deps) - 1; i >= 0; i-- {
		if err := a.deleteTarget(ctx, deps[i]); err != nil {
			return err
		}
	}
	if err := a.opts.Journal.RecordDeletion(d.id, e.env, d.commit); err != nil {
		return err
	}
	a.log.Info("deleted an application removed from Git", "source", d.id.Source, "app", d.id.Name, "env", e.env,
		"revision", reconcile.ShortRevision(e.revision), "commit", reconcile.ShortRevision(d.commit))
	a.events.Emit(reconcile.Event{Kind: reconcile.EventDeleted, App: d.id, Env: e.env, Revision: d.commit, Message: msg + ", deleted"})
	return nil
}

// supersedeRunning ends the environment's rollout when it still runs:
// its application has left Git.
func (a *Agent) supersedeRunning(d *departure, env string) error {
	cur, err := a.opts.Journal.Current(d.id, env)
	if err != nil || cur.State.Final() {
		return nil
	}
	_, err = a.opts.Journal.Finish(cur.ID, reconcile.RolloutSuperseded, "the application was removed from Git at "+reconcile.ShortRevision(d.commit))
	return err
}

// deleteTarget deletes one target through its platform's Deleter.
func (a *Agent) deleteTarget(ctx context.Context, dep *reconcile.Deployment) error {
	kind := dep.Target.Platform()
	p := a.opts.Platforms[kind]
	if p == nil {
		return reconcile.Stalled(fmt.Errorf("environment %s, target %s: this agent has no %s platform configured to delete it with", dep.Env, dep.Target.Name, kind))
	}
	dl, ok := p.(reconcile.Deleter)
	if !ok {
		return reconcile.Stalled(fmt.Errorf("environment %s, target %s: the %s platform cannot delete targets; delete it by hand", dep.Env, dep.Target.Name, kind))
	}
	if err := dl.Delete(ctx, dep); err != nil {
		return fmt.Errorf("deleting environment %s, target %s: %w", dep.Env, dep.Target.Name, err)
	}
	return nil
}

// departedSnapshots are the snapshots of the views of departed
// applications that the agent no longer has a folder of: the API shows
// them, with their departure as the error, until they are deleted. They
// are not cached (there are few). The caller holds a.mu.
func (a *Agent) departedSnapshots(source string, running map[reconcile.AppID][]string) []appSnapshot {
	var out []appSnapshot
	for id, d := range a.departed {
		if a.byID[id] != nil || (source != "" && id.Source != source) {
			continue
		}
		s := appSnapshot{id: id, source: id.Source, wanted: d.commit,
			envs: uniq(append(slices.Clone(a.envs[id]), running[id]...)), drift: a.drift, waiting: a.waiting, health: a.health}
		if d.st != nil {
			s = a.snapshot(d.st, running)
		}
		s.key, s.err = "", d.message
		out = append(out, s)
	}
	return out
}
