package reconcile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/spec"
)

// A failed rollout ends in one of three ways, and never stays pending:
// rolled back (every target that ran before runs its previous revision
// again, healthy, and new targets are removed), failed with what was done
// (a first deploy removed or kept, a manual policy, a rollback that could
// not make the previous revision healthy in time), or failed before it
// changed anything.

// Remover is a Platform that can remove a target's new version when there
// is no earlier version to return to: a failed first deploy.
type Remover interface {
	// Remove deletes what rollouts of the deployment's target created (for
	// Kubernetes the objects of its inventory; for ECS its services, their
	// autoscaling and the task definitions registered for the revision)
	// and nothing else. It is idempotent: removing what is gone is nil.
	Remove(ctx context.Context, d *Deployment) error
}

// TrafficReturner is a Platform that can undo a failed rollout of a
// strategy that shifts traffic on a target whose earlier revision is
// unknown (a drift correction, an unreadable history, resources that
// existed before Jibe): it returns all traffic to the version that ran
// before and removes the new version (a canary, a new blue/green slot)
// without that version's spec.
type TrafficReturner interface {
	// ReturnsTraffic reports whether ReturnTraffic can undo d, which has
	// no Previous: its strategy shifts traffic, and the platform ran the
	// new version beside the one that ran before.
	ReturnsTraffic(d *Deployment) bool
	// ReturnTraffic returns all of d's traffic to the version that ran
	// before and deletes what the rollout created for the new version
	// beside it, never that version; it returns Waiting until that
	// version is healthy. It is idempotent.
	ReturnTraffic(ctx context.Context, d *Deployment) error
}

// RollbackProgress is how far the rollback of a failed rollout has come,
// journaled so that a restarted agent resumes it.
type RollbackProgress struct {
	// Started is when the rollback started: the restored version has the
	// environment's rollbackTimeout from then to be healthy again.
	Started time.Time `json:"started,omitzero"`
	// Undone is set once every target is undone (traffic returned, the
	// previous revision re-applied, a first deploy removed); the rollback
	// then waits until the restored version is healthy.
	Undone bool `json:"undone,omitempty"`
}

// RollbackUndone records that every target of a rollout that is rolling
// back has been undone.
func (j *Journal) RollbackUndone(id string) (*Rollout, error) {
	return j.update(id, func(r *Rollout) error {
		if !r.RollingBack || r.State.Final() {
			return fmt.Errorf("rollout %s is not rolling back", id)
		}
		r.Rollback.Undone = true
		return nil
	})
}

// undoKind is what a rollback does to one target.
type undoKind int

const (
	// undoNothing: the rollout had not reached the target.
	undoNothing undoKind = iota
	// undoRestore: traffic and the previous revision are restored, and the
	// rollback waits until they are healthy.
	undoRestore
	// undoRemove: the target ran nothing before; its new version is
	// deleted.
	undoRemove
	// undoKeep: the target ran nothing before, and the environment keeps
	// a failed first deploy in place.
	undoKeep
	// undoUnknown: the target ran before, but no earlier revision of it is
	// known (a drift correction, a history that cannot be read, resources
	// that existed before Jibe) and its platform cannot return traffic
	// without it: it is left as it is.
	undoUnknown
	// undoTraffic: like undoUnknown, but the strategy shifts traffic and
	// the platform returns it to the version that ran before and removes
	// the new version (see TrafficReturner).
	undoTraffic
)

// undo is what a rollback does to one deployment.
type undo struct {
	kind undoKind
	d    *Deployment
}

// undos says what rolling r back does to each of deps, in reverse order
// of deployment.
func undos(r *Rollout, deps []*Deployment) []undo {
	out := make([]undo, 0, len(deps))
	for i := len(deps) - 1; i >= 0; i-- {
		out = append(out, undo{kind: undoOf(r, deps[i]), d: deps[i]})
	}
	return out
}

// undos is the function undos, with the targets whose earlier revision is
// unknown but whose platform can return traffic without it marked
// undoTraffic.
func (x *Executor) undos(r *Rollout, deps []*Deployment) []undo {
	return returning(undos(r, deps), func(d *Deployment) bool {
		tr, ok := x.platform(d).(TrafficReturner)
		return ok && d.Mode != spec.StrategyRolling && tr.ReturnsTraffic(d)
	})
}

// returning marks undoTraffic the undoUnknown of us that returns says
// can have their traffic returned.
func returning(us []undo, returns func(*Deployment) bool) []undo {
	for i, u := range us {
		if u.kind == undoUnknown && returns(u.d) {
			us[i].kind = undoTraffic
		}
	}
	return us
}

func undoOf(r *Rollout, d *Deployment) undoKind {
	changed, created := changesOf(r.Plan.Changes, d.Target.Name)
	switch {
	case !changed || !reached(r, d.Target.Name):
		return undoNothing
	case d.Previous != nil:
		return undoRestore
	case !created:
		return undoUnknown
	case d.Environment.FirstDeployFailure == spec.FirstDeployKeep:
		return undoKeep
	}
	return undoRemove
}

// reached reports whether r had come to target's first step, which may
// have written something.
func reached(r *Rollout, target string) bool {
	for i, s := range r.Plan.Steps {
		if s.Target == target {
			return i <= r.Next
		}
	}
	return false
}

// changesOf reports whether the rollout changes target, and whether it
// only creates its resources: nothing of it ran before.
func changesOf(changes []Change, target string) (changed, created bool) {
	created = true
	for _, c := range changes {
		if c.Target == target {
			changed = true
			created = created && c.Action == ActionCreate
		}
	}
	return changed, changed && created
}

// superseding returns the deployments whose traffic superseding r returns
// to the version that ran before, in reverse order of deployment: with a
// strategy that shifts traffic, those r reached that ran a version before
// it, whether its revision is known (restored) or not (the platform returns
// traffic as far as it can without it). A target r created is left to the
// newer revision, which applies over it.
func superseding(r *Rollout, deps []*Deployment) []*Deployment {
	if len(deps) == 0 || deps[0].Mode == spec.StrategyRolling {
		return nil
	}
	var out []*Deployment
	for _, u := range undos(r, deps) {
		if u.kind == undoRestore || u.kind == undoUnknown || u.kind == undoTraffic {
			out = append(out, u.d)
		}
	}
	return out
}

// restored returns the deployment of d's previous revision, whose health
// says whether a rollback is over.
func restored(d *Deployment) *Deployment {
	prev := *d
	prev.Target, prev.Revision, prev.Previous, prev.PreviousRevision = d.Previous, d.PreviousRevision, nil, ""
	return &prev
}

// fail ends the rollout after a failed step: at once when the policy is
// manual or nothing was changed, else by rolling back.
func (x *Executor) fail(ctx context.Context, r *Rollout, deps []*Deployment, reason string) (*Rollout, error) {
	if len(deps) == 0 {
		return x.finish(r, RolloutFailed, reason, EventFailed)
	}
	us := x.undos(r, deps)
	switch {
	case !has(us, undoRestore, undoRemove, undoKeep, undoUnknown, undoTraffic):
		return x.finish(r, RolloutFailed, "nothing was changed: "+reason, EventFailed)
	case deps[0].Environment.Rollback != spec.RollbackAutomatic:
		return x.finish(r, RolloutFailed, "left in place (rollback: manual): "+reason+"; revert or push a fix", EventFailed)
	}
	r, err := x.Journal.StartRollback(r.ID, reason)
	if err != nil {
		return r, err
	}
	if has(us, undoRestore) {
		x.emit(EventFailed, r, nil, "%s", reason)
	}
	return x.rollback(ctx, r, deps)
}

// rollback undoes every target (traffic first, in reverse order of
// deployment), waits until every restored target is healthy again, then
// ends the rollout. A wait or a transient error leaves the rollback
// journaled for the next Advance; a rollback that cannot succeed, or that
// outlasts the environment's rollbackTimeout, ends the rollout failed.
func (x *Executor) rollback(ctx context.Context, r *Rollout, deps []*Deployment) (*Rollout, error) {
	var err error
	if r.Rollback.Started.IsZero() { // journaled before rollbacks were timed
		if r, err = x.Journal.StartRollback(r.ID, r.Reason); err != nil {
			return r, err
		}
	}
	us := x.undos(r, deps)
	if len(kinds(us)) == 0 { // aborted before it changed anything
		return x.finish(r, RolloutFailed, "nothing was changed: "+r.Reason, EventFailed)
	}
	if !r.Rollback.Undone {
		if err := x.undoAll(ctx, us); err != nil {
			return x.rollbackError(r, us, err)
		}
		if r, err = x.Journal.RollbackUndone(r.ID); err != nil {
			return r, err
		}
	}
	if err := x.restoredHealth(ctx, r, us); err != nil {
		return x.rollbackError(r, us, err)
	}
	return x.endRollback(r, us)
}

func (x *Executor) undoAll(ctx context.Context, us []undo) error {
	for _, u := range us {
		if err := x.undoOne(ctx, u); err != nil {
			return fmt.Errorf("%s: %w", u.d.Target.Name, err)
		}
	}
	return nil
}

func (x *Executor) undoOne(ctx context.Context, u undo) error {
	if u.kind != undoRestore && u.kind != undoRemove && u.kind != undoTraffic {
		return nil
	}
	p := x.platform(u.d)
	if p == nil {
		return Stalled(errNoPlatform)
	}
	switch u.kind {
	case undoRestore:
		return p.Rollback(ctx, u.d)
	case undoTraffic:
		return p.(TrafficReturner).ReturnTraffic(ctx, u.d)
	}
	rm, ok := p.(Remover)
	if !ok {
		return Stalled(fmt.Errorf("the %s platform cannot remove a new version", u.d.Target.Platform()))
	}
	return rm.Remove(ctx, u.d)
}

// restoredHealth returns nil once every restored target is healthy, and
// Waiting meanwhile. A failed health is waited out too, until the
// rollback's timeout: right after a rollback, a platform may still report
// the failure of the version rolled back. A Deployment keeps its
// ProgressDeadlineExceeded condition until the restored ReplicaSet
// progresses, even once the controller has observed the rollback's
// generation: the restored pod template's ReplicaSet already exists, and
// the controller keeps a timed-out condition until it sees progress.
func (x *Executor) restoredHealth(ctx context.Context, r *Rollout, us []undo) error {
	for _, u := range us {
		if u.kind != undoRestore {
			continue
		}
		p := x.platform(u.d)
		h, err := p.Health(ctx, restored(u.d))
		switch {
		case err != nil:
			return fmt.Errorf("%s: reading its health: %w", u.d.Target.Name, err)
		case h.State != HealthHealthy:
			return x.healthWait(p, r, fmt.Sprintf("waiting for %s to be healthy again: %s", u.d.Target.Name, h.Reason))
		}
	}
	return nil
}

// rollbackError ends the rollout failed when err cannot pass (it is
// stalled, or the rollback has outlasted its timeout); otherwise the
// rollout keeps rolling back, and err says when to come back.
func (x *Executor) rollbackError(r *Rollout, us []undo, err error) (*Rollout, error) {
	timeout := rollbackTimeout(us)
	switch {
	case PolicyOf(err) == PolicyStall:
		return x.finish(r, RolloutFailed, rollbackFailed(r, us, err.Error()), EventFailed)
	case x.now().Sub(r.Rollback.Started) >= timeout:
		why := fmt.Sprintf("not over after %s: %v", timeout, err)
		return x.finish(r, RolloutFailed, rollbackFailed(r, us, why), EventFailed)
	case PolicyOf(err) == PolicyRequeue:
		x.emit(EventWaiting, r, nil, "failed, %s: %v", rollingBack(us), err)
	}
	return r, fmt.Errorf("%s: %w", rollingBack(us), err)
}

// rollbackTimeout is how long the environment's rollback may take.
func rollbackTimeout(us []undo) time.Duration {
	if len(us) > 0 && us[0].d.Environment.RollbackTimeout != nil {
		return us[0].d.Environment.RollbackTimeout.Duration
	}
	return spec.DefaultRollbackTimeout
}

// endRollback ends a rollback that is over: rolled back when every target
// that ran before runs its previous revision again, failed with what was
// done otherwise.
func (x *Executor) endRollback(r *Rollout, us []undo) (*Rollout, error) {
	if has(us, undoRestore) && !has(us, undoKeep, undoUnknown, undoTraffic) {
		reason := r.Reason
		if names := targets(us, undoRemove); len(names) > 0 {
			reason += "; removed new target(s) " + strings.Join(names, ", ")
		}
		return x.finish(r, RolloutRolledBack, reason, EventRolledBack)
	}
	return x.finish(r, RolloutFailed, outcome(r, us), EventFailed)
}

// outcome says what a rollback without a full restore did, why, and what
// to do next, e.g. "first deploy removed (nothing to roll back to): check
// smoke failed: status 503, want 200; push a fix".
func outcome(r *Rollout, us []undo) string {
	var parts []string
	only := len(kinds(us)) == 1
	add := func(kind undoKind, all, some string) {
		if names := targets(us, kind); len(names) > 0 && only {
			parts = append(parts, all)
		} else if len(names) > 0 {
			parts = append(parts, fmt.Sprintf(some, strings.Join(names, ", ")))
		}
	}
	add(undoRestore, "rolled back to "+ShortRevision(previousRevision(us)), "%s rolled back to "+ShortRevision(previousRevision(us)))
	add(undoRemove, "first deploy removed (nothing to roll back to)", "new target %s removed (nothing to roll back to)")
	add(undoKeep, "first deploy kept in place (firstDeployFailure: keep)", "new target %s kept in place (firstDeployFailure: keep)")
	unknown := "no earlier revision is known to roll back to"
	if r.Correction {
		unknown = "a drift correction has no earlier revision to roll back to"
	}
	add(undoUnknown, "left in place ("+unknown+")", "%s left in place ("+unknown+")")
	returned := "traffic back on the version that ran before (" + unknown + ")"
	add(undoTraffic, newVersion(us)+" removed, "+returned, "%s: "+newVersion(us)+" removed, "+returned)
	next := "push a fix"
	if has(us, undoKeep) {
		next = "push a fix, or delete it by hand"
	}
	return strings.Join(parts, ", ") + ": " + r.Reason + "; " + next
}

// newVersion names what a strategy that shifts traffic runs the new
// version as.
func newVersion(us []undo) string {
	for _, u := range us {
		if u.kind == undoTraffic && u.d.Mode == spec.StrategyCanary {
			return "canary"
		}
	}
	return "new version"
}

// rollbackFailed says that the rollback failed, why, and why the rollout
// had failed.
func rollbackFailed(r *Rollout, us []undo, why string) string {
	what := "rollback to " + ShortRevision(previousRevision(us))
	switch {
	case has(us, undoRestore):
	case has(us, undoTraffic):
		what = "returning traffic to the version that ran before"
	default:
		what = "removing the first deploy"
	}
	return fmt.Sprintf("%s failed (%s): %s; fix it by hand or push a fix", what, why, r.Reason)
}

// rollingBack says what the rollback is doing, for waits.
func rollingBack(us []undo) string {
	switch {
	case has(us, undoRestore):
		return "rolling back to " + ShortRevision(previousRevision(us))
	case has(us, undoTraffic):
		return "returning traffic to the version that ran before"
	}
	return "removing the first deploy"
}

func previousRevision(us []undo) string {
	for _, u := range us {
		if u.kind == undoRestore {
			return u.d.PreviousRevision
		}
	}
	return ""
}

// any reports whether some undo is of one of kinds.
func has(us []undo, kinds ...undoKind) bool {
	for _, u := range us {
		for _, k := range kinds {
			if u.kind == k {
				return true
			}
		}
	}
	return false
}

// kinds returns the kinds of undo other than undoNothing, once each.
func kinds(us []undo) map[undoKind]bool {
	out := map[undoKind]bool{}
	for _, u := range us {
		if u.kind != undoNothing {
			out[u.kind] = true
		}
	}
	return out
}

// targets returns the names of the targets undone by kind, in deployment
// order.
func targets(us []undo, kind undoKind) []string {
	var out []string
	for i := len(us) - 1; i >= 0; i-- {
		if us[i].kind == kind {
			out = append(out, us[i].d.Target.Name)
		}
	}
	return out
}
